"""mobile_sim's fleet mode: many phones in one process answering with a chosen mix."""

from __future__ import annotations

import asyncio

import pytest

from authsvc.tls import DevCert
from mobile_sim.fleet import Fleet, parse_mix
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
        serving = asyncio.create_task(fleet.run(8))
        answers = await asyncio.gather(*(
            asyncio.to_thread(clients.auth.auth, "push", username=f"fleet{index}", device="auto")
            for index in range(PHONES)))
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
    results = [answer["result"] for answer in answers]
    assert set(results) <= {"allow", "deny"}
    assert fleet.stats.outcomes["approved"] == results.count("allow")
    assert fleet.stats.outcomes["denied"] == results.count("deny")
    assert sum(fleet.stats.outcomes.values()) == PHONES


def test_a_mix_names_known_answers_only() -> None:
    assert parse_mix("approve=0.9,ignore=0.1").weights == {"approve": 0.9, "ignore": 0.1}
    with pytest.raises(ValueError, match="maybe"):
        parse_mix("maybe=1")
