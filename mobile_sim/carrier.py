"""The simulated carrier and mail inbox: what the service "sent" by SMS, voice and email.

With the default `outbox` delivery provider the service keeps every message in Redis, one list
per destination (``<prefix>:outbox:<channel>:<destination>``); the carrier reads those lists and
answers calls by posting to the callback URL a voice message carries, with its one-call token.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import redis

SMS_CODE = re.compile(r"\b\d{7}\b")
LINK = re.compile(r"https?://[^\s\"'<>]+")


def find_redis_url(explicit: str | None, data_dir: Path) -> str:
    """--redis-url, else AUTHSVC_REDIS_URL, else the embedded Redis of DATA_DIR (redis.url)."""
    if explicit:
        return explicit
    if os.environ.get("AUTHSVC_REDIS_URL"):
        return os.environ["AUTHSVC_REDIS_URL"]
    try:
        return (data_dir / "redis.url").read_text().strip()
    except OSError:
        raise SystemExit(f"no Redis: give --redis-url, or --data-dir of a running authsvc "
                         f"(no {data_dir / 'redis.url'})") from None


def passcodes(message: dict[str, Any]) -> list[str]:
    """The 7-digit SMS passcodes in a message."""
    return SMS_CODE.findall(str(message.get("body", "")))


def links(message: dict[str, Any]) -> list[str]:
    """The links in a message."""
    return LINK.findall(str(message.get("body", "")))


class Carrier:
    """Read the outbox; answer calls."""

    def __init__(self, url: str, prefix: str = "as") -> None:
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    def close(self) -> None:
        self._redis.close()

    def messages(self, channel: str, destination: str) -> list[dict[str, Any]]:
        """Everything sent to `destination` on `channel`, oldest first."""
        raw = self._redis.lrange(f"{self._prefix}:outbox:{channel}:{destination}", 0, -1)
        return [json.loads(entry) for entry in raw]

    def wait_for_call(self, number: str, *, max_age_s: float, wait_s: float) -> dict[str, Any] | None:
        """The newest call to `number` placed within `max_age_s`, waiting up to `wait_s`."""
        deadline = time.time() + wait_s
        while True:
            calls = [call for call in self.messages("voice", number)
                     if call.get("ts", 0) >= time.time() - max_age_s]
            if calls:
                return calls[-1]
            if time.time() >= deadline:
                return None
            time.sleep(0.1)


def report(call: dict[str, Any], event: str, digit: str = "", ca_file: str | None = None) -> Any:
    """Tell the service what happened on the call (as the telephony provider would)."""
    extra = call["extra"]
    body = urllib.parse.urlencode({"token": extra["token"], "event": event, "digit": digit})
    request = urllib.request.Request(extra["callback_url"], data=body.encode(), method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    context = ssl.create_default_context(cafile=ca_file) if extra["callback_url"].startswith(
        "https") else None
    with urllib.request.urlopen(request, timeout=10, context=context) as reply:  # noqa: S310
        return json.load(reply)
