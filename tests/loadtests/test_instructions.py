"""`python -m loadtests instructions` at a tiny scale: the service under callgrind counts the
instructions of a window and the verifications the service itself counted in it. Checked for
what it counts, never for a figure (that is the tool's output, docs/performance.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.skipif(bool(os.environ.get("AUTHSVC_TEST_REDIS_CLUSTER")),
                    reason="runs its own Redis: once per suite is enough")
def test_the_instruction_count_covers_a_window_of_warm_verifications(repo_root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "loadtests", "instructions", "--users", "200", "--connections",
         "8", "--seconds", "3", "--warmup-seconds", "5", "--json"],
        cwd=repo_root, capture_output=True, text=True, timeout=230, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    counted = json.loads(result.stdout)
    assert counted["verifications"] > 0 and counted["wrk_other"] == 0
    # The service's own count covers what wrk saw answered (and the requests still in flight
    # when it stopped, answered during the drain, at most one per connection).
    assert counted["wrk_allowed"] <= counted["verifications"] <= counted["wrk_allowed"] + 8
    # A verification is hundreds of thousands of instructions, not a handful, not billions: the
    # counting was on for the window and off before and after it.
    assert 100_000 < counted["per_verification"] < 20_000_000
