-- bench/urls.lua, plus a count of X-Bench-Cache hits and misses (the
-- breaking-news run's hit rate). Defining response() makes wrk read every body
-- into Lua, so only the run that needs the count uses this script.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "urls.lua")

function response(status, headers, body)
  local cache = headers["X-Bench-Cache"]
  if cache == "hit" then hits = hits + 1 elseif cache == "miss" then misses = misses + 1 end
end
