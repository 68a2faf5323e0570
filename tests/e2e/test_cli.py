"""The `authsvc` command: help and errors, the embedded Redis, integrations, dev certificates."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duo_client
import pytest

from authsvc.server import busy_port_message
from authsvc.settings import Settings
from authsvc.store import SCHEMA_VERSION
from tests.harness import RedisServer, ServiceProcess, free_port

AUTHSVC = [sys.executable, "-m", "authsvc"]
SUBCOMMANDS = [[], ["serve"], ["integration"], ["integration", "create"], ["integration", "list"],
               ["users"], ["users", "bulk-enroll"], ["users", "import"], ["users", "recount"],
               ["tls"], ["tls", "dev-cert"], ["admin"], ["admin", "create"], ["admin", "reset"]]


def _env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTHSVC_")}
    env["AUTHSVC_LOG_LEVEL"] = "warning"
    env.update(extra)
    return env


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AUTHSVC, *args], capture_output=True, text=True, timeout=60,
                          env=env or _env(), check=False)


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=lambda words: " ".join(words) or "authsvc")
def test_every_subcommand_has_help(words: list[str]) -> None:
    result = _run(*words, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: authsvc")


@pytest.mark.parametrize("args", [
    [], ["serve", "--bogus"], ["serve", "--port", "eighty"], ["integration"],
    ["integration", "create", "--type", "nope", "--name", "x"], ["integration", "create"],
    ["tls", "dev-cert", "--days"], ["frobnicate"],
], ids=repr)
def test_bad_flags_give_one_line_and_exit_status_two(args: list[str]) -> None:
    result = _run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("authsvc")
    assert "error:" in result.stderr


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    result = _run("tls", "dev-cert", "--out", str(tmp_path), env=_env(AUTHSVC_PORT="abc"))
    assert result.returncode == 1
    assert "AUTHSVC_PORT" in result.stderr and "Traceback" not in result.stderr


def test_tls_dev_cert_writes_the_files_it_prints(tmp_path: Path) -> None:
    result = _run("tls", "dev-cert", "--out", str(tmp_path / "tls"), "--name", "auth.example")
    paths = json.loads(result.stdout)
    assert set(paths) == {"ca_cert", "ca_key", "cert", "key"}
    assert all(Path(path).is_file() for path in paths.values())
    assert b"BEGIN CERTIFICATE" in Path(paths["cert"]).read_bytes()


def _unix_redis(path: Path, *command: str) -> bytes:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(str(path))
        parts = "".join(f"${len(arg)}\r\n{arg}\r\n" for arg in command)
        sock.sendall(f"*{len(command)}\r\n{parts}".encode())
        return sock.recv(4096)


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[ServiceProcess]:
    """`authsvc serve` with no AUTHSVC_REDIS_URL: it starts its own redis-server."""
    process = ServiceProcess(_env(), args=("--data-dir", str(tmp_path / "var")))
    process.start(tmp_path / "serve.log")
    yield process
    process.stop()


@pytest.mark.slow
def test_serve_runs_a_private_durable_redis_and_stops_it_on_exit(
        embedded: ServiceProcess, tmp_path: Path) -> None:
    data = tmp_path / "var"
    socket_path = data / "redis.sock"
    assert _unix_redis(socket_path, "PING").startswith(b"+PONG")
    assert b"always" in _unix_redis(socket_path, "CONFIG", "GET", "appendfsync")
    assert b"yes" in _unix_redis(socket_path, "CONFIG", "GET", "appendonly")
    assert (data / "secret.key").stat().st_mode & 0o777 == 0o600
    assert data.stat().st_mode & 0o077 == 0
    embedded.stop()
    assert not socket_path.exists()
    assert not (data / "redis.url").exists()


@pytest.mark.slow
def test_integrations_created_from_the_cli_work_with_duo_client_and_survive_restart(
        embedded: ServiceProcess, tmp_path: Path) -> None:
    data = str(tmp_path / "var")
    created = json.loads(_run("integration", "create", "--type", "admin", "--name", "Ops",
                              "--role", "user_manager", "--data-dir", data).stdout)
    assert set(created) == {"ikey", "skey", "type", "name", "role"}
    assert created["ikey"].startswith("DI") and len(created["ikey"]) == 20
    assert len(created["skey"]) == 40
    assert (created["type"], created["name"], created["role"]) == ("admin", "Ops", "user_manager")
    listed = [json.loads(line) for line in _run("integration", "list", "--data-dir", data)
              .stdout.splitlines()]
    assert [entry["ikey"] for entry in listed] == [created["ikey"]]
    assert "skey" not in listed[0] and created["skey"] not in json.dumps(listed)

    def admin() -> duo_client.Admin:
        return duo_client.Admin(created["ikey"], created["skey"], "127.0.0.1", ca_certs="HTTP",
                                port=embedded.port)

    admin().add_user("kept")
    embedded.stop()
    embedded.start(tmp_path / "serve-again.log")
    assert [user["username"] for user in admin().get_users()] == ["kept"]


@pytest.mark.slow
def test_integration_create_without_a_running_service_uses_a_temporary_redis(
        tmp_path: Path) -> None:
    data = str(tmp_path / "var")
    created = json.loads(_run("integration", "create", "--type", "auth", "--name", "App",
                              "--data-dir", data).stdout)
    assert not (tmp_path / "var" / "redis.url").exists()
    listed = _run("integration", "list", "--data-dir", data).stdout
    assert created["ikey"] in listed


@pytest.mark.slow
def test_bulk_enroll_from_a_csv_reports_every_row_and_refuses_a_bad_file(
        embedded: ServiceProcess, tmp_path: Path) -> None:
    data = str(tmp_path / "var")
    bad = tmp_path / "bad.csv"
    bad.write_text("username,email\nann,ann@example.org\nbob\n")
    refused = _run("users", "bulk-enroll", str(bad), "--data-dir", data)
    assert refused.returncode == 1 and "line 3" in refused.stderr
    good = tmp_path / "good.csv"
    good.write_text("username,email\nann,ann@example.org\nbob,bob@example.org\n")
    result = _run("users", "bulk-enroll", str(good), "--data-dir", data)
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["line 2: ann <ann@example.org>: mailed",
                                          "line 3: bob <bob@example.org>: mailed"]
    assert "enrolling" in result.stderr  # the progress bar
    mail = subprocess.run(
        [sys.executable, "-c", "import sys; from mobile_sim.cli import main; sys.exit(main())",
         "mail", "--to", "bob@example.org", "--links", "--data-dir", data],
        capture_output=True, text=True, timeout=60, check=False)
    assert f"127.0.0.1:{embedded.port}/portal/enroll/" in mail.stdout


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_a_busy_port_says_so_and_never_claims_to_listen(
        redis_server: RedisServer, tmp_path: Path, workers: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run("serve", "--port", str(port), "--data-dir", str(tmp_path),
                      "--workers", workers,
                      env=_env(AUTHSVC_REDIS_URL=redis_server.url, AUTHSVC_LOG_LEVEL="info"))
    assert result.returncode == 1
    assert f"authsvc: error: port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "listening on" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_serve_refuses_a_store_a_newer_version_marked(redis_server: RedisServer,
                                                      tmp_path: Path) -> None:
    # Under a prefix of its own: a newer mark under the suite's would stop its long-lived
    # services at their next heartbeat (tests/e2e/test_schema_superseded.py).
    redis_server.command("SET", "schema-test:schema", str(SCHEMA_VERSION + 1))
    try:
        result = _run("serve", "--port", str(free_port()), "--data-dir", str(tmp_path),
                      env=_env(AUTHSVC_REDIS_URL=redis_server.url, AUTHSVC_LOG_LEVEL="info",
                               AUTHSVC_KEY_PREFIX="schema-test"))
        mark = redis_server.command("GET", "schema-test:schema")
    finally:
        redis_server.command("DEL", "schema-test:schema")
    assert result.returncode == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("authsvc: error: this Redis holds data laid out by a newer authsvc "
                           f"(schema {SCHEMA_VERSION + 1};"), result.stderr
    assert "listening on" not in result.stderr and "Traceback" not in result.stderr
    newer = str(SCHEMA_VERSION + 1)
    assert mark == f"${len(newer)}\r\n{newer}\r\n".encode()  # never lowered


def test_the_busy_port_message_has_a_hint_for_8443() -> None:
    hint = busy_port_message(Settings(port=8443))
    assert "8443 is a common TLS port" in hint and "--port" in hint


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_refuses_to_start_when_the_redis_url_does_not_answer(tmp_path: Path,
                                                                   workers: str) -> None:
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    result = _run("serve", "--port", str(free_port()), "--data-dir", str(tmp_path),
                  "--workers", workers,
                  env=_env(AUTHSVC_REDIS_URL=nobody, AUTHSVC_LOG_LEVEL="info"))
    assert result.returncode == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("authsvc: error: cannot use Redis at 127.0.0.1:") and \
        "(AUTHSVC_REDIS_URL)" in line, result.stderr
    assert "listening on" not in result.stderr and "Traceback" not in result.stderr
def test_users_import_reports_every_row_and_recount_counts_them(
        embedded: ServiceProcess, tmp_path: Path) -> None:
    data = str(tmp_path / "var")
    csv_file = tmp_path / "users.csv"
    csv_file.write_text("username,email,status,phone1,phone1_platform\n"
                        "cara,cara@example.org,active,+15555550101,apple ios\n"
                        "dev,not-an-email,,,\n"
                        "eli,,bypass,,\n")
    checked = _run("users", "import", str(csv_file), "--dry-run", "--data-dir", data)
    assert checked.stdout.splitlines() == ["line 2: cara: would_create",
                                           "line 3: error: email: no @",
                                           "line 4: eli: would_create"]
    result = _run("users", "import", str(csv_file), "--data-dir", data)
    assert result.returncode == 1  # a row failed; the others are imported
    assert result.stdout.splitlines() == ["line 2: cara: created",
                                          "line 3: error: email: no @",
                                          "line 4: eli: created"]
    counted = _run("users", "recount", "--data-dir", data)
    assert (counted.returncode, counted.stdout) == (0, "counted 2 user(s)\n")
