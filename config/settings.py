"""Dateline settings: one module, driven by the environment (DESIGN.md).

Secure by default: DEBUG is off unless DJANGO_DEBUG says otherwise, and with
DEBUG off the site refuses to start without DJANGO_SECRET_KEY.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DATELINE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


DEBUG = env_bool("DJANGO_DEBUG")

# The environment wins; a local install (`make run`) keeps a generated key in
# var/secret_key. With neither, production refuses to start.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY and (VAR_DIR / "secret_key").is_file():
    SECRET_KEY = (VAR_DIR / "secret_key").read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string in the "
            "environment (`make run` keeps one in var/secret_key), or set "
            "DJANGO_DEBUG=1 for a throwaway development key."
        )
    SECRET_KEY = "insecure-development-key-do-not-deploy"  # noqa: S105

# SITE_URL is the public address (https://news.example.org) used for absolute
# URLs in feeds, sitemaps and metadata when Dateline runs behind a proxy.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
_site = urlsplit(SITE_URL)
if SITE_URL and (_site.scheme not in {"http", "https"} or not _site.hostname):
    raise ImproperlyConfigured(
        f"SITE_URL must look like https://example.org, not {SITE_URL!r}."
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
# Loopback always answers, so a container's own health check reaches
# /healthz whatever public names are configured.
for _host in ("127.0.0.1", "localhost", "[::1]", _site.hostname):
    if _host and _host not in ALLOWED_HOSTS:
        ALLOWED_HOSTS.append(_host)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
if SITE_URL and SITE_URL not in CSRF_TRUSTED_ORIGINS:
    CSRF_TRUSTED_ORIGINS.append(f"{_site.scheme}://{_site.netloc}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "taggit",
    "blog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "blog.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "blog.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'dateline.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets gunicorn workers read while the admin writes; IMMEDIATE makes a
    # writer wait for the lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "dateline",
            "TIMEOUT": 60 * 60,
        }
    }
else:
    # Page and feed cache keys carry a validator read from the database on
    # every request (blog/caching.py), so a per-process cache never serves a
    # stale page: it only saves rendering work.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "TIMEOUT": 60 * 60,
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    }

# DATELINE_CACHE=off turns every cache alias into a DummyCache: `make bench`
# measures the render path that way (issue 8). Keep this after every alias.
if os.environ.get("DATELINE_CACHE", "on").strip().lower() == "off":
    CACHES = {
        alias: {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
        for alias in CACHES
    }

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = os.environ.get("DJANGO_LANGUAGE_CODE", "en")
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DATELINE_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Hashed static names never change content, so browsers may keep them a year.
WHITENOISE_MAX_AGE = 60 * 60 * 24 * 365

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Tags are typed as comma-separated names; "iran" finds the existing "Iran".
TAGGIT_CASE_INSENSITIVE = True
TAGGIT_TAGS_FROM_STRING = "blog.tagging.parse_tags"
TAGGIT_STRING_FROM_TAGS = "blog.tagging.format_tags"

# HTTPS hardening follows SITE_URL, so the same settings serve plain HTTP on
# 127.0.0.1 for `make run` and the tests (DESIGN.md, Configuration).
HTTPS = _site.scheme == "https"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    },
    "loggers": {"django.request": {"level": "ERROR"}},
}

# Dateline's own knobs.
DATELINE = {
    "SITE_NAME": os.environ.get("DATELINE_SITE_NAME", "Dateline"),
    "SITE_DESCRIPTION": os.environ.get(
        "DATELINE_SITE_DESCRIPTION",
        "News, analysis and living stories from the Dateline desk.",
    ),
    "PAGE_SIZE": int(os.environ.get("DATELINE_PAGE_SIZE", "12")),
    "FEED_ITEMS": int(os.environ.get("DATELINE_FEED_ITEMS", "20")),
    # How long a shared cache (CDN) may hold a page or feed before asking again.
    "CDN_MAX_AGE": int(os.environ.get("DATELINE_CDN_MAX_AGE", "60")),
    "WEBSUB_HUB": os.environ.get("WEBSUB_HUB", ""),
    "SERVE_MEDIA": env_bool("DATELINE_SERVE_MEDIA", True),
}
