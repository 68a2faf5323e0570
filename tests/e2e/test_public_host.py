"""`--public-host` names the host written into links, and is accepted as the signed host (for a
service behind a proxy that rewrites Host)."""

from __future__ import annotations

import email.utils
import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import duo_client
import pytest
from duo_client.client import sign

from tests.conftest import IntegrationPair, create_integrations
from tests.harness import RedisServer, ServiceProcess, service_env

PUBLIC = "auth.example.test:9443"


@pytest.fixture
def proxied(redis_server: RedisServer, redis_url: str, tmp_path: Path
            ) -> Iterator[tuple[ServiceProcess, IntegrationPair]]:
    process = ServiceProcess(service_env(redis_server.url, tmp_path / "data"),
                             args=("--public-host", PUBLIC))
    process.start(tmp_path / "serve.log")
    yield process, create_integrations(redis_url)
    process.stop()


@pytest.mark.slow
def test_links_use_the_public_host(proxied: tuple[ServiceProcess, IntegrationPair]) -> None:
    process, keys = proxied
    auth = duo_client.Auth(keys.auth.ikey, keys.auth.skey, "127.0.0.1", ca_certs="HTTP",
                           port=process.port)
    url = auth.preauth(username="newcomer")["enroll_portal_url"]
    assert url.startswith(f"http://{PUBLIC}/")


@pytest.mark.slow
@pytest.mark.parametrize(("signed_host", "status"), [("auth.example.test", 200),
                                                     ("elsewhere.example.test", 401)])
def test_a_request_signed_for_the_public_host_is_accepted(
        proxied: tuple[ServiceProcess, IntegrationPair], signed_host: str, status: int) -> None:
    process, keys = proxied
    date = email.utils.formatdate()
    authorization = sign(keys.auth.ikey, keys.auth.skey, "GET", signed_host, "/auth/v2/check",
                         date, 5, {}, body="", additional_headers={})
    connection = http.client.HTTPConnection("127.0.0.1", process.port, timeout=10)
    connection.request("GET", "/auth/v2/check?", headers={"Authorization": authorization,
                                                          "Date": date})
    reply = connection.getresponse()
    assert reply.status == status
    assert json.loads(reply.read())["stat"] == ("OK" if status == 200 else "FAIL")
    connection.close()
