"""Shared steps of the Duo Mobile tests: duo_client over TLS, and phones played by mobile_sim."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import duo_client

from authsvc.tls import DevCert
from mobile_sim.client import DeviceClient, activate, resolve_activation
from mobile_sim.state import Account
from tests.conftest import IntegrationPair
from tests.harness import Service


@dataclass
class Clients:
    admin: duo_client.Admin
    auth: duo_client.Auth
    ca_file: str


def tls_clients(service: Service, keys: IntegrationPair, cert: DevCert) -> Clients:
    ca = str(cert.ca_cert)
    return Clients(
        duo_client.Admin(keys.admin.ikey, keys.admin.skey, "127.0.0.1", ca_certs=ca,
                         port=service.port),
        duo_client.Auth(keys.auth.ikey, keys.auth.skey, "127.0.0.1", ca_certs=ca,
                        port=service.port),
        ca)


def new_phone(admin: duo_client.Admin, user_id: str, platform: str = "google android"
              ) -> dict[str, Any]:
    phone: dict[str, Any] = admin.add_phone(number="+15555550100", type="mobile",
                                            platform=platform, name="Test phone")
    admin.add_user_phone(user_id, phone["phone_id"])
    return phone


async def activate_phone(session: aiohttp.ClientSession, admin: duo_client.Admin,
                         phone_id: str, ca_file: str) -> Account:
    """An app activated for the phone from its activation URL, as a user would."""
    activation = admin.create_activation_url(phone_id)
    value = await resolve_activation(session, activation["activation_url"], ca_file)
    return await activate(session, value, ca_file)


async def one_push(device: DeviceClient, wait: float = 10) -> dict[str, Any]:
    """The single pending push on the device (long poll)."""
    pending = await device.transactions(wait=wait)
    assert len(pending) == 1, pending
    return pending[0]
