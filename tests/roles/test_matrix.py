"""The role × endpoint matrix, generated from the one permission table: every Admin API
endpoint (`cases.py`), every role; an allowed call gets past the check (and succeeds), a denied
call gets 403/40301 and changes nothing (every key in Redis but the administrator log is read
before and after and compared)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import duo_client
import pytest
from aiohttp import web

from authsvc.app import ROUTES
from authsvc.clock import SystemClock
from authsvc.crypto import SecretBox
from authsvc.domain.integrations import IntegrationRegistry
from authsvc.http.web import is_panel_path
from authsvc.model.permissions import PERMISSIONS
from authsvc.model.roles import Role
from authsvc.store import Redis, Store
from tests.harness import TEST_SECRET_KEY, ServiceProcess, redis_command
from tests.roles.cases import CASES, Case

pytestmark = pytest.mark.slow


def admin_client(redis_url: str, service: ServiceProcess, role: Role) -> duo_client.Admin:
    """duo_client.Admin with a new admin integration of this role."""

    async def create() -> tuple[str, str]:
        store = Store(Redis.from_url(redis_url))
        try:
            registry = IntegrationRegistry(store, SecretBox.from_passphrase(TEST_SECRET_KEY),
                                           SystemClock())
            made = await registry.create("admin", f"{role.value} key", role.value)
        finally:
            await store.close()
        return made.integration.ikey, made.skey

    ikey, skey = asyncio.run(create())
    return duo_client.Admin(ikey, skey, "127.0.0.1", ca_certs="HTTP", port=service.port)


def redis_state(port: int) -> dict[str, str]:
    """Every key with its type and content, as comparable text: all but the administrator log
    (which records the refusal), the rate-limit counters (which count every request) and the
    running services' heartbeat."""
    keys = sorted(key for key in _scan(port)
                  if not key.endswith((":adminlog", ":service:live")) and ":{rl:" not in key)
    return {key: value for key in keys if (value := _value(port, key))}


def _scan(port: int) -> Iterator[str]:
    reply = redis_command(port, "KEYS", "*").decode()
    return (line for line in reply.split("\r\n")[1:] if line and not line.startswith("$"))


def _value(port: int, key: str) -> str:
    kind = redis_command(port, "TYPE", key).decode().strip("+\r\n")
    if kind == "none":  # expired between KEYS and TYPE
        return ""
    read = {"string": ("GET",), "hash": ("HGETALL",), "set": ("SMEMBERS",),
            "list": ("LRANGE", "0", "-1"), "zset": ("ZRANGE", "0", "-1", "WITHSCORES"),
            "stream": ("XRANGE", "-", "+")}[kind]
    raw = redis_command(port, read[0], key, *read[1:]).decode(errors="replace")
    parts = raw.split("\r\n")
    return kind + ":" + "|".join(sorted(parts) if kind in ("hash", "set") else parts)


def _call(client: duo_client.Admin, case: Case,
          ids: dict[str, str]) -> tuple[int, dict[str, object]]:
    path = case.path.format(**ids)
    params = {key: str(value) for key, value in case.params(ids).items()}
    response, data = client.api_call(case.method, path, params)
    return response.status, json.loads(data)


def _prepare(owner: duo_client.Admin, case: Case) -> dict[str, str]:
    # The Help Desk conditions are tested on their own: here the table's answer must hold.
    owner.json_api_call("POST", "/admin/v1/settings", {"helpdesk_can_send_enroll_email": "1"})
    return case.setup(owner)


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name.replace(" ", "-"))
def test_each_role_may_do_exactly_what_the_table_says(
        case: Case, role: Role, redis_url: str, redis_server: object,
        service: ServiceProcess) -> None:
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    owner = admin_client(redis_url, service, Role.OWNER)
    caller = admin_client(redis_url, service, role)
    ids = _prepare(owner, case)
    before = redis_state(port)
    status, body = _call(caller, case, ids)
    if role in PERMISSIONS[case.action].roles:
        assert status == case.expect, body
        assert body.get("code") != 40301
    else:
        assert (status, body.get("code")) == (403, 40301), body
        assert redis_state(port) == before


def test_every_admin_api_route_has_a_case() -> None:
    app = web.Application()
    for module in ROUTES:
        try:
            module.setup_routes(app)
        except KeyError:  # modules that read the services at setup (the outbox)
            continue
    routes = {(route.method, route.resource.canonical) for route in app.router.routes()
              if route.resource is not None and route.method != "HEAD"
              and route.resource.canonical.startswith("/admin/")
              and not is_panel_path(route.resource.canonical)}  # the Admin Panel: tests/panel
    covered = {(case.method, _canonical(case.path)) for case in CASES}
    assert routes <= covered, sorted(routes - covered)


def _canonical(path: str) -> str:
    for literal in ("DWNOSUCHKEY", "DUNOSUCHKEY"):
        path = path.replace(literal, "{key}")
    for kind in ("webauthncredentials", "u2ftokens"):
        path = path.replace(f"/{kind}", "/{kind}")
    return path

