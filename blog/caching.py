"""Caching, the whole story: validators, conditional GET, the page cache, and
what invalidates what.

**Validators.** Every cacheable view names a validator: a function of the URL
that reads, in one indexed query, the newest change among the rows the page
shows (`newest_change`). Listings declare theirs (blog/listings.py:
`Listing.changed`); pages that show a bit of everything (archives, search,
sitemaps) use `site_changed`. ETag, Last-Modified and the cache key all
derive from it, with the code and settings fingerprints, so:

- `If-None-Match` / `If-Modified-Since` get a 304 before the view runs;
- an edit changes the validator, hence the key, on the very next request in
  every worker and machine, whatever the cache backend (Redis shared by all,
  or a per-process cache that can then only ever miss): nothing is deleted;
- a scheduled post or story update going live moves the validator by itself
  (its `published_at` counts once due): no job, no cron.

**What moves which validator (precise invalidation, issue 8).** A post's own
save moves its `updated_at`: its article, the home page and the section and
tag listings and feeds it is in change; no other article does. A story update
moves its post's `updated_at` (`story_updated` below) the same way. An
article's secondary blocks (related posts, previous/next) show other posts:
its validator counts site-wide changes only up to the last whole CDN max-age
(`lagging`), so they lag by at most that and every article is not re-rendered
on every edit. What leaves no newer row behind — a post unpublished, deleted,
moved to another section or re-tagged, a section or tag renamed, an author
renamed — touches `SiteState`, which every validator reads (receivers below).
A correction note moves its post's `updated_at` (blog/corrections.py), as a
story update does; a retraction takes the post out of its listings, so it
touches `SiteState`, as does any later change to a retracted post (its 410
notice). A pin in force, or the end of one, is a change of the home or
section page: setting one saves the post; its expiry counts in those pages'
validators once the time has passed (`pin_field`), like a scheduled post.

**Who bypasses.** Only a valid staff session (an editor previewing drafts)
skips the cache, with never-cache headers; any other cookie, even a
made-up `sessionid`, gets the cached public page (issue 9).

**Keys are host-safe.** Absolute URLs come from SITE_URL when set, else from
the request's host, which Django validates against ALLOWED_HOSTS; the key and
the ETag carry that origin, so one Host cannot poison another's pages
(issue 9).
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import connection
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Now
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.http import QueryDict
from django.utils import timezone
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date

from blog.models import (
    Author,
    Byline,
    Page,
    Post,
    Section,
    SiteState,
    StoryUpdate,
    Tag,
    TaggedPost,
)

# The SiteState time the current request's validator read, if it read one:
# what was read for the validator can key per-process memos (`nav_sections`).
SITE_STATE: contextvars.ContextVar[datetime | None] = contextvars.ContextVar(
    "site_state", default=None
)

CODE_FOLDERS = (
    ("blog", "*.py"),
    ("templates", "*.html"),
    ("static", "*.*"),
    ("locale", "*.mo"),  # a corrected translation is a new representation
)


def _code_files():
    root = Path(settings.BASE_DIR)
    for folder, pattern in CODE_FOLDERS:
        for path in sorted((root / folder).rglob(pattern)):
            yield root, path


@functools.cache
def code_fingerprint() -> str:
    """A hash of the code and templates that render pages, read once per
    process: a new release never serves (or 304s) what the old one cached,
    and two machines running the same release agree."""
    digest = hashlib.blake2b(digest_size=8)
    for root, path in _code_files():
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.cache
def code_modified() -> datetime:
    """When that code last changed: the floor of every Last-Modified, so a
    client revalidating by date alone also refetches after a release."""
    newest = max(path.stat().st_mtime for _, path in _code_files())
    return datetime.fromtimestamp(newest, tz=UTC)


def _newest_post_change(posts, until=None) -> dict:
    # Due-ness is judged by the database clock (Now()), so the compiled query
    # holds no time of its own and can be reused (`_compiled`).
    updated = posts.marked_published()
    published = posts.marked_published().filter(published_at__lte=Now())
    if until is not None:
        updated = updated.filter(updated_at__lte=until)
        published = published.filter(published_at__lte=until)
    return {
        "updated": updated.order_by("-updated_at").values("updated_at")[:1],
        "published": published.order_by("-published_at").values("published_at")[:1],
    }


def lag_cutoff() -> datetime:
    """The start of the current CDN max-age period: site-wide changes made
    before it reach lagging validators, later ones wait for the next period."""
    period = max(settings.DATELINE["CDN_MAX_AGE"], 1)
    now = timezone.now().timestamp()
    return datetime.fromtimestamp(now - now % period, tz=UTC)


# Compiled validator queries by shape: composing one through the ORM costs
# ~1.5-9 ms, running it ~0.01-0.1 ms, and it runs on every request. The SQL is
# compiled once per shape (an article's validator, a section's, a tag
# intersection of two tags…) with stand-in arguments, and each request puts its
# own slug(s) and lag cutoff into the parameter list: keyed by slug and cutoff
# as it was, every article recompiled its validator once per CDN max-age in
# every worker (1,000 articles: ~9 s of CPU a minute per worker, issue 8).
_compiled: dict[tuple, tuple[str, list, list]] = {}
MAX_COMPILED = 4096
_STAND_INS = (("~dateline~a~%d", datetime(2001, 1, 1, tzinfo=UTC)),
              ("~dateline~b~%d", datetime(2002, 2, 2, tzinfo=UTC)))  # fmt: skip


def _as_datetime(value):
    """A column read by the bare cursor: SQLite gives naive UTC (or text)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _validator_sql(
    listing, updates=None, cutoff=None, pin_field=None
) -> tuple[str, list]:
    """The one query behind `newest_change`, compiled. `listing`: its posts,
    or the two parts `_newest_post_change` would read from them, read another
    way (a tag's own rows, blog/tag_dates.tag_changes)."""
    parts = listing if isinstance(listing, dict) else _newest_post_change(listing)
    newest = {f"post_{k}": v for k, v in parts.items()}
    if updates is not None:
        # Walk the updates newest first (their published_at index) and check
        # each one's post: joined instead, SQLite walked every public post and
        # sorted their updates (70 ms at 100,000 posts, issue 8).
        public = Post.objects.published().filter(pk=OuterRef("post_id"))
        due = updates.filter(published_at__lte=Now()).filter(Exists(public))
        newest["update_published"] = due.order_by("-published_at").values(
            "published_at"
        )[:1]
    if pin_field is not None:
        # A pin that has expired changes the page, like a scheduled post due.
        expired = listing.filter(**{f"{pin_field}__lte": Now()})
        newest["pin_expired"] = expired.order_by(f"-{pin_field}").values(pin_field)[:1]
    if cutoff is not None:
        site = _newest_post_change(Post.objects.all(), until=cutoff)
        newest.update({f"site_{k}": v for k, v in site.items()})
    query = (
        SiteState.objects.filter(pk=1)
        .annotate(**{name: Subquery(q) for name, q in newest.items()})
        .values("changed_at", *newest)
    )
    sql, params = query.query.sql_with_params()
    return sql, list(params)


def _template(build, n_args: int, lagging: bool, pin_field=None):
    """`build`'s validator SQL with the positions of its arguments in the
    parameter list: [(position, argument index or -1 for the cutoff)]. None
    when the stand-ins do not come back verbatim (then it is compiled per
    request, which is correct, only slower)."""
    (a, cut_a), (b, cut_b) = _STAND_INS
    args_a = [a % i for i in range(n_args)]
    cutoff_a = cut_a if lagging else None
    sql, base = _validator_sql(*build(*args_a), cutoff_a, pin_field)
    variants = []
    for i in range(n_args):
        other = list(args_a)
        other[i] = b % i
        variants.append(
            (i, args_a[i], _validator_sql(*build(*other), cutoff_a, pin_field))
        )
    if lagging:
        adapted = connection.ops.adapt_datetimefield_value(cut_a)
        variants.append(
            (-1, adapted, _validator_sql(*build(*args_a), cut_b, pin_field))
        )
    slots = []
    for index, expected, (other_sql, other_params) in variants:
        if other_sql != sql or len(other_params) != len(base):
            return None
        moved = [
            p for p, (x, y) in enumerate(zip(base, other_params, strict=True)) if x != y
        ]
        if not moved or any(base[p] != expected for p in moved):
            return None
        slots += [(p, index) for p in moved]
    return sql, base, slots


def changed_for(shape, build, *args, lagging=False, pin_field=None) -> datetime:
    """Newest change of the listing `build(*args)` returns as (posts, story
    updates or None) — see `newest_change` — compiled once per `shape`."""
    memo_key = (connection.vendor, shape, len(args), lagging, pin_field)
    template = _compiled.get(memo_key)
    if template is None:
        template = _template(build, len(args), lagging, pin_field) or (
            None,
            None,
            None,
        )
        if len(_compiled) >= MAX_COMPILED:
            _compiled.clear()
        _compiled[memo_key] = template
    sql, params, slots = template
    cutoff = lag_cutoff() if lagging else None
    if sql is None:
        return _run_validator(_validator_sql(*build(*args), cutoff, pin_field))
    params = list(params)
    values = list(args)
    if lagging:
        values.append(connection.ops.adapt_datetimefield_value(cutoff))
    for position, index in slots:
        params[position] = values[index]
    return _run_validator((sql, params))


def _validator_cursor():
    """A cursor for the validator. On PostgreSQL its statements are bound on
    the server, so the database prepares each shape once per connection and
    then skips planning it (blog/postgresql): planning the article's validator
    cost ~1.4 ms of the database's time on every request, running it ~0.2 ms
    (issue 8). SQLite keeps its statements prepared by itself."""
    prepared = getattr(connection, "prepared_cursor", None)
    return prepared() if prepared is not None else connection.cursor()


def _run_validator(compiled) -> datetime:
    with _validator_cursor() as cursor:
        cursor.execute(*compiled)
        row = cursor.fetchone()
    if row is None:  # migrate makes the row; a bare flush can lose it
        SiteState.touch()
        return _run_validator(compiled)
    values = [_as_datetime(value) for value in row]
    SITE_STATE.set(values[0])
    return max(value for value in values if value is not None)


def newest_change(listing, updates=None, lagging=False, pin_field=None) -> datetime:
    """Newest change in a listing of posts (a Post queryset, not yet limited to
    published()), its due story `updates`, site-wide removals or renames
    (SiteState) and, if `lagging`, any post's change up to `lag_cutoff()` —
    in a single query. On hot paths use `changed_for`, which compiles it once.

    Each part is an ORDER BY … LIMIT 1 that an index answers, so the cost does
    not grow with the archive. Edits to scheduled posts count too: that only
    refreshes a page a little early, while reading updated_at among due posts
    alone would need a scan.
    """
    cutoff = lag_cutoff() if lagging else None
    return _run_validator(_validator_sql(listing, updates, cutoff, pin_field))


def _site(*args):
    return Post.objects.all(), StoryUpdate.objects.all()


def _story(slug):
    return Post.objects.filter(slug=slug), StoryUpdate.objects.filter(post__slug=slug)


def site_changed(request, *args, **kwargs) -> datetime:
    """Validator of pages that show a bit of everything (archives, search,
    sitemaps)."""
    return changed_for("site", _site)


def structure_changed_at(request, *args, **kwargs) -> datetime:
    """Validator of pages that show no posts (static pages): SiteState alone,
    which every page, section, tag or author change moves."""
    changed = SiteState.objects.filter(pk=1).values_list("changed_at", flat=True)
    changed = changed.first()
    if changed is None:  # migrate makes the row; a bare flush can lose it
        SiteState.touch()
        return structure_changed_at(request)
    SITE_STATE.set(changed)
    return changed


def story_changed(slug: str) -> datetime:
    """Validator of an article and its story feeds: its own post and due
    updates now, the rest of the site (related posts, previous/next) lagging."""
    return changed_for("story", _story, slug, lagging=True)


_nav_memo: tuple[datetime | None, list] = (None, [])


def nav_sections() -> list[Section]:
    """The sections for the navigation. Any section change touches SiteState,
    so when this request's validator read it, the list is memoised per process
    under that time: no query on the render path of cached views."""
    global _nav_memo
    state = SITE_STATE.get()
    if state is not None and _nav_memo[0] == state:
        return _nav_memo[1]
    sections = list(Section.objects.all())
    if state is not None:
        _nav_memo = (state, sections)
    return sections


@functools.cache
def settings_fingerprint() -> str:
    """The settings that change what pages say (page size, feed length,
    names, public address, time zone): changing one is a new representation.
    Read once per process (every request's ETag needs it)."""
    relevant = (
        sorted(settings.DATELINE.items()),
        settings.SITE_URL,
        settings.TIME_ZONE,
        settings.LANGUAGE_CODE,
    )
    return hashlib.blake2b(repr(relevant).encode(), digest_size=8).hexdigest()


@receiver(setting_changed)
def _settings_changed(**kwargs):
    settings_fingerprint.cache_clear()


def _etag(changed: datetime, variant: str = "") -> str:
    raw = (
        f"{code_fingerprint()}|{settings_fingerprint()}|{changed.isoformat()}|{variant}"
    )
    return '"' + hashlib.blake2b(raw.encode(), digest_size=12).hexdigest() + '"'


def is_editor(request) -> bool:
    """A valid staff session. The cookie alone proves nothing (`sessionid=x`):
    only requests carrying one pay for the session and user lookup."""
    return settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_staff


def public_origin(request) -> str:
    """Scheme and host of the absolute URLs a page carries: SITE_URL when set,
    else the request's host, which get_host() checks against ALLOWED_HOSTS
    (a disallowed one is a 400 before anything is cached)."""
    return settings.SITE_URL or f"{request.scheme}://{request.get_host()}"


# The only query parameters public views read; the cache key (and the links
# pages render) ignore the rest, so ?utm_source=… cannot multiply entries.
PAGE_PARAMS = ("page", "q", "p")  # p: sitemap pages


def page_params(request) -> QueryDict:
    """The request's query string, reduced to the parameters views read."""
    params = QueryDict(mutable=True)
    for name in PAGE_PARAMS:
        if name in request.GET:
            params.setlist(name, request.GET.getlist(name)[:1])
    return params


def public_cache(validator=site_changed, variant=None):
    """Serve a view conditionally and from the shared cache to anonymous readers.

    Editors (`is_editor`) skip the cache and get never-cache headers, so a
    staff preview of a draft is never stored anywhere. `variant(request)`
    names the representation when a view answers the same URL in more than
    one way (feeds: for a browser or for a reader); it goes into the ETag and
    the cache key, and the response varies on Accept. Every GET or HEAD, an
    editor's too, starts with no SiteState time (`SITE_STATE`) and leaves
    none behind: only a time its own validator read keys a memo.
    """
    vary = ["Cookie", "Accept"] if variant else ["Cookie"]

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in {"GET", "HEAD"}:
                return view(request, *args, **kwargs)
            # No SiteState time left by earlier code (a validator run outside
            # a request) keys what this request remembers: only its own.
            token = SITE_STATE.set(None)
            try:
                if is_editor(request):
                    response = view(request, *args, **kwargs)
                    add_never_cache_headers(response)
                    patch_vary_headers(response, ["Cookie"])
                    return response
                return serve(request, view, validator, variant, vary, args, kwargs)
            finally:
                SITE_STATE.reset(token)

        return wrapped

    return decorator


def one_piece(response) -> None:
    """Join a response written in pieces into one. Feeds are written element
    by element (`response.write`, about a thousand pieces for 20 items), and a
    WSGI server sends each piece with its own socket write: the cached RSS and
    Atom feeds ran at a third of the JSON feed's rate (one piece) until joined.
    Done once, before caching, so every hit is one piece too."""
    if not response.streaming:
        response.content = response.content


def _cache_get(key):
    """A page by its key. The key derives from the page's validator (and the
    code, settings, origin, variant and address), so what is stored under it
    never changes: a shared backend may keep its own copy in each process
    (blog/cache_backends.py `get_lasting`) and skip the round trip."""
    get = getattr(cache, "get_lasting", None) or cache.get
    return get(key)


def _cache_set(key, response) -> None:
    getattr(cache, "set_lasting", cache.set)(key, response)


def _page_key(etag: str, request) -> str:
    query = page_params(request).urlencode() if request.META.get("QUERY_STRING") else ""
    address = f"{etag}|{request.path}?{query}"
    return "page:" + hashlib.blake2b(address.encode(), digest_size=16).hexdigest()


def _mark(response, etag: str, changed: datetime, vary) -> None:
    """The headers every public response carries: its validators, how long
    caches may keep it, and what it varies on."""
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(changed.timestamp())
    patch_cache_control(
        response,
        public=True,
        max_age=0,
        s_maxage=settings.DATELINE["CDN_MAX_AGE"],
        must_revalidate=True,
    )
    patch_vary_headers(response, vary)


def serve(request, view, validator, variant, vary, args, kwargs):
    """Conditional GET, then the shared cache, then the view.

    A page is stored with its headers (`_mark`): they derive from the ETag,
    which its key derives from, so a hit is served as it was stored."""
    origin = public_origin(request)
    changed = max(validator(request, *args, **kwargs), code_modified())
    etag = _etag(changed, f"{origin}|{variant(request) if variant else ''}")
    response = get_conditional_response(
        request, etag=etag, last_modified=int(changed.timestamp())
    )
    if response is not None:  # 304 (or 412)
        _mark(response, etag, changed, vary)
        return response
    key = _page_key(etag, request)
    response = _cache_get(key)
    if response is None:
        response = view(request, *args, **kwargs)
        if hasattr(response, "render"):
            response = response.render()
        if response.status_code not in (200, 410):  # 410: a retraction
            return response
        one_piece(response)
        _mark(response, etag, changed, vary)
        _cache_set(key, response)
    return response


# -- Invalidation: what leaves no newer row behind touches SiteState ----------


@receiver(post_save, sender=Post)
def post_saved(sender, instance, created, raw=False, **kwargs):
    """A post that leaves its listings (unpublished, moved to another section)."""
    if raw:
        return
    was_live = instance.was_live_when_loaded()
    if was_live and (
        not instance.is_live or instance.loaded("section_id") != instance.section_id
    ):
        SiteState.touch()
    elif Post.Status.RETRACTED in {instance.status, instance.loaded("status")}:
        # A retraction notice's text, or a retraction undone.
        SiteState.touch()


@receiver(post_delete, sender=Post)
@receiver(post_save, sender=Section)
@receiver(post_delete, sender=Section)
@receiver(post_save, sender=Tag)
@receiver(post_delete, sender=Tag)
@receiver(post_save, sender=Page)  # the footer of every page lists them
@receiver(post_delete, sender=Page)
def structure_changed(sender, raw=False, **kwargs):
    if not raw:
        SiteState.touch()


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def author_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    """Bylines show authors' names: a rename reaches every page and feed. A
    login (which only stamps last_login) does not count."""
    if (
        not raw
        and update_fields != frozenset({"last_login"})
        and instance.posts.exists()
    ):
        SiteState.touch()


@receiver(post_save, sender=Author)
@receiver(post_delete, sender=Author)
def author_profile_saved(sender, raw=False, **kwargs):
    """An author's name or slug is on every byline of theirs."""
    if not raw:
        SiteState.touch()


@receiver(post_save, sender=Byline)
@receiver(post_delete, sender=Byline)
def byline_changed(sender, instance, raw=False, created=False, **kwargs):
    """A credit added, moved or removed changes its post (pages and feeds);
    one moved or removed also leaves an author's listing."""
    if raw:
        return
    Post.objects.filter(pk=instance.post_id).update(updated_at=timezone.now())
    if not created:
        SiteState.touch()


@receiver(m2m_changed, sender=TaggedPost)
def tags_changed(sender, action, pk_set=None, **kwargs):
    # A tag added without saving the post would not move the post's own
    # updated_at, so additions count here as well as removals.
    if action == "post_clear" or (action in {"post_add", "post_remove"} and pk_set):
        SiteState.touch()


@receiver(post_save, sender=StoryUpdate)
@receiver(post_delete, sender=StoryUpdate)
def story_updated(sender, instance, raw=False, **kwargs):
    """A story update changes its post: its article, listings and feeds."""
    if not raw:
        Post.objects.filter(pk=instance.post_id).update(updated_at=timezone.now())
