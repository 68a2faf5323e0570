"""The phones: ``mobile-sim fleet`` (the project's own Duo Mobile simulator) as a child process.

The fleet activates every phone from its activation URL (one RSA-2048 key each, about 45 s of
CPU for 1000 phones), then long-polls the device API and answers each push with ``--mix`` after
a normal(``--delay-ms``, ``--jitter-ms``) delay. It prints one line containing `READY` once every
phone is activated, and its JSON summary (outcomes, poll errors and their kinds: the service's
status and Duo code, or the transport error) when stopped by SIGTERM.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.core.processes import Children, wait_for_line
from loadtests.core.service import ROOT

READY = "phones serving"
POLLING = "phones polling"  # every phone's first poll answered: its connection is up


@dataclass(frozen=True, slots=True)
class Answers:
    """How the phones answer: the mix and the delay (ms)."""

    mix: str = "approve=1"
    delay_ms: float = 50.0
    jitter_ms: float = 10.0


@dataclass(frozen=True, slots=True)
class Fleet:
    """A running fleet: its process and log."""

    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, children: Children) -> dict[str, Any]:
        """SIGTERM; the summary the fleet printed ({} if none)."""
        children.stop(self.process)
        for line in reversed(self.log.read_text(errors="replace").splitlines()):
            if line.startswith("{"):
                try:
                    summary: dict[str, Any] = json.loads(line)
                except ValueError:
                    continue
                return summary
        return {}


def start_fleet(children: Children, workdir: Path, values: Path, ca_file: Path, *,
                answers: Answers, phones: int, serve_for: float, key_pool: int = 0,
                poll_wait: int = 25) -> Fleet:
    """The fleet for the activation URLs in `values`, once every phone is activated."""
    log = workdir / "fleet.log"
    command = [sys.executable, "-m", "mobile_sim", "fleet",
               "--values", str(values), "--ca-file", str(ca_file), "--mix", answers.mix,
               "--delay-ms", str(answers.delay_ms), "--jitter-ms", str(answers.jitter_ms),
               "--duration", str(serve_for), "--state", str(workdir / "fleet-state.json"),
               "--key-pool", str(key_pool), "--poll-wait", str(poll_wait)]
    process = children.start(command, log=log, cwd=ROOT)
    wait_for_line(log, READY, process, timeout=120 + phones * (0.05 if key_pool else 0.5))
    wait_for_line(log, POLLING, process, timeout=120 + phones * 0.05)
    return Fleet(process, log)
