# Dateline: one image for every role (web, migrate, import), per DESIGN.md.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATELINE_VAR_DIR=/app/var \
    PORT=8000

WORKDIR /app

# Dependencies in their own layer: rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY manage.py ./
COPY config ./config
COPY blog ./blog
COPY templates ./templates
COPY static ./static
COPY locale ./locale

# Hashed, compressed static files are built into the image; the key here only
# lets settings load for collectstatic and is never used at run time.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0 \
    && useradd --system --uid 10001 --home-dir /app dateline \
    && mkdir -p /app/var/media \
    && chown -R dateline /app/var

USER 10001
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=4)"]

# The database is migrated by a one-off `docker run IMAGE python manage.py
# migrate` before a release goes live (see README), not by every web worker.
# Behind a load balancer, set FORWARDED_ALLOW_IPS to its address so gunicorn
# trusts its X-Forwarded-* headers (and no one else's).
CMD ["sh", "-c", "exec gunicorn config.wsgi --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
