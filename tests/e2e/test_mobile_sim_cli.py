"""The `mobile-sim` command against the service over HTTPS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from authsvc.tls import DevCert
from tests.conftest import IntegrationPair
from tests.e2e.carrier_helpers import data_dir, outbox_endpoint
from tests.e2e.push_helpers import new_phone, tls_clients
from tests.harness import ServiceProcess

MOBILE_SIM = [sys.executable, "-c", "import sys; from mobile_sim.cli import main; sys.exit(main())"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MOBILE_SIM, *args], capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.mark.parametrize("args", [[], ["serve"], ["serve", "--approve", "--deny"], ["bogus"]],
                         ids=repr)
def test_bad_flags_give_one_line_and_exit_status_two(args: list[str]) -> None:
    result = _run(*args)
    assert result.returncode == 2 and result.stderr.count("\n") == 1


@pytest.mark.slow
def test_activate_passcode_and_serve(tls_service: ServiceProcess, integrations: IntegrationPair,
                                     dev_cert: DevCert, tmp_path: Path) -> None:
    clients = tls_clients(tls_service, integrations, dev_cert)
    user = clients.admin.add_user("simon")
    phone = new_phone(clients.admin, user["user_id"])
    state, ca = str(tmp_path / "phone.json"), str(dev_cert.ca_cert)
    qr = clients.admin.create_activation_url(phone["phone_id"])["activation_barcode"]
    activated = json.loads(_run("activate", qr, "--state", state, "--ca-file", ca).stdout)
    assert activated["pkey"] == phone["phone_id"]
    assert (tmp_path / "phone.json").stat().st_mode & 0o777 == 0o600

    code = _run("passcode", "--state", state).stdout.strip()
    assert clients.auth.auth("passcode", username="simon", passcode=code)["result"] == "allow"
    assert _run("passcode", "--state", state).stdout.strip() != code

    clients.admin.json_api_call("POST", "/admin/v1/settings", {"verified_push_enabled": "1"})
    code_file = tmp_path / "code.txt"
    with subprocess.Popen([*MOBILE_SIM, "serve", "--approve", "--state", state, "--ca-file", ca,
                           "--code-file", str(code_file)], stdout=subprocess.PIPE,
                          text=True) as serving:
        assert serving.stdout is not None
        assert serving.stdout.readline().startswith("serving 1 account")
        assert clients.auth.auth("push", username="simon", device="auto")["result"] == "allow"
        pre = clients.auth.preauth(username="simon", client_supports_verified_push=True)
        code_file.write_text(pre["verification_code"])
        answer = clients.auth.auth("push", username="simon", device="auto", txid=pre["txid"])
        assert answer["result"] == "allow"
        lines = [serving.stdout.readline() for _ in range(2)]
        assert all(" -> approved" in line and "user=simon" in line for line in lines)
        assert "verified_push_digits=3" in lines[1]
        serving.terminate()


@pytest.mark.slow
def test_the_carrier_commands_show_sms_and_answer_calls(
        tls_service: ServiceProcess, integrations: IntegrationPair, dev_cert: DevCert) -> None:
    clients = tls_clients(tls_service, integrations, dev_cert)
    user = clients.admin.add_user("carla")
    new_phone(clients.admin, user["user_id"])
    flags = ["--data-dir", str(data_dir(tls_service)), "--ca-file", str(dev_cert.ca_cert)]
    assert clients.auth.auth("sms", username="carla", device="auto")["status"] == "sent"
    codes = _run("sms", "--number", "+15555550100", "--codes", *flags).stdout.split()
    assert len(codes) == 10
    assert clients.auth.auth("passcode", username="carla", passcode=codes[0])["result"] == "allow"
    txid = clients.auth.auth("phone", username="carla", device="auto", async_txn=True)["txid"]
    answered = _run("answer-call", "--number", "+15555550100", "--press", "#", *flags)
    assert answered.returncode == 0 and answered.stdout.strip().endswith("-> approved")
    assert clients.auth.auth_status(txid)["success"] is True


@pytest.mark.slow
def test_the_carrier_commands_take_the_service_and_token_as_flags_and_ignore_redis_flags(
        tls_service: ServiceProcess, integrations: IntegrationPair, dev_cert: DevCert,
        redis_url: str, tmp_path: Path) -> None:
    clients = tls_clients(tls_service, integrations, dev_cert)
    clients.admin.enroll_user("mona", "mona@example.org")
    endpoint = outbox_endpoint(tls_service)
    old_style = ["--redis-url", redis_url, "--prefix", "as"]
    shown = _run("mail", "--to", "mona@example.org", "--last", "--data-dir", str(tmp_path),
                 "--service", endpoint.url, "--outbox-token", endpoint.token,
                 "--ca-file", str(dev_cert.ca_cert), *old_style)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["to"] == "mona@example.org"
    notes = shown.stderr.splitlines()
    assert len(notes) == 2 and all("deprecated and ignored" in note for note in notes)
    assert "--redis-url" in notes[0] and "--prefix" in notes[1]


@pytest.mark.slow
def test_the_carrier_commands_refuse_a_wrong_token_and_a_missing_endpoint(
        tls_service: ServiceProcess, dev_cert: DevCert, tmp_path: Path) -> None:
    endpoint = outbox_endpoint(tls_service)
    wrong = _run("sms", "--number", "+15555550100", "--service", endpoint.url,
                 "--outbox-token", "0" * 64, "--ca-file", str(dev_cert.ca_cert))
    assert wrong.returncode == 1 and wrong.stdout == ""
    assert wrong.stderr.startswith("mobile-sim: error: 401 40103") and wrong.stderr.count("\n") == 1
    nowhere = _run("sms", "--number", "+15555550100", "--data-dir", str(tmp_path))
    assert nowhere.returncode == 1 and "no outbox endpoint" in nowhere.stderr


@pytest.mark.slow
def test_enroll_completes_a_mailed_enrollment(
        tls_service: ServiceProcess, integrations: IntegrationPair, dev_cert: DevCert,
        tmp_path: Path) -> None:
    clients = tls_clients(tls_service, integrations, dev_cert)
    clients.admin.enroll_user("enzo", "enzo@example.org")
    link = _run("mail", "--to", "enzo@example.org", "--links", "--data-dir",
                str(data_dir(tls_service)), "--ca-file", str(dev_cert.ca_cert)).stdout.split()[0]
    state = str(tmp_path / "enzo.json")
    enrolled = _run("enroll", link, "--state", state, "--ca-file", str(dev_cert.ca_cert))
    assert enrolled.returncode == 0, enrolled.stderr
    code = _run("passcode", "--state", state).stdout.strip()
    assert clients.auth.auth("passcode", username="enzo", passcode=code)["result"] == "allow"
