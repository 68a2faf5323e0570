"""The passcode bench on a 3+3 Redis Cluster at a tiny scale: seeding through one node's URL, the
service and the ceiling on the same servers, and a summary that names the topology. Checked for
what it counts, never for how fast (speed lives in the benchmark itself)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.skipif(bool(os.environ.get("AUTHSVC_TEST_REDIS_CLUSTER")),
                    reason="runs its own Redis: once per suite is enough")
def test_the_passcode_bench_runs_against_a_cluster_and_says_so(repo_root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "loadtests", "passcode", "--cluster", "--users", "200",
         "--connections", "16", "--duration", "2", "--json"],
        cwd=repo_root, capture_output=True, text=True, timeout=110, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["options"]["redis"] == "3+3 cluster (loopback)"
    assert report["options"]["appendfsync"] == "always"
    run = report["runs"][0]
    assert run["ceiling_rps"] > 0 and run["service_allowed_per_s"] > 0
    assert run["service_denied"] == run["service_other"] == 0
    assert run["half_denied"] == run["half_other"] == 0
    assert run["memory_per_user_bytes"] > 0 and run["authlog_bytes_per_entry"] > 0
    assert "redis: 3+3 cluster" in result.stderr
