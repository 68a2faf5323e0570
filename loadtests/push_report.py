"""The push bench's figures: one record per run, medians over runs, text and JSON."""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class PushCpu:
    """Average cores used during the measured window."""

    service: float = 0.0
    redis: float = 0.0
    fleet: float = 0.0
    driver: float = 0.0
    machine: float = 0.0

    @property
    def foreign(self) -> float:
        """Busy cores not used by the four processes (py-spy, when profiling, lands here)."""
        return max(0.0, self.machine - self.service - self.redis - self.fleet - self.driver)


@dataclass(frozen=True, slots=True)
class PushFigures:
    """One run's numbers (rates per second, times in ms, CPU in cores)."""

    pushes_per_s: float
    allowed_per_s: float
    round_trip_p50_ms: float
    round_trip_p90_ms: float
    round_trip_p99_ms: float
    round_trip_max_ms: float
    allow: float
    deny: float
    timeout: float
    errors: float
    other: float
    unfinished: float
    cpu_service: float
    cpu_redis: float
    cpu_fleet: float
    cpu_driver: float
    cpu_foreign: float
    pushes_per_service_cpu_s: float
    redis_commands_per_push: float
    redis_scripts_per_push: float
    redis_worst_stall_ms: float
    slowest_second: float
    fleet_approved: float
    fleet_errors: float
    driver_allowed_whole_run: float
    startup_seconds: float
    warmup_seconds: float
    listen_overflows: float
    seed_seconds: float
    activation_seconds: float

    @classmethod
    def of(cls, driver: Mapping[str, Any], cpu: PushCpu, fleet: Mapping[str, Any],
           seed_seconds: float, activation_seconds: float, listen_overflows: int) -> PushFigures:
        """Collect a run's results (driver summary, CPU, the fleet's own summary)."""
        rate = float(driver["pushes_per_s"])
        return cls(
            pushes_per_s=rate, allowed_per_s=float(driver["allowed_per_s"]),
            round_trip_p50_ms=float(driver["round_trip_p50_ms"]),
            round_trip_p90_ms=float(driver["round_trip_p90_ms"]),
            round_trip_p99_ms=float(driver["round_trip_p99_ms"]),
            round_trip_max_ms=float(driver["round_trip_max_ms"]),
            allow=driver["allow"], deny=driver["deny"], timeout=driver["timeout"],
            errors=driver["errors"], other=driver["other"], unfinished=driver["unfinished"],
            cpu_service=cpu.service, cpu_redis=cpu.redis, cpu_fleet=cpu.fleet,
            cpu_driver=cpu.driver, cpu_foreign=cpu.foreign,
            pushes_per_service_cpu_s=rate / cpu.service if cpu.service > 0 else 0.0,
            redis_commands_per_push=_per_push(driver, sum(driver.get("redis_calls", {}).values())),
            redis_scripts_per_push=_per_push(driver, driver.get("redis_calls", {}).get("evalsha", 0)),
            redis_worst_stall_ms=float(max(driver.get("redis_stalls_ms", {}).values(), default=0)),
            slowest_second=float(min(driver.get("per_second", []), default=0)),
            fleet_approved=float(fleet.get("outcomes", {}).get("approved", 0)),
            fleet_errors=float(fleet.get("errors", 0)),
            driver_allowed_whole_run=float(driver.get("whole_run", {}).get("allow", 0)),
            startup_seconds=float(driver.get("startup_s", 0.0)),
            warmup_seconds=float(driver.get("warmup_s", 0.0)),
            listen_overflows=float(listen_overflows),
            seed_seconds=seed_seconds, activation_seconds=activation_seconds)


def _per_push(driver: Mapping[str, Any], count: float) -> float:
    ended = float(driver["ended"])
    return count / ended if ended else 0.0


def medians(runs: Sequence[PushFigures]) -> dict[str, float]:
    """The median of every figure over the runs."""
    return {field.name: statistics.median(getattr(run, field.name) for run in runs)
            for field in fields(PushFigures)}


def render_json(runs: Sequence[PushFigures], options: Mapping[str, Any],
                details: Sequence[Mapping[str, Any]]) -> str:
    """Everything, machine-readable (``details``: each run's driver and fleet summaries)."""
    return json.dumps({"options": dict(options), "median": medians(runs),
                       "runs": [asdict(run) for run in runs], "details": list(details)},
                      indent=2)


def _series(runs: Sequence[PushFigures], name: str, spec: str) -> str:
    return " ".join(format(getattr(run, name), spec) for run in runs)


def render_text(runs: Sequence[PushFigures], options: Mapping[str, Any]) -> str:
    """One human-readable summary block (medians when there are several runs)."""
    m = medians(runs)
    runs_note = f"{len(runs)} runs, medians" if len(runs) > 1 else "1 run"
    lines = [
        "== authsvc Duo Push benchmark " + "=" * 48,
        f"machine    {options['cpus']} CPUs; Redis AOF appendfsync always; HTTPS (dev cert)",
        f"load       {options['in_flight']:,} pushes in flight ({options['mode']}), "
        f"{options['phones']:,} phones (<= {options['per_user']} per user), "
        f"{options['duration']} s measured after >= {options['warmup']} s; slots started over "
        f"{options['ramp']:g} s; {runs_note}",
        f"phones     mobile-sim fleet, mix {options['mix']}, answer delay {options['delay_ms']:g}"
        f" +- {options['jitter_ms']:g} ms",
        f"pushes     {m['pushes_per_s']:>7,.1f} completed/s   ({m['allowed_per_s']:,.1f} allowed/s; "
        f"slowest second of the window {m['slowest_second']:,.0f})",
        f"round trip p50 {m['round_trip_p50_ms']:,.0f} ms  p90 {m['round_trip_p90_ms']:,.0f} ms  "
        f"p99 {m['round_trip_p99_ms']:,.0f} ms  max {m['round_trip_max_ms']:,.0f} ms "
        "(auth request -> final answer)",
        f"outcomes   {m['allow']:,.0f} allow, {m['deny']:,.0f} deny, {m['timeout']:,.0f} timeout, "
        f"{m['errors']:,.0f} errors, {m['other']:,.0f} other (in the window); "
        f"{m['unfinished']:,.0f} unfinished after the drain",
        f"cpu        service {m['cpu_service']:.2f}  Redis {m['cpu_redis']:.2f}  fleet "
        f"{m['cpu_fleet']:.2f}  driver {m['cpu_driver']:.2f}  other {m['cpu_foreign']:.2f} cores",
        f"           {m['pushes_per_service_cpu_s']:,.0f} pushes per service CPU-second; "
        f"{m['redis_commands_per_push']:.1f} Redis commands per push ({m['redis_scripts_per_push']:.1f} "
        "scripts and what they run included)",
        f"           Redis latency monitor: worst event {m['redis_worst_stall_ms']:,.0f} ms (0: none "
        "over 50 ms; events per run in the JSON)",
        f"fleet      {m['fleet_approved']:,.0f} approvals over the whole run (driver saw "
        f"{m['driver_allowed_whole_run']:,.0f} allows), {m['fleet_errors']:,.0f} poll errors",
        f"start-up   every in-flight slot's first push ended after {m['startup_seconds']:.1f} s; "
        f"measured after {m['warmup_seconds']:.1f} s",
        f"           {m['listen_overflows']:,.0f} connections dropped by full listen queues "
        "(machine-wide, whole run)",
        f"setup      Admin API enrollment {m['seed_seconds']:.1f} s, fleet activation "
        f"{m['activation_seconds']:.1f} s",
    ]
    if len(runs) > 1:
        lines.append(f"per run    pushes/s {_series(runs, 'pushes_per_s', ',.1f')} | p50 ms "
                     f"{_series(runs, 'round_trip_p50_ms', ',.0f')} | p99 ms "
                     f"{_series(runs, 'round_trip_p99_ms', ',.0f')}")
    lines.append("=" * 78)
    return "\n".join(lines)
