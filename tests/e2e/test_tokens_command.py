"""The `tokens` command, as a process, registers the software security key in the self-service
portal and authenticates with it through the Auth API, against `authsvc serve` over TLS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from authsvc.tls import DevCert
from tests.conftest import IntegrationPair
from tests.e2e.push_helpers import tls_clients
from tests.harness import ServiceProcess


@pytest.mark.slow
def test_the_tokens_command_registers_and_authenticates_the_software_key(
        tls_service: ServiceProcess, integrations: IntegrationPair, dev_cert: DevCert,
        tmp_path: Path) -> None:
    clients = tls_clients(tls_service, integrations, dev_cert)
    user = clients.admin.add_user("toki")
    [code] = clients.admin.add_user_bypass_codes(user["user_id"], count=1)
    service = f"https://127.0.0.1:{tls_service.port}"
    common = ["--service", service, "--username", "toki", "--ca-file", str(dev_cert.ca_cert),
              "--state", str(tmp_path / "tokens.json")]
    tokens = [sys.executable, "-c", "import sys; from tokens.cli import main; sys.exit(main())"]
    registered = subprocess.run([*tokens, "register", *common, "--passcode", code],
                                capture_output=True, text=True, timeout=60, check=False)
    assert registered.returncode == 0, registered.stderr
    authenticated = subprocess.run(
        [*tokens, "authenticate", *common, "--ikey", integrations.auth.ikey,
         "--skey", integrations.auth.skey], capture_output=True, text=True, timeout=60,
        check=False)
    assert authenticated.returncode == 0, authenticated.stderr
    assert json.loads(authenticated.stdout)["result"] == "allow"
