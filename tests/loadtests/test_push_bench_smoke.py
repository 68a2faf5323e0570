"""The push benchmark's machinery end to end at a tiny scale: the figures it prints are only as
good as its seeding, fleet and driver, so they are checked here for what they count (never for
how fast anything is; speed lives in the benchmark itself)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_push_bench_counts_every_push_the_phones_approved(repo_root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "loadtests.push_bench", "--phones", "6", "--in-flight", "6",
         "--warmup", "1", "--duration", "3", "--delay-ms", "20", "--jitter-ms", "5", "--json"],
        cwd=repo_root, capture_output=True, text=True, timeout=220, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    run = report["runs"][0]
    assert run["allow"] > 0 and run["pushes_per_s"] > 0
    assert run["deny"] == run["timeout"] == run["errors"] == run["other"] == 0
    # Every push the driver saw allowed was approved by a simulated phone, and no more.
    assert run["fleet_approved"] == run["driver_allowed_whole_run"]
    assert run["fleet_errors"] == 0
    assert 20 <= run["round_trip_p50_ms"] <= run["round_trip_p99_ms"] <= run["round_trip_max_ms"]
    assert "== authsvc Duo Push benchmark" in result.stderr
