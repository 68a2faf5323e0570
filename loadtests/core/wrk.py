"""Drive a server with wrk (one thread) replaying a file of pre-signed requests; parse the result.

wrk is a C event loop: at these rates it needs a fraction of a core, where locust would need a
whole one. The Lua side is `replay.lua`; its done() prints one ``WRK_RESULT {json}`` line.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.core.processes import ChildFailed, Children

REPLAY_LUA = Path(__file__).resolve().parent.parent / "replay.lua"
_MARKER = "WRK_RESULT "


@dataclass(frozen=True, slots=True)
class Load:
    """How hard to push: open connections, seconds, and optional per-connection pacing."""

    connections: int
    duration: int
    delay_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class WrkResult:
    """One wrk run: counts by answer, socket errors, and latency (ms)."""

    seconds: float
    requests: int
    allowed: int
    denied: int
    other: int
    calls: int
    exhausted: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    first_error: str

    @property
    def rate(self) -> float:
        """Answers per second (any answer)."""
        return self.requests / self.seconds

    @property
    def allowed_rate(self) -> float:
        """Allowed verifications per second."""
        return self.allowed / self.seconds

    @classmethod
    def parse(cls, output: str) -> WrkResult:
        """Read the ``WRK_RESULT`` line of replay.lua's done()."""
        line = next((line for line in output.splitlines() if line.startswith(_MARKER)), None)
        if line is None:
            raise ChildFailed(f"wrk printed no result:\n{output}")
        raw: dict[str, Any] = json.loads(line.removeprefix(_MARKER))
        latency = raw["latency_us"]
        return cls(
            seconds=raw["duration_us"] / 1e6, requests=raw["requests"], allowed=raw["allowed"],
            denied=raw["denied"], other=raw["other"], calls=raw["calls"],
            exhausted=raw["exhausted"],
            socket_errors=sum(value for name, value in raw["errors"].items() if name != "status"),
            p50_ms=latency["p50"] / 1000, p90_ms=latency["p90"] / 1000,
            p99_ms=latency["p99"] / 1000, max_ms=latency["max"] / 1000,
            first_error=raw["first_error"])


def wrk_binary() -> str:
    """The wrk executable, or ChildFailed naming how to get it."""
    binary = shutil.which("wrk")
    if binary is None:
        raise ChildFailed("wrk not found: apt-get install wrk")
    return binary


def run_wrk(children: Children, url: str, requests_file: Path, path: str, load: Load, *,
            wrap: bool = False) -> WrkResult:
    """Replay `requests_file` against `url` with one wrk thread."""
    args = [wrk_binary(), "-t1", f"-c{load.connections}", f"-d{load.duration}s", "--timeout", "5s",
            "-s", str(REPLAY_LUA), url, "--", str(requests_file), path, f"{load.delay_ms:.3f}",
            "1" if wrap else "0"]
    return WrkResult.parse(children.run(args, timeout=load.duration + 60))
