"""Instructions per passcode verification: a figure this noisy machine cannot move.

``python -m loadtests instructions [--users N] [--connections C] [--seconds S] [--keep DIR]``

CPU seconds per verification swing by a third between runs of the same code here (a shared,
2-core VM: neighbours, steal time, the batching that load itself changes), which hides any
change worth a few percent. Valgrind's callgrind counts the instructions a process executes
instead: the same code, load and seed give the same count to within ~0.1% (three runs at
`ca6c258`: 1,249,909 / 1,250,000 / 1,249,364 per verification). So a change is judged by
running this once before and once after (a worktree of the old commit, docs/performance.md).

One run, in a fresh temporary directory:

1. the embedded Redis (AOF ``appendfsync always``) and N users with one h6 token each, seeded as
   the passcode bench seeds them (`loadtests.scenarios.passcode.seed_measured`);
2. ``python -m authsvc serve`` (one worker) under ``valgrind --tool=callgrind`` with counting
   off (``--instr-atstart=no``) while it starts and while wrk replays 3 codes per user
   (``--warmup-seconds``, 15), which makes every user's copy warm;
3. counting on (``callgrind_control -i on``), wrk replaying the bench's pre-signed
   ``/auth/v2/auth`` requests with C connections for S seconds, a pause for the requests still
   in flight, counting off, a dump; the verifications are the service's own count
   (``authsvc_decisions_total`` on ``/metrics``, before and after).

It counts user-space instructions of the service only (not the kernel's work for its sockets,
not Redis), and instructions are not time: C code such as hiredis's packing runs more of them
per nanosecond than the interpreter does. Use it to compare two versions of the Python path,
and the passcode bench for rates. With ``--keep DIR`` the callgrind output stays there for
``callgrind_annotate`` (which C functions, e.g. ``sprintf`` under hiredis's packing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtests.core.phases import Options
from loadtests.core.plan import Plan
from loadtests.core.processes import ChildFailed, Children, free_port, wait_healthy
from loadtests.core.redis_under_test import running
from loadtests.core.service import HOST, ROOT, service_env
from loadtests.core.signing import AUTH_PATH
from loadtests.core.wrk import Load, run_wrk
from loadtests.scenarios.passcode import make_plan, seed_measured

METRICS_TOKEN = secrets.token_urlsafe(32)
WARM_CODES_PER_USER = 3
DRAIN_SECONDS = 3.0  # requests still in flight when wrk stops are answered (and counted) meanwhile
START_SECONDS = 300.0  # the service starts ~30x slower under valgrind
_DECISIONS = re.compile(r"^authsvc_decisions_total\{[^}]*\} (\S+)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Count:
    """One measured window."""

    instructions: int
    verifications: int
    wrk_allowed: int
    wrk_other: int

    @property
    def per_verification(self) -> float:
        return self.instructions / self.verifications if self.verifications else 0.0


def require_valgrind() -> None:
    """Raise ChildFailed naming the package when valgrind is missing."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise ChildFailed("valgrind not found: apt-get install valgrind")


def decisions(base: str) -> int:
    """The service's decisions so far (``authsvc_decisions_total``, every factor and result)."""
    request = urllib.request.Request(f"{base}/metrics",  # noqa: S310 (loopback, our own URL)
                                     headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310
        text = reply.read().decode()
    return round(sum(float(value) for value in _DECISIONS.findall(text)))


def callgrind(pid: int, *flags: str) -> None:
    subprocess.run(["callgrind_control", *flags, str(pid)], check=True, capture_output=True,
                   timeout=120)


def dumped_instructions(out: Path) -> int:
    """The instructions of the dump (the largest total of the files callgrind wrote)."""
    totals = [int(line.split()[1]) for path in out.parent.glob(f"{out.name}*")
              for line in path.read_text(errors="replace").splitlines()
              if line.startswith(("totals:", "summary:"))]
    if not totals:
        raise ChildFailed(f"callgrind wrote no totals under {out.parent}")
    return max(totals)


def start_counted(children: Children, workdir: Path, redis_url: str, secret_key: str
                  ) -> tuple[subprocess.Popen[bytes], str, Path]:
    """The service under callgrind, counting nothing yet: (process, base URL, output file)."""
    port, out, log = free_port(), workdir / "callgrind.out", workdir / "service.log"
    env = service_env(redis_url, secret_key, workdir / "service",
                      {"AUTHSVC_METRICS_TOKEN": METRICS_TOKEN})
    process = children.start(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
         sys.executable, "-m", "authsvc", "serve", "--host", HOST, "--port", str(port),
         "--workers", "1"], env=env, log=log, cwd=ROOT)
    base = f"http://{HOST}:{port}"
    wait_healthy(process, f"{base}/healthz", log, timeout=START_SECONDS)
    return process, base, out


def replay(children: Children, base: str, plan: Plan, path: Path, count: int,
           load: Load) -> tuple[int, int]:
    """Replay the next `count` requests for `load.duration` s; the answers wrk counted allowed
    and other (anything but allow)."""
    plan.write(path, count)
    result = run_wrk(children, base, path, AUTH_PATH, load)
    plan.consumed(result.calls - result.exhausted)
    return result.allowed, result.denied + result.other


def measure(workdir: Path, options: Options, warmup_seconds: int) -> Count:
    """One run (the module docstring); no warm-up with `warmup_seconds` 0 (the cold path)."""
    with Children() as children, running(workdir, cluster=False, appendfsync="always") as redis:
        key = secrets.token_urlsafe(32)
        seeded = asyncio.run(seed_measured(redis, key, options))
        plan = make_plan(seeded, options, None)
        process, base, out = start_counted(children, workdir, redis.url, key)
        requests, load = workdir / "service.requests", Load(options.connections, options.duration)
        if warmup_seconds > 0:
            replay(children, base, plan, requests, WARM_CODES_PER_USER * options.users,
                   Load(options.connections, warmup_seconds))
        before = decisions(base)
        callgrind(process.pid, "-i", "on")
        allowed, other = replay(children, base, plan, requests, 20 * options.users, load)
        time.sleep(DRAIN_SECONDS)
        callgrind(process.pid, "-i", "off")
        verified = decisions(base) - before
        callgrind(process.pid, "-d")
        return Count(dumped_instructions(out), verified, allowed, other)


def main(argv: Sequence[str] | None = None, prog: str = "python -m loadtests instructions"
         ) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000, help="seeded users (1000)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (50)")
    parser.add_argument("--seconds", type=int, default=20, help="the counted window (20)")
    parser.add_argument("--warmup-seconds", type=int, default=15,
                        help="uncounted replay first, 3 codes per user (15); 0: none, so "
                             "each user's first verification is cold")
    parser.add_argument("--keep", type=Path, help="leave the run's files (callgrind's) here")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    require_valgrind()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="authsvc-instructions-"))
    options = Options(users=args.users, duration=args.seconds, connections=args.connections)
    try:
        count = measure(workdir / "run", options, args.warmup_seconds)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(vars_of(count, cold_share(count, options, args.warmup_seconds)))
          if args.json else report(count, options, args.warmup_seconds))
    return 0 if count.verifications and not count.wrk_other else 1


def cold_share(count: Count, options: Options, warmup_seconds: int) -> float:
    """The share of the window's verifications that were a user's first in the process."""
    if warmup_seconds > 0 or not count.verifications:
        return 0.0
    return min(1.0, options.users / count.verifications)


def vars_of(count: Count, cold: float) -> dict[str, float | int]:
    return {"instructions": count.instructions, "verifications": count.verifications,
            "cold_share": round(cold, 3),
            "per_verification": round(count.per_verification), "wrk_allowed": count.wrk_allowed,
            "wrk_other": count.wrk_other}


def report(count: Count, options: Options, warmup_seconds: int) -> str:
    cold = cold_share(count, options, warmup_seconds)
    copies = "every copy warm" if warmup_seconds > 0 else f"{cold:.0%} cold"
    return (f"instructions  {count.per_verification:,.0f} per verification (user space, the "
            f"service only; callgrind)\n"
            f"window        {count.verifications:,} verifications in {options.duration} s "
            f"({options.connections} connections, {options.users:,} users, {copies}); "
            f"{count.instructions:,} instructions\n"
            f"answers       wrk saw {count.wrk_allowed:,} allowed, {count.wrk_other:,} other")
