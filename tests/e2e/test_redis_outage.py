"""While Redis is unreachable the service answers 503 in Duo's envelope, and it recovers by
itself (scripts reloaded) when Redis comes back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duo_client
import pytest

from tests.conftest import create_integrations
from tests.harness import RedisServer, ServiceProcess, service_env


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start(appendonly=True)
    yield server
    server.stop()


@pytest.mark.slow
def test_redis_outage_gives_503_envelopes_and_the_service_recovers(
        own_redis: RedisServer, tmp_path: Path) -> None:
    service = ServiceProcess(service_env(own_redis.url, tmp_path / "data",
                                         AUTHSVC_REDIS_TIMEOUT="0.5"))
    service.start(tmp_path / "serve.log")
    try:
        keys = create_integrations(own_redis.url)
        admin = duo_client.Admin(keys.admin.ikey, keys.admin.skey, "127.0.0.1", ca_certs="HTTP",
                                 port=service.port)
        auth = duo_client.Auth(keys.auth.ikey, keys.auth.skey, "127.0.0.1", ca_certs="HTTP",
                               port=service.port)
        user = admin.add_user("steady")
        codes = admin.add_user_bypass_codes(user["user_id"], count=2)
        assert auth.auth("passcode", username="steady", passcode=codes[0])["result"] == "allow"

        own_redis.stop()
        for call in (lambda: auth.auth("passcode", username="steady", passcode=codes[1]),
                     admin.get_users):
            with pytest.raises(RuntimeError) as caught:
                call()
            error = caught.value
            assert getattr(error, "status", None) == 503
            assert "Service temporarily unavailable" in str(error)

        own_redis.start(appendonly=True)
        assert auth.auth("passcode", username="steady", passcode=codes[1])["result"] == "allow"
        assert auth.auth("passcode", username="steady", passcode=codes[1])["result"] == "deny"
        assert "Traceback" not in (tmp_path / "serve.log").read_text()
    finally:
        service.stop()
