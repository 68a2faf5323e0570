"""The outbox provider's endpoint against the real service: only the outbox token reads it, the
service announces it in its data dir, a webhook service has none, and Redis holds no code."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duo_client
import pytest

from authsvc.crypto import SecretBox
from authsvc.settings import Secret
from mobile_sim.carrier import passcodes
from tests.e2e.carrier_helpers import carrier_of, data_dir, outbox_endpoint
from tests.harness import TEST_SECRET_KEY, RedisServer, redis_command
from tests.inprocess.serving import InProcessService, WaitCountingClock, settings_for

NUMBER = "+15555550143"


def _get(base: str, query: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
    """GET the endpoint as any HTTP client would: (status, JSON body)."""
    headers = {"Authorization": authorization} if authorization is not None else {}
    request = urllib.request.Request(  # noqa: S310 - loopback test server
        f"{base}/outbox/v1/messages?{urllib.parse.urlencode(query)}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


@pytest.fixture
def texted(admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> str:
    """A user with a phone at NUMBER who was just sent an SMS passcode batch."""
    user = admin_api.add_user("olga")
    phone = admin_api.add_phone(number=NUMBER, type="mobile", platform="google android")
    admin_api.add_user_phone(user["user_id"], phone["phone_id"])
    assert auth_api.auth("sms", username="olga", device="auto")["status"] == "sent"
    return str(user["user_id"])


def test_the_service_announces_its_outbox_in_a_private_file(service: InProcessService) -> None:
    path = data_dir(service) / "outbox.json"
    assert path.stat().st_mode & 0o777 == 0o600
    endpoint = outbox_endpoint(service)
    assert endpoint.url == f"http://127.0.0.1:{service.port}"
    assert endpoint.token == SecretBox.from_passphrase(TEST_SECRET_KEY).derive_token(
        "outbox reader v1")  # derived from the master key: every process agrees
    assert endpoint.token not in repr(endpoint)


def test_the_outbox_answers_only_with_its_token(service: InProcessService, texted: str) -> None:
    base, token = outbox_endpoint(service).url, outbox_endpoint(service).token
    query = {"channel": "sms", "to": NUMBER}
    status, body = _get(base, query, f"Bearer {token}")
    assert status == 200 and body["stat"] == "OK"
    [message] = body["response"]
    codes = passcodes(message)
    assert len(codes) == 10 and message["to"] == NUMBER and message["kind"] == "sms_passcodes"
    other_key = SecretBox(b"another master key").derive_token("outbox reader v1")
    for authorization, code in [(None, 40101), ("Bearer", 40101), (f"Basic {token}", 40101),
                                ("Bearer " + "0" * 64, 40103), (f"Bearer {token[:-1]}", 40103),
                                (f"Bearer {other_key}", 40103)]:
        status, refused = _get(base, query, authorization)
        assert (status, refused["stat"], refused["code"]) == (401, "FAIL", code), authorization
        assert "response" not in refused and not any(c in json.dumps(refused) for c in codes)


def test_the_outbox_names_a_bad_channel_or_a_missing_destination(
        service: InProcessService, redis_url: str) -> None:
    endpoint = outbox_endpoint(service)
    bearer = f"Bearer {endpoint.token}"
    assert _get(endpoint.url, {"channel": "fax", "to": NUMBER}, bearer)[1]["code"] == 40002
    assert _get(endpoint.url, {"channel": "sms"}, bearer)[1]["code"] == 40001
    assert _get(endpoint.url, {"channel": "email", "to": "nobody@example.org"}, bearer) == (
        200, {"stat": "OK", "response": []})


def test_a_redis_dump_holds_no_sms_passcode(service: InProcessService, texted: str,
                                            auth_api: duo_client.Auth,
                                            admin_api: duo_client.Admin,
                                            redis_server: RedisServer) -> None:
    admin_api.json_api_call("POST", "/admin/v1/settings", {"sms_batch_cooldown": "0"})
    assert auth_api.auth("sms", username="olga", device="auto")["status"] == "sent"
    sent = carrier_of(service).messages("sms", NUMBER)
    codes = [code for message in sent for code in passcodes(message)]
    assert len(sent) == 2 and len(codes) == 20
    keys = redis_command(redis_server.port, "KEYS", "*").decode("latin-1").split("\r\n")
    outbox_keys = [key for key in keys if ":outbox:" in key]
    assert outbox_keys == [f"as:outbox:sms:{NUMBER}"]
    listed = redis_command(redis_server.port, "LRANGE", outbox_keys[0], "0", "-1")
    assert listed.count(b"\r\nv1.") == 2  # two sealed entries
    dump = listed + redis_command(redis_server.port, "DUMP", outbox_keys[0])
    assert not [code for code in codes if code.encode() in dump]
    ttl = int(redis_command(redis_server.port, "TTL", outbox_keys[0]).strip().lstrip(b":"))
    assert 3500 < ttl <= 3600  # kept one hour after the newest message


@pytest.fixture
def webhook_service(redis_url: str, fake_clock: WaitCountingClock,
                    tmp_path: Path) -> Iterator[InProcessService]:
    """A service delivering by webhook (to a URL nobody answers: nothing is sent here)."""
    service = InProcessService(settings_for(
        redis_url, tmp_path / "data", delivery="webhook", webhook_url="http://127.0.0.1:9/hook",
        webhook_secret=Secret("x" * 32)), fake_clock)
    service.start()
    yield service
    service.stop()


def test_a_webhook_service_has_no_outbox_endpoint(webhook_service: InProcessService) -> None:
    token = SecretBox.from_passphrase(TEST_SECRET_KEY).derive_token("outbox reader v1")
    status, body = _get(f"http://127.0.0.1:{webhook_service.port}",
                        {"channel": "sms", "to": NUMBER}, f"Bearer {token}")
    assert (status, body["code"]) == (404, 40401)
    assert not (data_dir(webhook_service) / "outbox.json").exists()
