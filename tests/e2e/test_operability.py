"""Operability of a running service: /metrics (protected, counting by route template, factor
and result), request ids (accepted or made, echoed, in the logs and the authentication log),
JSON logs without secrets, and metrics summed over worker processes."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duo_client
import pytest
from prometheus_client import values

from authsvc.obs.metrics import prepare_workers
from tests.conftest import IntegrationPair, create_integrations
from tests.harness import RedisServer, ServiceProcess, free_port, service_env

TOKEN = "m" * 40


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
            return reply.status, dict(reply.headers), reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus's text format (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        series = re.fullmatch(r"(\w+)\{(.*)\} (\S+)", line)
        if series is None or series.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', series.group(2)))
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(series.group(3))
    return total


@pytest.fixture
def observed(redis_url: str, tmp_path: Path) -> Iterator[tuple[ServiceProcess, int]]:
    """A service with a metrics token, a separate metrics port, JSON logs and access log."""
    metrics_port = free_port()
    process = ServiceProcess(service_env(
        redis_url, tmp_path, AUTHSVC_METRICS_TOKEN=TOKEN, AUTHSVC_LOG_FORMAT="json",
        AUTHSVC_LOG_LEVEL="info", AUTHSVC_ACCESS_LOG="1",
        AUTHSVC_METRICS_LISTEN=f"127.0.0.1:{metrics_port}")).start(tmp_path / "serve.log")
    yield process, metrics_port
    process.stop()


def _clients(pair: IntegrationPair, port: int) -> tuple[duo_client.Admin, duo_client.Auth]:
    return (duo_client.Admin(pair.admin.ikey, pair.admin.skey, "127.0.0.1", ca_certs="HTTP",
                             port=port),
            duo_client.Auth(pair.auth.ikey, pair.auth.skey, "127.0.0.1", ca_certs="HTTP",
                            port=port))


def test_metrics_are_off_on_the_service_port_by_default(service: ServiceProcess) -> None:
    status, _, body = get(f"http://127.0.0.1:{service.port}/metrics")
    assert status == 404 and json.loads(body)["code"] == 40401


def test_metrics_need_the_token_and_count_by_route_factor_and_result(
        observed: tuple[ServiceProcess, int], redis_url: str) -> None:
    process, metrics_port = observed
    admin, auth = _clients(create_integrations(redis_url), process.port)
    user = admin.add_user("meg")
    [code] = admin.add_user_bypass_codes(user["user_id"], count=1, remaining_uses=1)
    assert auth.auth("passcode", username="meg", passcode=code)["result"] == "allow"
    assert auth.auth("passcode", username="meg", passcode=code)["result"] == "deny"
    url = f"http://127.0.0.1:{process.port}/metrics"
    assert get(url)[0] == 401
    assert get(url, {"Authorization": "Bearer " + "x" * 40})[0] == 401
    status, headers, text = get(url, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=")
    assert sample(text, "authsvc_decisions_total", factor="bypass_code", result="success") == 1
    assert sample(text, "authsvc_decisions_total", result="denied") == 1
    assert sample(text, "authsvc_http_requests_total", route="/auth/v2/auth", status="200") == 2
    assert sample(text, "authsvc_http_requests_total",
                  route="/admin/v1/users/{user_id}/bypass_codes", method="POST") == 1
    assert user["user_id"] not in text and code not in text  # templates, never raw paths
    assert sample(text, "authsvc_redis_round_trips_total") > 4
    assert sample(text, "authsvc_http_request_duration_seconds_count", route="/auth/v2/auth") == 2
    # The separate listener: no token, same figures.
    status, _, side = get(f"http://127.0.0.1:{metrics_port}/metrics")
    assert status == 200 and "authsvc_decisions_total" in side


def test_request_ids_are_echoed_logged_and_kept_in_the_authentication_log(
        observed: tuple[ServiceProcess, int], redis_url: str) -> None:
    process, _ = observed
    base = f"http://127.0.0.1:{process.port}"
    assert get(f"{base}/healthz", {"X-Request-Id": "req-42.a:b"})[1]["X-Request-Id"] == \
        "req-42.a:b"
    for bad in ("bad id!", "x" * 129, "-leading-dash"):
        made = get(f"{base}/healthz", {"X-Request-Id": bad})[1]["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)
    admin, auth = _clients(create_integrations(redis_url), process.port)
    user = admin.add_user("ned")
    [code] = admin.add_user_bypass_codes(user["user_id"], count=1)
    assert auth.auth("passcode", username="ned", passcode=code)["result"] == "allow"
    records = admin.json_api_call("GET", "/admin/v2/logs/authentication", {})["authlogs"]
    assert re.fullmatch(r"[0-9a-f]{32}", records[0]["request_id"])
    lines = [json.loads(line) for line in (process.data_dir / "serve.log").read_text()
             .splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "aiohttp.access"]
    assert records[0]["request_id"] in {line.get("request_id") for line in access}
    log_text = (process.data_dir / "serve.log").read_text()
    assert code not in log_text and TOKEN not in log_text


def test_worker_processes_share_their_metrics(redis_server: RedisServer, redis_url: str,
                                              tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes prepared like `serve --workers 2`: either one's /metrics is the sum."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # both restored after the test
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)
    directory = prepare_workers(tmp_path)
    assert directory == tmp_path / "metrics" and list(directory.iterdir()) == []
    workers = [ServiceProcess(service_env(redis_url, tmp_path / f"w{n}",
                                          AUTHSVC_METRICS_TOKEN=TOKEN))
               for n in range(2)]
    for n, worker in enumerate(workers):
        (tmp_path / f"w{n}").mkdir()
        worker.start(tmp_path / f"w{n}" / "serve.log")
    try:
        for worker in workers:
            for _ in range(3):
                assert get(f"http://127.0.0.1:{worker.port}/auth/v2/ping")[0] == 200
        texts = [get(f"http://127.0.0.1:{worker.port}/metrics",
                     {"Authorization": f"Bearer {TOKEN}"})[2] for worker in workers]
        for text in texts:
            assert sample(text, "authsvc_http_requests_total", route="/auth/v2/ping") == 6
    finally:
        for worker in workers:
            worker.stop()
