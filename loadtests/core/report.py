"""The benchmarks' figures: one record per run, medians over runs, a text summary and JSON.

`Figures` is one passcode-bench run (`loadtests.scenarios.passcode`: the ceiling, the service at
full and at half rate), `PushFigures` one push-bench run (`loadtests.scenarios.push`). Both
summaries are a template of lines filled with the medians (``m``), the options (``o``) and a
few derived words (``x``); the JSON carries every figure of every run.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from loadtests.core.cpu import CpuUse
from loadtests.core.wrk import WrkResult

WIDTH = 78
_TITLES = {"hotp": "passcode", "yubikey": "YubiKey OTP", "webauthn": "WebAuthn assertion"}
PASSCODE = (
    "machine    {o[cpus]} CPUs; redis: {o[redis]}; AOF appendfsync {o[appendfsync]}",
    "load       wrk 1 thread, {o[connections]} connections, {o[duration]} s per phase; "
    "{o[users]:,} users; service {o[workers]} worker(s); {x[runs]}",
    "memory     {m[memory_per_user_bytes]:,.0f} B of Redis per user (user + {x[holding]})",
    "ceiling    {m[ceiling_rps]:>7,.0f} req/s            p50 {m[ceiling_p50_ms]:5.2f} ms  p99 "
    "{m[ceiling_p99_ms]:6.2f} ms  (bare aiohttp + HOTP + 1 EVALSHA)",
    "service    {m[service_allowed_per_s]:>7,.0f} verifications/s  p50 {m[service_p50_ms]:5.2f} ms"
    "  p99 {m[service_p99_ms]:6.2f} ms  (allowed; {m[service_denied]:,.0f} denied, "
    "{m[service_other]:,.0f} other)",
    "ratio      {m[ratio]:.2f} of the ceiling   target >= {t.min_ratio:.2f}  {x[ratio_mark]}{x[ratio_note]}",
    "half rate  {m[half_achieved_per_s]:>7,.0f} req/s (target {m[half_target_per_s]:,.0f})  p50 "
    "{m[half_p50_ms]:5.2f} ms  p99 {m[half_p99_ms]:6.2f} ms  target p99 <= "
    "{t.max_half_rate_p99_ms:g} ms  {x[p99_mark]}",
    "cpu        server {m[service_cpu]:.2f} cores -> {m[service_per_cpu_s]:,.0f} verifications per "
    "CPU-second; ceiling {m[ceiling_per_cpu_s]:,.0f} req/CPU-s; ratio {m[cpu_ratio]:.2f}",
    "           Redis {m[service_redis_cpu]:.2f} cores; other load on the machine up to "
    "{m[foreign_cpu]:.2f} cores",
    "authlog    {m[authlog_bytes_per_entry]:,.0f} B of Redis per log entry (half-rate: "
    "{m[half_denied]:,.0f} denied, {m[half_other]:,.0f} other)",
    "cold       {m[first_visit_share]:.0%} of the full-rate requests were a user's first (cold path)",
)
PUSH = (
    "machine    {o[cpus]} CPUs; Redis AOF appendfsync always; HTTPS (dev cert)",
    "load       {o[loop]} ({o[mode]}), {o[phones]:,} phones (<= "
    "{o[per_user]} per user), {o[duration]} s measured after >= {o[warmup]} s; slots started "
    "over {o[ramp]:g} s; service {o[workers]} worker(s); {x[runs]}",
    "phones     mobile-sim fleet, mix {o[mix]}, answer delay {o[delay_ms]:g} +- {o[jitter_ms]:g} ms",
    "pushes     {m[pushes_per_s]:>7,.1f} completed/s   ({m[allowed_per_s]:,.1f} allowed/s; slowest "
    "second of the window {m[slowest_second]:,.0f}; {m[offered_per_s]:,.1f}/s started)",
    "round trip p50 {m[round_trip_p50_ms]:,.0f} ms  p90 {m[round_trip_p90_ms]:,.0f} ms  p99 "
    "{m[round_trip_p99_ms]:,.0f} ms  max {m[round_trip_max_ms]:,.0f} ms (auth request -> final "
    "answer)",
    "outcomes   {m[allow]:,.0f} allow, {m[deny]:,.0f} deny, {m[timeout]:,.0f} timeout, "
    "{m[errors]:,.0f} errors, {m[other]:,.0f} other (in the window); {m[unfinished]:,.0f} "
    "unfinished after the drain",
    "cpu        service {m[cpu_service]:.2f}  Redis {m[cpu_redis]:.2f}  fleet {m[cpu_fleet]:.2f}  "
    "driver {m[cpu_driver]:.2f}  other {m[cpu_foreign]:.2f} cores",
    "           {m[pushes_per_service_cpu_s]:,.0f} pushes per service CPU-second = "
    "{m[service_cpu_us_per_push]:,.0f} us of service CPU per push",
    "           {m[redis_commands_per_push]:.1f} Redis commands per push ({m[redis_scripts_per_push]:.1f} "
    "scripts and what they run included; idle phones' polls too)",
    "           Redis latency monitor: worst event {m[redis_worst_stall_ms]:,.0f} ms (0: none "
    "over 50 ms; events per run in the JSON)",
    "fleet      {m[fleet_approved]:,.0f} approvals over the whole run (driver saw "
    "{m[driver_allowed_whole_run]:,.0f} allows), {m[fleet_errors]:,.0f} poll errors",
    "start-up   every in-flight slot's first push ended after {m[startup_seconds]:.1f} s; "
    "measured after {m[warmup_seconds]:.1f} s",
    "           {m[listen_overflows]:,.0f} connections dropped by full listen queues "
    "(machine-wide, whole run)",
    "setup      Admin API enrollment {m[seed_seconds]:.1f} s, fleet activation "
    "{m[activation_seconds]:.1f} s",
)
PER_RUN = {  # the "per run" line when there are several: label, figure, format
    "passcode": (("service/s", "service_allowed_per_s", ",.0f"), ("ceiling/s", "ceiling_rps", ",.0f"),
                 ("ratio", "ratio", ".2f"), ("half p99 ms", "half_p99_ms", ".2f")),
    "push": (("pushes/s", "pushes_per_s", ",.1f"), ("p50 ms", "round_trip_p50_ms", ",.0f"),
             ("p99 ms", "round_trip_p99_ms", ",.0f")),
}
EXHAUSTED = "warning    the request file ran out: the service rate is a lower bound"


@dataclass(frozen=True, slots=True)
class Targets:
    """What 2 cores should reach."""

    min_ratio: float = 0.5
    max_half_rate_p99_ms: float = 10.0


@dataclass(frozen=True, slots=True)
class Phase:
    """One measured wrk run and the CPU used meanwhile."""

    wrk: WrkResult
    cpu: CpuUse


def _per_cpu(rate: float, cores: float) -> float:
    return rate / cores if cores > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Figures:
    """One passcode-bench run (rates per second, latencies in ms, sizes in bytes)."""

    memory_per_user_bytes: float
    ceiling_rps: float
    ceiling_p50_ms: float
    ceiling_p99_ms: float
    service_allowed_per_s: float
    service_denied: float
    service_other: float
    service_exhausted: float
    service_p50_ms: float
    service_p99_ms: float
    ratio: float
    half_target_per_s: float
    half_achieved_per_s: float
    half_denied: float
    half_other: float
    half_p50_ms: float
    half_p99_ms: float
    authlog_bytes_per_entry: float
    ceiling_cpu: float
    service_cpu: float
    service_redis_cpu: float
    ceiling_per_cpu_s: float
    service_per_cpu_s: float
    cpu_ratio: float
    foreign_cpu: float
    first_visit_share: float

    @classmethod
    def of(cls, memory: float, ceiling: Phase, full: Phase, half_target: float, half: Phase,
           authlog: float, first_visit_share: float = 0.0) -> Figures:
        """Collect a run's results."""
        top, svc, low = ceiling.wrk, full.wrk, half.wrk
        ceiling_per_cpu = _per_cpu(top.rate, ceiling.cpu.of("server"))
        service_per_cpu = _per_cpu(svc.allowed_rate, full.cpu.of("server"))
        return cls(
            memory_per_user_bytes=memory,
            ceiling_rps=top.rate, ceiling_p50_ms=top.p50_ms, ceiling_p99_ms=top.p99_ms,
            service_allowed_per_s=svc.allowed_rate, service_denied=svc.denied,
            service_other=svc.other + svc.socket_errors, service_exhausted=svc.exhausted,
            service_p50_ms=svc.p50_ms, service_p99_ms=svc.p99_ms,
            ratio=svc.allowed_rate / top.rate if top.rate else 0.0,
            half_target_per_s=half_target, half_achieved_per_s=low.rate,
            half_denied=low.denied, half_other=low.other + low.socket_errors,
            half_p50_ms=low.p50_ms, half_p99_ms=low.p99_ms,
            authlog_bytes_per_entry=authlog,
            ceiling_cpu=ceiling.cpu.of("server"), service_cpu=full.cpu.of("server"),
            service_redis_cpu=full.cpu.of("redis"),
            ceiling_per_cpu_s=ceiling_per_cpu, service_per_cpu_s=service_per_cpu,
            cpu_ratio=service_per_cpu / ceiling_per_cpu if ceiling_per_cpu else 0.0,
            foreign_cpu=max(ceiling.cpu.foreign, full.cpu.foreign, half.cpu.foreign),
            first_visit_share=first_visit_share)


@dataclass(frozen=True, slots=True)
class PushFigures:
    """One push-bench run (rates per second, times in ms, CPU in cores)."""

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
    service_cpu_us_per_push: float
    offered_per_s: float
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
    def of(cls, driver: Mapping[str, Any], cpu: CpuUse, fleet: Mapping[str, Any],
           setup_seconds: tuple[float, float], listen_overflows: int) -> PushFigures:
        """Collect a run's results: the driver's summary, the CPU, the fleet's own summary,
        (enrollment, activation) seconds and the listen queue overflows."""
        rate, calls = float(driver["pushes_per_s"]), driver.get("redis_calls", {})
        trips = {name: float(driver[name]) for name in ("round_trip_p50_ms", "round_trip_p90_ms",
                                                         "round_trip_p99_ms", "round_trip_max_ms")}
        return cls(
            pushes_per_s=rate, allowed_per_s=float(driver["allowed_per_s"]), **trips,
            allow=driver["allow"], deny=driver["deny"], timeout=driver["timeout"],
            errors=driver["errors"], other=driver["other"], unfinished=driver["unfinished"],
            cpu_service=cpu.of("service"), cpu_redis=cpu.of("redis"), cpu_fleet=cpu.of("fleet"),
            cpu_driver=cpu.of("driver"), cpu_foreign=cpu.foreign,
            pushes_per_service_cpu_s=_per_cpu(rate, cpu.of("service")),
            service_cpu_us_per_push=cpu.of("service") / rate * 1e6 if rate else 0.0,
            offered_per_s=float(driver.get("offered_per_s", 0.0)),
            redis_commands_per_push=_per_push(driver, sum(calls.values())),
            redis_scripts_per_push=_per_push(driver, calls.get("evalsha", 0)),
            redis_worst_stall_ms=float(max(driver.get("redis_stalls_ms", {}).values(), default=0)),
            slowest_second=float(min(driver.get("per_second", []), default=0)),
            fleet_approved=float(fleet.get("outcomes", {}).get("approved", 0)),
            fleet_errors=float(fleet.get("errors", 0)),
            driver_allowed_whole_run=float(driver.get("whole_run", {}).get("allow", 0)),
            startup_seconds=float(driver.get("startup_s", 0.0)),
            warmup_seconds=float(driver.get("warmup_s", 0.0)),
            listen_overflows=float(listen_overflows),
            seed_seconds=setup_seconds[0], activation_seconds=setup_seconds[1])


def _per_push(driver: Mapping[str, Any], count: float) -> float:
    ended = float(driver["ended"])
    return count / ended if ended else 0.0


def medians(runs: Sequence[Figures] | Sequence[PushFigures]) -> dict[str, float]:
    """The median of every figure over the runs."""
    return {field.name: statistics.median(getattr(run, field.name) for run in runs)
            for field in fields(runs[0])}


def verdicts(median: Mapping[str, float], targets: Targets) -> dict[str, bool]:
    """PASS (True) / FAIL (False) per target, on the medians."""
    return {"ratio": median["ratio"] >= targets.min_ratio,
            "half_rate_p99": median["half_p99_ms"] <= targets.max_half_rate_p99_ms}


def render_json(runs: Sequence[Figures], options: Mapping[str, int | str], targets: Targets) -> str:
    """A passcode bench, machine-readable."""
    median = medians(runs)
    return json.dumps({"options": dict(options), "targets": asdict(targets), "median": median,
                       "pass": verdicts(median, targets), "runs": [asdict(run) for run in runs]},
                      indent=2)


def render_push_json(runs: Sequence[PushFigures], options: Mapping[str, Any],
                     details: Sequence[Mapping[str, Any]]) -> str:
    """A push bench, machine-readable (``details``: each run's driver and fleet summaries)."""
    return json.dumps({"options": dict(options), "median": medians(runs),
                       "runs": [asdict(run) for run in runs], "details": list(details)},
                      indent=2)


def _title(name: str) -> str:
    title = f"== authsvc {name} benchmark "
    return title + "=" * max(3, WIDTH - len(title))


def _fill(title: str, template: Sequence[str], runs: Sequence[Any], per_run: str,
          extra: Sequence[str] = (), **values: Any) -> str:
    lines = [_title(title), *(line.format(**values) for line in template), *extra]
    if len(runs) > 1:
        lines.append("per run    " + " | ".join(
            f"{label} " + " ".join(format(getattr(run, name), spec) for run in runs)
            for label, name, spec in PER_RUN[per_run]))
    lines.append("=" * WIDTH)
    return "\n".join(lines)


def _runs_note(runs: Sequence[Any]) -> str:
    return f"{len(runs)} runs, medians" if len(runs) > 1 else "1 run"


def render_text(runs: Sequence[Figures], options: Mapping[str, int | str], targets: Targets) -> str:
    """A passcode bench's summary block (medians when there are several runs)."""
    m, factor = medians(runs), str(options.get("factor", "hotp"))
    ok = verdicts(m, targets)
    tokens = int(options["tokens"])
    holding = {"yubikey": "1 yk token", "webauthn": "1 WebAuthn credential"}.get(
        factor, f"{tokens} h6 token{'s' if tokens != 1 else ''}")
    words = {"runs": _runs_note(runs), "holding": holding,
             "ratio_mark": "PASS" if ok["ratio"] else "FAIL",
             "ratio_note": "" if ok["ratio"] else f" ({1 - m['ratio'] / targets.min_ratio:.0%} short)",
             "p99_mark": "PASS" if ok["half_rate_p99"] else "FAIL"}
    extra = [EXHAUSTED] if any(run.service_exhausted for run in runs) else []
    return _fill(_TITLES.get(factor, factor), PASSCODE, runs, "passcode", extra, m=m,
                 o=options, t=targets, x=words)


def render_push_text(runs: Sequence[PushFigures], options: Mapping[str, Any]) -> str:
    """A push bench's summary block (medians when there are several runs)."""
    return _fill("Duo Push", PUSH, runs, "push", m=medians(runs), o=options,
                 x={"runs": _runs_note(runs)})
