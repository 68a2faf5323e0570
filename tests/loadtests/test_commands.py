"""The commands: ``python -m loadtests`` lists the scenarios, the documented commands still answer,
seeding puts people the service accepts into its Redis, and the passcode scenario counts what it
replays (never how fast: speed lives in the benchmark itself)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duo_client
import pytest

from loadtests.__main__ import SCENARIOS
from loadtests.scenarios.memory import kind_of
from loadtests.scenarios.passcode import first_visit_share
from tests.harness import TEST_SECRET_KEY, ServiceProcess
from tokens.oath import oath_code

DOCUMENTED = ["bench", "push_bench", "hotspots", "push_hotspots", "ceiling", "seed", "push_seed",
              "push_driver"]


def _run(repo_root: Path, *args: str, timeout: float = 60,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=repo_root, capture_output=True,
                          text=True, timeout=timeout, check=False, env=env)


def test_help_lists_every_scenario(repo_root: Path) -> None:
    result = _run(repo_root, "loadtests", "--help")
    assert result.returncode == 0
    for name in ("passcode", "push", "hotspots", "seed", "ceiling", *SCENARIOS):
        assert f"\n  {name} " in result.stdout


def test_an_unknown_scenario_is_refused_naming_the_known_ones(repo_root: Path) -> None:
    result = _run(repo_root, "loadtests", "passcodes")
    assert result.returncode == 2 and "'passcode'" in result.stderr


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_answers_help_under_its_name(repo_root: Path, name: str) -> None:
    result = _run(repo_root, "loadtests", name, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m loadtests {name}")


@pytest.mark.parametrize("module", DOCUMENTED)
def test_each_documented_command_answers_help_under_its_name(repo_root: Path, module: str) -> None:
    result = _run(repo_root, f"loadtests.{module}", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m loadtests.{module}")


def test_seeded_people_sign_in_with_their_first_code(
        repo_root: Path, redis_url: str, service: ServiceProcess, tmp_path: Path) -> None:
    env = {**os.environ, "AUTHSVC_REDIS_URL": redis_url, "AUTHSVC_SECRET_KEY": TEST_SECRET_KEY}
    out = tmp_path / "pop.json"
    result = _run(repo_root, "loadtests", "seed", "--users", "2", "--bypass-codes", "1",
                  "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    population = json.loads(out.read_text())
    auth = duo_client.Auth(population["ikey"], population["skey"], "127.0.0.1",
                           ca_certs="HTTP", port=service.port)
    person = population["people"][1]
    code = oath_code(bytes.fromhex(person["tokens"][0]["secret_hex"]), 0, 6)
    assert auth.auth("passcode", username=person["username"], passcode=code)["result"] == "allow"
    assert auth.auth("passcode", username=person["username"],
                     passcode=person["bypass_codes"][0])["result"] == "allow"


def test_seeding_refuses_a_service_it_cannot_find(repo_root: Path, tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AUTHSVC_")}
    result = _run(repo_root, "loadtests", "seed", "--users", "1", "--out", str(tmp_path / "p"),
                  env={**env, "AUTHSVC_DATA_DIR": str(tmp_path)})
    assert result.returncode == 1 and "no Redis" in result.stderr


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_passcode_scenario_is_allowed_every_code_it_replays(repo_root: Path) -> None:
    result = _run(repo_root, "loadtests", "passcode", "--users", "200", "--duration", "2",
                  "--connections", "8", "--json", timeout=100)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    run = report["runs"][0]
    assert report["options"]["factor"] == "hotp" and report["options"]["users"] == 200
    assert run["service_allowed_per_s"] > 0 and run["ceiling_rps"] > 0
    assert run["half_achieved_per_s"] > 0 and run["memory_per_user_bytes"] > 0
    assert run["service_denied"] == run["service_other"] == 0
    assert run["half_denied"] == run["half_other"] == 0
    assert set(report["pass"]) == {"ratio", "half_rate_p99"}
    assert "== authsvc passcode benchmark" in result.stderr
    assert run["first_visit_share"] == 0.0  # the warm-up reached all 200 users
    assert "cold       0% of the full-rate requests were a user's first" in result.stderr


def test_the_first_visit_share_counts_the_positions_no_earlier_request_reached() -> None:
    assert first_visit_share(0, 100, 1000) == 1.0
    assert first_visit_share(900, 1100, 1000) == 0.5
    assert first_visit_share(1000, 2000, 1000) == 0.0
    assert first_visit_share(5, 5, 1000) == 0.0


def test_the_memory_report_folds_ids_and_bucket_numbers_out_of_key_names() -> None:
    assert {kind_of(key) for key in ("as:{u:DU1}:user", "as:{u:DU2}:user")} == {"as:{u:ID}:user"}
    assert {kind_of(key) for key in ("{as:users}:b:0", "{as:users}:b:781")} == {
        "{as:users}:b:N"}
    assert kind_of("{as:users}:counts") == "{as:users}:counts"
    assert kind_of("as:{cs17}:activity") == "as:{csN}:activity"
