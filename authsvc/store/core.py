"""What every store module shares: the connection, the key schema and the script runner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from authsvc.store.keys import Keys
from authsvc.store.redis_client import Redis
from authsvc.store.scripts import ScriptRunner


@dataclass(frozen=True, slots=True)
class StoreContext:
    """One Redis connection, its key schema and its scripts."""

    redis: Redis
    keys: Keys
    scripts: ScriptRunner


def flat_to_dict(reply: Sequence[Any] | None) -> dict[str, str]:
    """HGETALL's flat [field, value, ...] reply as a dict."""
    if not reply:
        return {}
    return dict(zip(reply[0::2], reply[1::2], strict=True))
