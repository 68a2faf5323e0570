"""mobile_sim's fleet mode: many phones in one process answering with a chosen mix."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from authsvc.tls import DevCert
from mobile_sim.fleet import Fleet, parse_mix
from mobile_sim.state import Account, private_pem
from tests.conftest import IntegrationPair
from tests.e2e.push_helpers import new_phone, tls_clients
from tests.harness import ServiceProcess

PHONES = 12


@pytest.mark.slow
async def test_a_fleet_answers_every_push_with_its_mix(
        tls_service: ServiceProcess, integrations: IntegrationPair, dev_cert: DevCert) -> None:
    clients = tls_clients(tls_service, integrations, dev_cert)
    links = []
    for index in range(PHONES):
        user = clients.admin.add_user(f"fleet{index}")
        phone = new_phone(clients.admin, user["user_id"])
        links.append(clients.admin.create_activation_url(phone["phone_id"])["activation_url"])
    mix = parse_mix("approve=1,deny=1", delay_ms=20, jitter_ms=10)
    async with Fleet(mix, ca_file=clients.ca_file) as fleet:
        await fleet.activate_all(links)
        assert len({account.pkey for account in fleet.accounts}) == PHONES
        stopped = asyncio.Event()
        serving = asyncio.create_task(fleet.run(30, stopped))
        answers = await asyncio.gather(*(
            asyncio.to_thread(clients.auth.auth, "push", username=f"fleet{index}", device="auto")
            for index in range(PHONES)))
        # A phone records its answer once the service has acknowledged it, which can be just
        # after the application has its result.
        async with asyncio.timeout(10):
            while sum(fleet.stats.outcomes.values()) < PHONES:
                await asyncio.sleep(0.05)
        stopped.set()
        await serving
    results = [answer["result"] for answer in answers]
    assert set(results) <= {"allow", "deny"}
    assert fleet.stats.outcomes["approved"] == results.count("allow")
    assert fleet.stats.outcomes["denied"] == results.count("deny")
    assert sum(fleet.stats.outcomes.values()) == PHONES


def test_a_mix_names_known_answers_only() -> None:
    assert parse_mix("approve=0.9,ignore=0.1").weights == {"approve": 0.9, "ignore": 0.1}
    with pytest.raises(ValueError, match="maybe"):
        parse_mix("maybe=1")


def test_an_account_key_is_parsed_once_per_process() -> None:
    # Parsing costs ~40 ms of CPU; a fleet signing two calls per push must not repeat it.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_pem(key)
    first = Account(host="h", pkey="p", akey="a", hotp_secret="s", private_key_pem=pem)
    second = Account(host="h", pkey="q", akey="b", hotp_secret="t", private_key_pem=pem)
    assert first.private_key() is key
    assert second.private_key() is key


def test_a_fleet_stopped_by_sigterm_prints_its_summary(tmp_path: Path) -> None:
    values = tmp_path / "values.txt"
    values.write_text("")
    fleet = subprocess.Popen(
        [sys.executable, "-m", "mobile_sim", "fleet", "--values", str(values),
         "--state", str(tmp_path / "fleet.json")],
        stdout=subprocess.PIPE, text=True)
    assert fleet.stdout is not None
    assert fleet.stdout.readline().startswith("fleet of 0 phones serving")
    fleet.send_signal(signal.SIGTERM)
    out, _ = fleet.communicate(timeout=20)
    assert fleet.returncode == 0
    assert json.loads(out.strip().splitlines()[-1]) == {"pushes": 0, "outcomes": {}, "errors": 0,
                                                         "error_kinds": {}}
