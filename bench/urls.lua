-- wrk script for `make bench`: each request takes the next path from a list
-- (one per line, the file named after `--`), so a row can spread over many
-- articles; prints one JSON line. It reads no response: a script that defines
-- response() makes wrk copy every body into Lua (a 230 kB feed cost wrk about
-- twice the CPU, on the cores the server shares). bench/counting.lua adds the
-- count of X-Bench-Cache hits and misses for the breaking-news run.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  -- Each thread starts somewhere else in the list.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
  index = math.random(#paths)
  hits, misses = 0, 0
end

function request()
  index = index % #paths + 1
  return wrk.format(nil, paths[index])
end

function done(summary, latency, requests)
  local h, m = 0, 0
  for _, thread in ipairs(threads) do
    h = h + thread:get("hits")
    m = m + thread:get("misses")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, ' ..
    '"errors": %d, "non_2xx_3xx": %d, "hits": %d, "misses": %d}\n',
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status, h, m))
end
