"""Shared fixtures: a real redis-server per session (flushed per test), the service as a real
process over HTTP and over TLS, fresh integrations per test, and duo_client clients bound to them.

`tests/inprocess/conftest.py` overrides `service` and `tls_service` with the app built in the
test's own process (on a clock the test moves); `admin_api` and `auth_api` follow the override.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import duo_client
import pytest

from authsvc.clock import SystemClock
from authsvc.crypto import SecretBox
from authsvc.domain.integrations import IntegrationRegistry
from authsvc.store import Redis, Store
from authsvc.tls import DevCert, write_dev_cert
from tests.harness import TEST_SECRET_KEY, RedisServer, Service, ServiceProcess, service_env


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session Redis, emptied for this test."""
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def box() -> SecretBox:
    return SecretBox.from_passphrase(TEST_SECRET_KEY)


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    """A store on the emptied session Redis, in the test's event loop."""
    store = Store(Redis.from_url(redis_url))
    await store.start()
    yield store
    await store.close()


@pytest.fixture(scope="session")
def dev_cert(tmp_path_factory: pytest.TempPathFactory) -> DevCert:
    return write_dev_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def service(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[ServiceProcess]:
    """`authsvc serve` over plain HTTP against the session Redis."""
    data = tmp_path_factory.mktemp("service")
    process = ServiceProcess(service_env(redis_server.url, data)).start(data / "serve.log")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def tls_service(redis_server: RedisServer, dev_cert: DevCert,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """`authsvc serve` over TLS (dev CA) against the session Redis."""
    data = tmp_path_factory.mktemp("tls-service")
    process = ServiceProcess(
        service_env(redis_server.url, data),
        args=("--tls-cert", str(dev_cert.cert), "--tls-key", str(dev_cert.key)),
        tls_ca=dev_cert.ca_cert,
    ).start(data / "serve.log")
    yield process
    process.stop()


@dataclass(frozen=True)
class Keys:
    ikey: str
    skey: str


@dataclass(frozen=True)
class IntegrationPair:
    admin: Keys
    auth: Keys


def create_integrations(redis_url: str) -> IntegrationPair:
    """An admin and an auth integration, created the way the CLI does it."""

    async def create() -> IntegrationPair:
        store = Store(Redis.from_url(redis_url))
        registry = IntegrationRegistry(store, SecretBox.from_passphrase(TEST_SECRET_KEY),
                                       SystemClock())
        try:
            admin = await registry.create("admin", "test admin")
            auth = await registry.create("auth", "test application")
        finally:
            await store.close()
        return IntegrationPair(Keys(admin.integration.ikey, admin.skey),
                               Keys(auth.integration.ikey, auth.skey))

    return asyncio.run(create())


@pytest.fixture
def integrations(redis_url: str) -> IntegrationPair:
    return create_integrations(redis_url)


@pytest.fixture
def admin_api(service: Service, integrations: IntegrationPair) -> duo_client.Admin:
    """duo_client.Admin, unmodified, over plain HTTP."""
    return duo_client.Admin(integrations.admin.ikey, integrations.admin.skey, "127.0.0.1",
                            ca_certs="HTTP", port=service.port)


@pytest.fixture
def auth_api(service: Service, integrations: IntegrationPair) -> duo_client.Auth:
    """duo_client.Auth, unmodified, over plain HTTP."""
    return duo_client.Auth(integrations.auth.ikey, integrations.auth.skey, "127.0.0.1",
                           ca_certs="HTTP", port=service.port)


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
