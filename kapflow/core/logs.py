"""No secrets or health data in the logs.

Some paths are secrets in themselves: a password-reset link, a staff or portal invitation, a
calendar feed. A query string can carry a patient's name (the patient search's ``?q=``), and a
referrer carries the page before. So:

* ``AccessLogger`` (gunicorn's ``logger_class``, set by ``kapflow serve``) writes each request
  as method, path with secret segments replaced by ``[redacted]``, status, bytes and
  milliseconds: no query string, referrer, user agent, header or client address. Its error log
  passes through ``RedactFilter`` too ("Error handling request /path?query").
* ``redact_record`` masks the same path segments, query strings, API tokens and email
  addresses in every message and traceback that Django, django-axes, gunicorn and kapflow's own
  loggers make (``django.request`` logs the path of every 4xx): as each record is made
  (``install``, from ``CoreConfig.ready``) and again in the handlers (``RedactFilter``).
"""

from __future__ import annotations

import logging
import os
import re
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

REDACTED = "[redacted]"

# The secret segments of the URLs in kapflow/accounts/urls.py, kapflow/portal/urls.py and
# kapflow/scheduling/feed_urls.py (also under another prefix, e.g. a proxy's).
_SECRET_PATHS = [
    (
        re.compile(r"(/accounts/password-reset/)(?!sent/|complete/)[^/?#\s]+/[^/?#\s]+"),
        rf"\g<1>{REDACTED}/{REDACTED}",
    ),
    (re.compile(r"(/accounts/invitation/)[^/?#\s]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(/portal/join/)[^/?#\s]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(/feeds/)[^/?#\s]+?(\.ics)"), rf"\g<1>{REDACTED}\g<2>"),
]
# A query string after a path or URL, up to the next space or quote.
_QUERY = re.compile(r"(?<=[\w/.\-\]])\?[^\s\"'<>]+")
_TOKEN = re.compile(r"\bkf_[A-Za-z0-9_\-]+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)\S+")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")

ACCESS_LOG_FORMAT = "%(m)s %(U)s %(s)s %(b)s %(M)sms"


def redact_path(path: str) -> str:
    """The path without its query string, secret segments replaced by ``[redacted]``."""
    path = path.split("?", 1)[0]
    for pattern, replacement in _SECRET_PATHS:
        path = pattern.sub(replacement, path)
    return path


def redact(text: str) -> str:
    """``text`` with secret path segments, query strings, tokens and email addresses masked."""
    for pattern, replacement in _SECRET_PATHS:
        text = pattern.sub(replacement, text)
    text = _QUERY.sub("?" + REDACTED, text)
    text = _BEARER.sub(rf"\g<1>{REDACTED}", text)
    text = _TOKEN.sub("kf_" + REDACTED, text)
    return _EMAIL.sub(REDACTED + "@…", text)


def redact_record(record: logging.LogRecord) -> None:
    """Mask what ``redact`` masks in the record's message and traceback, in place."""
    try:
        message = record.getMessage()
    except Exception:  # a bad logging call: logging reports it when the record is written
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)


class RedactFilter(logging.Filter):
    """``redact_record`` on every record a handler writes (``settings.LOGGING``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install() -> None:
    """Redact every record as it is made, whichever handler (a test's too) receives it.

    Called once Django's apps are ready (``CoreConfig.ready``); the handlers' ``RedactFilter``
    covers records made before that."""
    current = logging.getLogRecordFactory()
    if getattr(current, "kapflow_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        redact_record(record)
        return record

    factory.kapflow_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class AccessLogger(GunicornLogger):
    """gunicorn's logger, with only the safe parts of a request (see ``ACCESS_LOG_FORMAT``)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if not any(isinstance(f, RedactFilter) for f in self.error_log.filters):
            self.error_log.addFilter(RedactFilter())

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> dict[str, Any]:
        # Only these: any other atom in a format (%(r)s, %(q)s, %(f)s, {header}i ...) prints "-".
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        sent = getattr(resp, "sent", None)
        return {
            "m": environ.get("REQUEST_METHOD", "-"),
            "U": redact_path(environ.get("PATH_INFO") or "-"),
            "s": status,
            "b": str(sent) if sent is not None else "-",
            "B": sent,
            "t": self.now(),
            "T": request_time.seconds,
            "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
            "D": request_time.seconds * 1_000_000 + request_time.microseconds,
            "L": f"{request_time.seconds}.{request_time.microseconds:06d}",
            "p": f"<{os.getpid()}>",
        }
