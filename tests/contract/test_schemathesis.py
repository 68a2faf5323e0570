"""schemathesis over every operation of the OpenAPI document, against `authsvc serve` (real
Redis, real HTTP over loopback), every request signed like duo_client signs it
(`duo_hooks.py`): no 5xx, and every answer's status, content type, headers and body as the
document says. The example count is bounded (`FUZZ_EXAMPLES`) to keep the suite's time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duo_client
import pytest

from authsvc.http.openapi import OPERATIONS
from authsvc.model.ratelimits import Limiter
from tests.conftest import IntegrationPair, create_integrations
from tests.harness import ServiceProcess, service_env

FUZZ_EXAMPLES = int(os.environ.get("AUTHSVC_FUZZ_EXAMPLES", "25"))
# Fuzzing sends hundreds of requests schemathesis leaves unsigned on purpose and hundreds of
# unknown usernames: with the rate limits on, most answers would be 429 after the first minute
# (the limits have their own tests, tests/e2e/test_rate_limits.py).
NO_LIMITS = {f"AUTHSVC_RATE_LIMIT_{limiter.value.upper()}": "off" for limiter in Limiter}
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance")
SEED = bytes(range(20))


def seed(admin: duo_client.Admin) -> dict[str, list[str]]:
    """A few of every object, so that generated requests also reach existing ones."""
    users = [admin.add_user(f"fuzz{n}", email=f"fuzz{n}@example.org") for n in range(3)]
    user_ids = [user["user_id"] for user in users]
    phone = admin.add_phone(number="+15555550100", type="mobile", platform="google android")
    admin.add_user_phone(user_ids[0], phone["phone_id"])
    token = admin.add_hotp6_token("FUZZ-1", SEED.hex())
    admin.add_user_token(user_ids[1], token["token_id"])
    admin.add_user_bypass_codes(user_ids[1], count=2)
    code_id = admin.get_user_bypass_codes(user_ids[1])[0]["bypass_code_id"]
    group = admin.create_group("fuzzers")
    admin.add_user_group(user_ids[2], group["group_id"])
    other = admin.add_admin("Hal", "hal@example.org", None, None, role="Help Desk")
    app = admin.json_api_call("POST", "/admin/v3/integrations",
                              {"name": "Fuzzed app", "type": "authapi"})
    admin.enroll_user("fuzznew", "fuzznew@example.org")
    enrollment = admin.json_api_call("GET", "/admin/v1/enrollments", {})[0]
    unit = admin.json_api_call("POST", "/admin/v1/administrative_units",
                               {"name": "fuzz unit", "description": "fuzzed"})
    trashed = admin.add_user("fuzztrash")
    admin.delete_user(trashed["user_id"])
    return {"user_id": [*user_ids, trashed["user_id"]], "phone_id": [phone["phone_id"]],
            "token_id": [token["token_id"]], "bypass_code_id": [code_id],
            "group_id": [group["group_id"]], "admin_id": [other["admin_id"]],
            "ikey": [app["integration_key"]], "enrollment_id": [enrollment["enrollment_id"]],
            "admin_unit_id": [unit["admin_unit_id"]]}


def run_schemathesis(service: ServiceProcess, integrations: IntegrationPair, ids: dict[str, Any],
                     work: Path, examples: int) -> tuple[subprocess.CompletedProcess[str], Any]:
    config = work / "fuzz.json"
    config.write_text(json.dumps({
        "admin": {"ikey": integrations.admin.ikey, "skey": integrations.admin.skey},
        "auth": {"ikey": integrations.auth.ikey, "skey": integrations.auth.skey},
        "ids": ids, "usernames": ["fuzz0", "fuzz1", "fuzz2"]}))
    base = f"http://127.0.0.1:{service.port}"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract.duo_hooks",
           "AUTHSVC_FUZZ_CONFIG": str(config), "PYTHONPATH": str(root)}
    report = work / "report.json"
    command = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{base}/openapi.json",
               "--url", base, "--checks", CHECKS, "--max-examples", str(examples),
               "--phases", "examples,coverage,fuzzing", "--seed", "20240601",
               "--workers", "2", "--request-timeout", "20", "--no-shrink",
               "--report", "json", "--report-json-path", str(report)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600,
                          check=False, cwd=work)  # its .schemathesis cache stays out of the tree
    return done, json.loads(report.read_text()) if report.exists() else None


@pytest.fixture
def fuzzed(redis_url: str, tmp_path: Path) -> Iterator[tuple[ServiceProcess, IntegrationPair]]:
    """`authsvc serve` on the emptied session Redis, rate limits off, and its integrations."""
    pair = create_integrations(redis_url)
    process = ServiceProcess(service_env(redis_url, tmp_path, **NO_LIMITS)).start(
        tmp_path / "serve.log")
    yield process, pair
    process.stop()


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.skipif(bool(os.environ.get("AUTHSVC_TEST_REDIS_CLUSTER")),
                    reason="run once per suite (the HTTP contract does not depend on the Redis)")
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
        fuzzed: tuple[ServiceProcess, IntegrationPair], tmp_path: Path) -> None:
    process, pair = fuzzed
    admin = duo_client.Admin(pair.admin.ikey, pair.admin.skey, "127.0.0.1", ca_certs="HTTP",
                             port=process.port)
    done, report = run_schemathesis(process, pair, seed(admin), tmp_path, FUZZ_EXAMPLES)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    assert report is not None and report["operations"]["tested"] == len(OPERATIONS)
    cases = report["test_cases"]
    assert cases["with_failures"] == 0 and cases["generated"] > 20 * len(OPERATIONS)
    print(f"schemathesis: {report['operations']['tested']} operations, {cases['generated']} "
          f"test cases, {cases['with_failures']} failures, {report['running_time']:.0f} s")
