"""The benchmark's figures: one record per run, medians over runs, text and JSON renderings."""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields

from loadtests.cpu import CpuShare
from loadtests.wrk import WrkResult

FACTORS = ("hotp", "yubikey", "webauthn")
_TITLES = {"hotp": "passcode", "yubikey": "YubiKey OTP", "webauthn": "WebAuthn assertion"}


@dataclass(frozen=True, slots=True)
class Targets:
    """What 2 cores should reach."""

    min_ratio: float = 0.5
    max_half_rate_p99_ms: float = 10.0


@dataclass(frozen=True, slots=True)
class Phase:
    """One measured wrk run and the CPU used meanwhile."""

    wrk: WrkResult
    cpu: CpuShare


def _per_cpu(rate: float, cores: float) -> float:
    return rate / cores if cores > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Figures:
    """One run's numbers (rates per second, latencies in ms, sizes in bytes)."""

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

    @classmethod
    def of(cls, memory: float, ceiling: Phase, full: Phase, half_target: float, half: Phase,
           authlog: float) -> Figures:
        """Collect a run's results."""
        top, svc, low = ceiling.wrk, full.wrk, half.wrk
        ceiling_per_cpu = _per_cpu(top.rate, ceiling.cpu.server)
        service_per_cpu = _per_cpu(svc.allowed_rate, full.cpu.server)
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
            ceiling_cpu=ceiling.cpu.server, service_cpu=full.cpu.server,
            service_redis_cpu=full.cpu.redis,
            ceiling_per_cpu_s=ceiling_per_cpu, service_per_cpu_s=service_per_cpu,
            cpu_ratio=service_per_cpu / ceiling_per_cpu if ceiling_per_cpu else 0.0,
            foreign_cpu=max(ceiling.cpu.foreign, full.cpu.foreign, half.cpu.foreign))


def medians(runs: Sequence[Figures]) -> dict[str, float]:
    """The median of every figure over the runs."""
    return {field.name: statistics.median(getattr(run, field.name) for run in runs)
            for field in fields(Figures)}


def verdicts(median: Mapping[str, float], targets: Targets) -> dict[str, bool]:
    """PASS (True) / FAIL (False) per target, on the medians."""
    return {"ratio": median["ratio"] >= targets.min_ratio,
            "half_rate_p99": median["half_p99_ms"] <= targets.max_half_rate_p99_ms}


def render_json(runs: Sequence[Figures], options: Mapping[str, int | str], targets: Targets) -> str:
    """Everything, machine-readable."""
    median = medians(runs)
    return json.dumps({"options": dict(options), "targets": asdict(targets), "median": median,
                       "pass": verdicts(median, targets), "runs": [asdict(run) for run in runs]},
                      indent=2)


def _mark(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def _series(runs: Sequence[Figures], name: str, spec: str) -> str:
    return " ".join(format(getattr(run, name), spec) for run in runs)


def _holding(factor: str, tokens: int) -> str:
    if factor == "yubikey":
        return "1 yk token"
    if factor == "webauthn":
        return "1 WebAuthn credential"
    return f"{tokens} h6 token{'s' if tokens != 1 else ''}"


def render_text(runs: Sequence[Figures], options: Mapping[str, int | str], targets: Targets) -> str:
    """One human-readable summary block (medians when there are several runs)."""
    m = medians(runs)
    ok = verdicts(m, targets)
    runs_note = f"{len(runs)} runs, medians" if len(runs) > 1 else "1 run"
    factor = str(options.get("factor", "hotp"))
    title = f"== authsvc {_TITLES.get(factor, factor)} benchmark "
    ratio_note = "" if ok["ratio"] else f" ({1 - m['ratio'] / targets.min_ratio:.0%} short)"
    lines = [
        title + "=" * max(3, 78 - len(title)),
        f"machine    {options['cpus']} CPUs; Redis AOF appendfsync {options['appendfsync']}",
        f"load       wrk 1 thread, {options['connections']} connections, {options['duration']} s "
        f"per phase; {options['users']:,} users; {runs_note}",
        f"memory     {m['memory_per_user_bytes']:,.0f} B of Redis per user (user + "
        f"{_holding(factor, int(options['tokens']))})",
        f"ceiling    {m['ceiling_rps']:>7,.0f} req/s            p50 {m['ceiling_p50_ms']:5.2f} ms"
        f"  p99 {m['ceiling_p99_ms']:6.2f} ms  (bare aiohttp + 1 EVALSHA)",
        f"service    {m['service_allowed_per_s']:>7,.0f} verifications/s  p50 "
        f"{m['service_p50_ms']:5.2f} ms  p99 {m['service_p99_ms']:6.2f} ms  (allowed; "
        f"{m['service_denied']:,.0f} denied, {m['service_other']:,.0f} other)",
        f"ratio      {m['ratio']:.2f} of the ceiling   target >= {targets.min_ratio:.2f}  "
        f"{_mark(ok['ratio'])}{ratio_note}",
        f"half rate  {m['half_achieved_per_s']:>7,.0f} req/s (target {m['half_target_per_s']:,.0f})"
        f"  p50 {m['half_p50_ms']:5.2f} ms  p99 {m['half_p99_ms']:6.2f} ms  target p99 <= "
        f"{targets.max_half_rate_p99_ms:g} ms  {_mark(ok['half_rate_p99'])}",
        f"cpu        server {m['service_cpu']:.2f} cores -> {m['service_per_cpu_s']:,.0f} "
        f"verifications per CPU-second; ceiling {m['ceiling_per_cpu_s']:,.0f} req/CPU-s; "
        f"ratio {m['cpu_ratio']:.2f}",
        f"           Redis {m['service_redis_cpu']:.2f} cores; other load on the machine up to "
        f"{m['foreign_cpu']:.2f} cores",
        f"authlog    {m['authlog_bytes_per_entry']:,.0f} B of Redis per log entry "
        f"(half-rate: {m['half_denied']:,.0f} denied, {m['half_other']:,.0f} other)",
    ]
    if any(run.service_exhausted for run in runs):
        lines.append("warning    the request file ran out: the service rate is a lower bound")
    if len(runs) > 1:
        lines.append(f"per run    service/s {_series(runs, 'service_allowed_per_s', ',.0f')} | "
                     f"ceiling/s {_series(runs, 'ceiling_rps', ',.0f')} | "
                     f"ratio {_series(runs, 'ratio', '.2f')} | "
                     f"half p99 ms {_series(runs, 'half_p99_ms', '.2f')}")
    lines.append("=" * 78)
    return "\n".join(lines)
