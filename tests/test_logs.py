"""JSON log lines with a request id that is also a response header (blog/logs.py)."""

import json
import logging
import sys

import pytest

from blog.logs import JsonFormatter, RequestIdFilter


@pytest.fixture
def log_lines(settings):
    """Log records of the request logger, formatted as production formats them."""
    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(json.loads(self.format(record)))

    handler = Collect()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("dateline.request")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


@pytest.mark.django_db
def test_each_request_logs_one_json_line_with_its_id(client, log_lines):
    """One line per request: time, method, path, status, duration and the id
    that the response carries in X-Request-ID."""
    response = client.get("/robots.txt")
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32
    (line,) = log_lines
    assert line["request_id"] == request_id
    assert (line["method"], line["path"], line["status"]) == ("GET", "/robots.txt", 200)
    assert line["duration_ms"] >= 0 and line["time"].endswith("+00:00")
    assert line["level"] == "INFO" and line["logger"] == "dateline.request"


@pytest.mark.django_db
def test_a_proxys_request_id_is_kept_and_a_hostile_one_replaced(client, log_lines):
    """An id from the proxy is reused; one that could forge log lines is not."""
    kept = client.get("/robots.txt", HTTP_X_REQUEST_ID="abcdef0123456789")
    assert kept.headers["X-Request-ID"] == "abcdef0123456789"
    replaced = client.get("/robots.txt", HTTP_X_REQUEST_ID='x"\n{"level": "ERROR"}')
    assert replaced.headers["X-Request-ID"] != 'x"\n{"level": "ERROR"}'
    assert [line["request_id"] for line in log_lines] == [
        "abcdef0123456789",
        replaced.headers["X-Request-ID"],
    ]


def test_errors_carry_their_traceback_in_one_line():
    """An exception is a field of the JSON object, not lines of its own."""
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert (
        entry["message"] == "failed here" and "ValueError: boom" in entry["exception"]
    )
