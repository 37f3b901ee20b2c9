"""Structured logs: one JSON object per line, each tied to its request (issue 11).

Every request gets an id: the one the proxy sent in `X-Request-ID` when it
looks like an id, else a new one. It is returned in the response's
`X-Request-ID` header and carried by every log line written while the request
runs, so a reader's complaint, the proxy's log and ours meet on one value.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

REQUEST_ID_HEADER = "X-Request-ID"
# What we accept from upstream: short, printable, nothing to inject into a log.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{8,64}")
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")

request_id: ContextVar[str] = ContextVar("request_id", default="-")
access_log = logging.getLogger("dateline.request")


def incoming_request_id(request) -> str:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    if REQUEST_ID_PATTERN.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Names each request, returns the name, and logs one line per request.
    First in MIDDLEWARE, so the duration covers every other layer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        token = request_id.set(incoming_request_id(request))
        try:
            response = self.get_response(request)
            response.headers[REQUEST_ID_HEADER] = request_id.get()
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request being served ("-" outside one)."""

    def filter(self, record):
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
