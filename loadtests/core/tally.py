"""The push driver's tally: pushes that ended inside the measured window, their round trips,
and everything else that happened (`loadtests.scenarios.push_driver`)."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def outcome_of(answer: dict[str, Any]) -> str:
    """allow, deny or timeout (a deny whose status is ``timeout``)."""
    result = str(answer.get("result", ""))
    if result == "deny" and answer.get("status") == "timeout":
        return "timeout"
    return result if result in ("allow", "deny") else f"other:{result}"


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The nearest-rank quantile (0 for no values)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Tally:
    """Pushes that ended inside the measured window, and everything else that happened."""

    window_start: float = math.inf
    window_end: float = math.inf
    outcomes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    round_trips_ms: list[float] = field(default_factory=list)
    per_second: Counter[int] = field(default_factory=Counter)
    all_outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    first_error: str = ""
    started: int = 0
    """Pushes started inside the window (the offered load of the open loop)."""

    def start(self, began: float) -> None:
        if self.window_start <= began < self.window_end:
            self.started += 1

    def record(self, began: float, ended: float, outcome: str, status: str = "") -> None:
        self.all_outcomes[outcome] += 1
        if self.window_start <= ended < self.window_end:
            self.outcomes[outcome] += 1
            if status:
                self.statuses[status] += 1
            self.round_trips_ms.append((ended - began) * 1000)
            self.per_second[int(ended - self.window_start)] += 1

    def error(self, began: float, ended: float, exc: BaseException) -> None:
        kind = f"{type(exc).__name__}: {exc}"[:160]
        self.errors[type(exc).__name__] += 1
        self.first_error = self.first_error or kind
        self.record(began, ended, "error")

    def summary(self, seconds: float, unfinished: int) -> dict[str, Any]:
        trips = sorted(self.round_trips_ms)
        ended = sum(self.outcomes.values())
        return {
            "seconds": seconds,
            "ended": ended,
            "pushes_per_s": ended / seconds if seconds else 0.0,
            "allowed_per_s": self.outcomes["allow"] / seconds if seconds else 0.0,
            "allow": self.outcomes["allow"], "deny": self.outcomes["deny"],
            "timeout": self.outcomes["timeout"], "errors": self.outcomes["error"],
            "other": sum(n for name, n in self.outcomes.items() if name.startswith("other:")),
            "statuses": dict(self.statuses),
            "round_trip_p50_ms": quantile(trips, 0.50),
            "round_trip_p90_ms": quantile(trips, 0.90),
            "round_trip_p99_ms": quantile(trips, 0.99),
            "round_trip_max_ms": trips[-1] if trips else 0.0,
            "round_trip_mean_ms": statistics.fmean(trips) if trips else 0.0,
            "offered_per_s": self.started / seconds if seconds else 0.0,
            "per_second": [self.per_second[second] for second in range(int(seconds))],
            "whole_run": dict(self.all_outcomes),
            "error_kinds": dict(self.errors),
            "first_error": self.first_error,
            "unfinished": unfinished,
        }
