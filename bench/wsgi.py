"""gunicorn entry point for the breaking-news scenario: Dateline's own WSGI
application, plus an `X-Bench-Cache: hit|miss` response header so the load
generator can count the cache hit rate without any change to the app.

A request that writes to a cache (the page or feed it just rendered) is a
miss; one that writes nothing was served from the cache or answered 304.
With every alias a DummyCache, every rendered page still calls set(), so the
render path counts as all misses, as it should. Bench-only: never deployed.
"""

from django.conf import settings
from django.core.cache import caches

from config.wsgi import application as django_application

_writes = 0


def _counting(method):
    def wrapper(*args, **kwargs):
        global _writes
        _writes += 1
        return method(*args, **kwargs)

    wrapper.bench_counting = True
    return wrapper


for _alias in settings.CACHES:
    _backend = type(caches[_alias])
    # set_lasting: pages on a shared cache (blog/cache_backends.py).
    for _name in ("set", "add", "set_many", "set_lasting"):
        _method = getattr(_backend, _name, None)
        if _method is not None and not getattr(_method, "bench_counting", False):
            setattr(_backend, _name, _counting(_method))


def application(environ, start_response):
    global _writes
    _writes = 0

    def start(status, headers, exc_info=None):
        # Django calls this after the view (and any cache write) has run.
        headers.append(("X-Bench-Cache", "miss" if _writes else "hit"))
        return start_response(status, headers, exc_info)

    return django_application(environ, start)
