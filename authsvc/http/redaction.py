"""What the service writes about a request in its logs, with the secrets taken out.

Some URLs are credentials: an activation link (``/activate/<code>``, the device's
``POST /push/v2/activation/<code>``, the QR image ``/frame/qr?value=duo://<code>-...``) lets
whoever holds it add a phone to a user, and an enrollment link (``/portal/enroll/<token>...``)
opens the enrollment portal, an administrator's setup link (``/admin/setup/<token>...``) sets
their password and second factor. Those path segments become ``<redacted>``, and every query value
does too (a query may carry a code, a token or a username; the parameter names are kept). The
access log is `RedactingAccessLogger` (`AUTHSVC_ACCESS_LOG=1`), error lines call
`redact_target`; neither ever writes a Referer (it would repeat the page's secret URL), a body,
or a header value other than the user agent.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

REDACTED = "<redacted>"
_SECRET_SEGMENTS = re.compile(
    r"(?P<prefix>/activate/|/push/v2/activation/|/portal/enroll/|/admin/setup/)[^/?#]+")


def redact_path(path: str) -> str:
    """The path with the secret segment of an activation or enrollment link replaced."""
    return _SECRET_SEGMENTS.sub(lambda match: match["prefix"] + REDACTED, path)


def redact_query(query: str) -> str:
    """``a=1&b=2`` -> ``a=<redacted>&b=<redacted>`` (names kept, values gone)."""
    if not query:
        return ""
    names = [pair.split("=", 1)[0] for pair in query.split("&") if pair]
    return "&".join(f"{name}={REDACTED}" for name in names)


def redact_target(target: str) -> str:
    """A request target (path and query, as on the request line) safe to log."""
    parts = urlsplit(target)
    query = redact_query(parts.query)
    return redact_path(parts.path) + (f"?{query}" if query else "")


class RedactingAccessLogger(AbstractAccessLogger):
    """One line per request: ``<remote> "<METHOD> <redacted target> HTTP/x.y" <status>
    <bytes> <ms>ms "<user agent>"``."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        version = request.version
        agent = request.headers.get("User-Agent", "-").replace('"', "'")
        self.logger.info(
            '%s "%s %s HTTP/%d.%d" %d %d %.1fms "%s"', request.remote or "-", request.method,
            redact_target(request.raw_path), version.major, version.minor, response.status,
            response.body_length, time * 1000, agent[:200],
            extra={"request_id": response.headers.get("X-Request-Id", "")})

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
