"""Log formatting: the classic one-line text or one JSON object per line
(``AUTHSVC_LOG_FORMAT=json``), both carrying the request id of the request being served.

The request id comes from a callable (the caller passes the context variable's `get`), so this
leaf imports nothing from authsvc. Nothing secret is added here: a record holds what the code
logged (which never includes a code, a key or a token) plus the request id, which is public.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(request_suffix)s"
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "request_id", "request_suffix"}


class RequestIdFilter(logging.Filter):
    """Sets `request_id` on every record (from `extra`, else the current request's)."""

    def __init__(self, current: Callable[[], str]) -> None:
        super().__init__()
        self._current = current

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = getattr(record, "request_id", None) or self._current()
        record.request_id = request_id
        record.request_suffix = f" [request {request_id}]" if request_id else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ms), level, logger, message, request_id, the
    `extra` fields a call passed, and the traceback as text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "")
        if request_id:
            entry["request_id"] = request_id
        entry.update({key: value for key, value in vars(record).items()
                      if key not in _STANDARD and not key.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str, log_format: str, current_request_id: Callable[[], str]) -> None:
    """Log to stderr at `level` in `log_format` (text or json), every record with its
    request id. Like `logging.basicConfig`, does nothing when the root logger already has a
    handler (a command run inside a test, whose runner captures the logs)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter(current_request_id))
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])
