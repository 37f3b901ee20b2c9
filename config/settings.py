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
    "blog.apps.NewsroomAdminConfig",  # django.contrib.admin with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "taggit",
    "reversion",  # post revisions (blog/revisions.py)
    "blog.apps.LoginAttemptsConfig",  # axes, named in our language
    "django_otp",
    "blog.apps.AuthenticatorsConfig",  # django_otp.plugins.otp_totp, likewise
    "django_tasks",
    "blog.apps.JobQueueConfig",  # django_tasks_db, named in our language
    "blog",
]

MIDDLEWARE = [
    "blog.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Old addresses of an imported site answer 301 (blog/legacy.py).
    "blog.legacy.LegacyAddressMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "blog.middleware.ContentSecurityPolicyMiddleware",
    # Axes reads the outcome of a login the views below it produced.
    "axes.middleware.AxesMiddleware",
    # Innermost: turns a database failure in a view into a stale copy or 503.
    "blog.degrade.DatabaseOutageMiddleware",
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
        # A reused connection left dead by a database restart is replaced
        # without failing the request (issue 11). On PostgreSQL that costs no
        # round trip: the request's first read runs at once and, only if it
        # finds the connection dead, again on a new one (blog/postgresql,
        # issue 8). DATABASE_HEALTH_CHECKS=0 turns the replacement off: one
        # failed request (stale copy or 503) per worker after a restart.
        conn_health_checks=os.environ.get("DATABASE_HEALTH_CHECKS", "1") != "0",
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

# A database that stops answering must cost a reader seconds, not a worker
# (issue 11): connecting, each statement on the server, and each round trip
# seen from here are bounded; DATABASE_STATEMENT_TIMEOUT=0 lifts the last two
# (long migrations on a large archive).
DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3"))
DATABASE_STATEMENT_TIMEOUT = float(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "5"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "blog.postgresql"
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    if DATABASE_STATEMENT_TIMEOUT > 0:
        _options.setdefault(
            "options", f"-c statement_timeout={int(DATABASE_STATEMENT_TIMEOUT * 1000)}"
        )
        # The server's own timeout fires first; ours only if it cannot.
        _options.setdefault("round_trip_timeout", DATABASE_STATEMENT_TIMEOUT + 2)

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down is a cache miss, never an error (blog/cache_backends.py).
            "BACKEND": "blog.cache_backends.DegradingRedisCache",
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
            "BACKEND": "blog.cache_backends.ProcessCache",
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

# One language per site, for readers and editors alike: every interface string
# is translated (locale/), and pages, feeds and metadata declare it.
LANGUAGE_CODE = os.environ.get("DJANGO_LANGUAGE_CODE", "en")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Media: files are stored by name through Django's storage API; URLs are
# computed from the storage when a page renders, so moving media to a bucket
# or a CDN host is a settings change (plus `manage.py rerender`), issue 11.
MEDIA_STORAGE = os.environ.get("DATELINE_MEDIA_STORAGE", "local").strip().lower()
MEDIA_URL = os.environ.get("DATELINE_MEDIA_URL", "").strip() or "/media/"
if not MEDIA_URL.endswith("/"):
    MEDIA_URL += "/"
MEDIA_ROOT = Path(os.environ.get("DATELINE_MEDIA_ROOT", VAR_DIR / "media"))
if MEDIA_STORAGE == "local":
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif MEDIA_STORAGE == "s3":
    from botocore.config import Config as _BotoConfig

    if not os.environ.get("DATELINE_S3_BUCKET"):
        raise ImproperlyConfigured(
            "DATELINE_MEDIA_STORAGE=s3 needs DATELINE_S3_BUCKET."
        )
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["DATELINE_S3_BUCKET"],
            "endpoint_url": os.environ.get("DATELINE_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            # Credentials: the library's own AWS_ACCESS_KEY_ID and
            # AWS_SECRET_ACCESS_KEY, read by boto3 from the environment.
            "querystring_auth": False,
            "file_overwrite": False,
            "addressing_style": "path",
            # Every network call has a bound (house style 17).
            "client_config": _BotoConfig(
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        },
    }
    _public = urlsplit(os.environ.get("DATELINE_MEDIA_URL", ""))
    if _public.netloc:
        # URLs are computed, never fetched: a CDN or the bucket's public address.
        _media_storage["OPTIONS"]["custom_domain"] = (
            _public.netloc + _public.path.rstrip("/")
        )
        _media_storage["OPTIONS"]["url_protocol"] = f"{_public.scheme}:"
else:
    raise ImproperlyConfigured(
        f"DATELINE_MEDIA_STORAGE must be local or s3, not {MEDIA_STORAGE!r}."
    )
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "blog.staticfiles.ManifestStaticFilesStorage"},
}
# Before collectstatic has run there is no manifest: WhiteNoise then serves
# static/ itself, so a fresh checkout run with DEBUG off still works
# (blog/staticfiles.py, issue 10).
WHITENOISE_USE_FINDERS = DEBUG or not (STATIC_ROOT / "staticfiles.json").is_file()

# Uploads: small ones in memory, larger ones on disk up to the image limit
# only (blog/images.py, issue 9).
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "blog.images.BoundedUploadHandler",
]

# The job queue (django-tasks): WebSub pings, renditions, large imports. The
# database backend needs `manage.py worker` running (make run starts one);
# DATELINE_QUEUE=immediate runs each job inside the request that asks for it.
DATELINE_QUEUE = os.environ.get("DATELINE_QUEUE", "database").strip().lower()
_QUEUE_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if DATELINE_QUEUE not in _QUEUE_BACKENDS:
    raise ImproperlyConfigured(
        f"DATELINE_QUEUE must be one of {', '.join(_QUEUE_BACKENDS)}, "
        f"not {DATELINE_QUEUE!r}."
    )
TASKS = {"default": {"BACKEND": _QUEUE_BACKENDS[DATELINE_QUEUE], "QUEUES": ["default"]}}
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

# One JSON object per line (blog/logs.py): time, level, logger, message, the
# request id, and for each request its method, path, status and duration.
# DATELINE_LOG_FORMAT=text gives the same lines for a human at a terminal.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "blog.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "blog.logs.JsonFormatter"},
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": os.environ.get("DATELINE_LOG_FORMAT", "json"),
        }
    },
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    },
    "loggers": {"django.request": {"level": "ERROR"}},
}

# Error tracking is optional: SENTRY_DSN turns it on, with the `sentry` extra
# installed (pip install ".[sentry]"). Nothing personal is sent.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    try:
        import sentry_sdk
    except ImportError as error:
        raise ImproperlyConfigured(
            "SENTRY_DSN is set but sentry-sdk is not installed: install the "
            'project with its extra, pip install ".[sentry]".'
        ) from error
    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        release=os.environ.get("SENTRY_RELEASE") or None,
        send_default_pii=False,
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )

# Dateline's own knobs.
DATELINE = {
    "SITE_NAME": os.environ.get("DATELINE_SITE_NAME", "Dateline"),
    # Empty: a description in the site's language (blog.metadata.site_description).
    "SITE_DESCRIPTION": os.environ.get("DATELINE_SITE_DESCRIPTION", ""),
    "PAGE_SIZE": int(os.environ.get("DATELINE_PAGE_SIZE", "12")),
    "FEED_ITEMS": int(os.environ.get("DATELINE_FEED_ITEMS", "20")),
    # How long a shared cache (CDN) may hold a page or feed before asking again.
    "CDN_MAX_AGE": int(os.environ.get("DATELINE_CDN_MAX_AGE", "60")),
    "WEBSUB_HUB": os.environ.get("WEBSUB_HUB", ""),
    "SERVE_MEDIA": env_bool("DATELINE_SERVE_MEDIA", MEDIA_STORAGE == "local"),
    # Uploads are checked from the file header before anything is decoded
    # (issue 9): larger files or pictures are refused with a form error.
    "UPLOAD_MAX_BYTES": int(os.environ.get("DATELINE_UPLOAD_MAX_BYTES", 15 * 2**20)),
    # First wait before a failed job (a WebSub ping) is tried again; doubles.
    "RETRY_BASE_SECONDS": float(os.environ.get("DATELINE_RETRY_BASE_SECONDS", "10")),
    # A claimed ping is held this long; an unclaimed one this late is re-sent.
    "QUEUE_LEASE_SECONDS": float(os.environ.get("DATELINE_QUEUE_LEASE_SECONDS", "60")),
    "UPLOAD_MAX_PIXELS": int(os.environ.get("DATELINE_UPLOAD_MAX_PIXELS", 40_000_000)),
    # Every staff login needs a TOTP code (blog/admin_site.py); off by default
    # so `make run` stays one command. Staff with a device give one anyway.
    "REQUIRE_2FA": env_bool("DATELINE_REQUIRE_2FA"),
}

# --- Trust: bounds and doors (issue 9) ---------------------------------------
# Above the body limit (blog/markup.py MAX_BODY_CHARS, 200,000 characters, up
# to ~2.4 MB once URL-encoded) with room for a pasted 10 MB text, so the
# form can refuse it with an error and give the text back; past this, a
# request gets a 413 page that says why (config/urls.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(
    os.environ.get("DATELINE_MAX_POST_BYTES", 16 * 1024 * 1024)
)

# The admin's address (a guessable /admin/ draws password guessing).
ADMIN_PATH = os.environ.get("DJANGO_ADMIN_PATH", "admin/").strip("/") + "/"

# Staff sessions end after 12 hours (a working day) or when the browser closes
# for DJANGO_SESSION_AT_BROWSER_CLOSE=1; README, Security.
SESSION_COOKIE_AGE = int(os.environ.get("DJANGO_SESSION_SECONDS", 12 * 60 * 60))
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("DJANGO_SESSION_AT_BROWSER_CLOSE")

# Email (staff password reset, review notices; issue 7): printed to the console
# unless EMAIL_HOST names an SMTP server (README, Configuration).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=EMAIL_PORT == 465)
EMAIL_TIMEOUT = 10  # seconds: a stuck mail server never holds a worker
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "newsroom@localhost")

# Login throttling (django-axes): five wrong passwords lock that username from
# that address for 15 minutes, so a guesser elsewhere cannot lock an editor
# out. Behind N trusted proxies (DJANGO_TRUSTED_PROXY_COUNT), the client
# address is the Nth from the right in X-Forwarded-For; otherwise the header
# is ignored (blog/middleware.py, client_address).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT", "0"))
AXES_FAILURE_LIMIT = int(os.environ.get("DATELINE_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("DATELINE_LOCKOUT_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "blog.middleware.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False
OTP_TOTP_ISSUER = DATELINE["SITE_NAME"]
