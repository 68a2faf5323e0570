"""The authentication log: what one attempt records besides its verdict, and log queries."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

# The id of the HTTP request being served (set by `http/observe.py`, echoed as X-Request-Id);
# a task started while serving it inherits it. Empty outside a request.
REQUEST_ID: ContextVar[str] = ContextVar("authsvc_request_id", default="")


@dataclass(frozen=True, slots=True)
class AttemptFacts:
    """What the log records about one attempt besides the verdict."""

    txid: str
    app_key: str
    app_name: str
    user_id: str = ""
    username: str = ""
    alias: str = ""
    email: str = ""
    ipaddr: str | None = None
    hostname: str | None = None
    # The request that started the attempt (kept with a push, so its answer, decided in
    # another request, is logged with the request that asked).
    request_id: str = field(default_factory=REQUEST_ID.get)


@dataclass(frozen=True, slots=True)
class LogQuery:
    """A page request: time window (ms, inclusive), order, cursor and filters.

    `filters` maps a record field path (``user.key``, ``result``, ``reason``, ``factor``,
    ``application.key``, ``event_type``) to the accepted values.
    """

    mintime: int
    maxtime: int
    limit: int = 100
    ascending: bool = False
    after: str | None = None
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)
    count: bool = True
    """False: stop at the page's last match (the page's `total` is then a lower bound)."""
    scan_limit: int = 0
    """At most this many records are read (0: the whole window): a page that must stay fast
    whatever the log's size (the Admin Panel's user page)."""


@dataclass(frozen=True, slots=True)
class LogPage:
    """Records of one page, the cursor of the next page (None at the end) and the match count.

    `total` counts the matches from this page's start to the end of the window: on the first
    page (no cursor) that is every match in the window.
    """

    records: list[dict[str, Any]]
    next_offset: tuple[int, str] | None
    total: int
