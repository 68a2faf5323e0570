"""The first hour, tried as a new user would: the README's steps as written, files under var/,
links that name the service that runs, and a clear line for each mistake (the busy port and the
unreachable Redis are in test_cli.py, `tokens authenticate --integration` in test_tokens_cli.py).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duo_client
import pytest

from authsvc.cli import main as authsvc_main
from authsvc.tls import DevCert
from mobile_sim.cli import main as mobile_sim_main
from tests.conftest import IntegrationPair
from tests.e2e.carrier_helpers import data_dir
from tests.harness import ServiceProcess, free_port

AUTHSVC = [sys.executable, "-m", "authsvc"]
MOBILE_SIM = [sys.executable, "-c", "import sys; from mobile_sim.cli import main; sys.exit(main())"]


def _env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AUTHSVC_", "MOBILE_SIM_", "TOKENS_"))}
    return {**env, "AUTHSVC_LOG_LEVEL": "info", **extra}


def _block(readme: str, heading: str, language: str) -> str:
    section = readme.split(f"## {heading}\n", 1)[1]
    return section.split(f"```{language}\n", 1)[1].split("```", 1)[0]


def _serve(cwd: Path, *args: str, log: Path) -> subprocess.Popen[bytes]:
    """`authsvc serve` run from `cwd`, as a user runs it from the checkout (data in ./var)."""
    with log.open("ab") as out:
        process = subprocess.Popen([*AUTHSVC, "serve", *args], cwd=cwd, env=_env(), stdout=out,
                                   stderr=out, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while "listening on" not in log.read_text():
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(15)


@pytest.mark.slow
def test_the_readme_first_steps_run_as_written(repo_root: Path, tmp_path: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    port = free_port()
    service = _serve(tmp_path, "--port", str(port), log=tmp_path / "serve.log")
    try:
        for line in _block(readme, "First steps", "sh").splitlines():
            command = line.split("#", 1)[0].strip()
            if command.startswith(".venv/bin/authsvc integration"):
                words, _, target = command.removeprefix(".venv/bin/authsvc ").partition(" > ")
                result = subprocess.run([*AUTHSVC, *words.split()], cwd=tmp_path, env=_env(),
                                        capture_output=True, text=True, check=True)
                (tmp_path / target).write_text(result.stdout)
            elif command.startswith("mkdir"):
                (tmp_path / "var").mkdir(exist_ok=True)
        code = _block(readme, "First steps", "python").replace("port=8080", f"port={port}")
        code += '\nassert auth.auth("passcode", username="alice", passcode="287082")["result"] == "allow"\n'
        subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(), check=True,
                       timeout=60)
    finally:
        _stop(service)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["serve.log", "var"]


def test_the_walkthroughs_write_their_files_under_var(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    written = re.findall(r"> ?([\w./-]+\.(?:json|csv))", readme)
    assert written and all(path.startswith("var/") for path in written), written
    assert "MOBILE_SIM_STATE=var/" in readme and "TOKENS_STATE=var/" in readme
    assert "--integration var/app.json" in readme
    assert "docker compose up" in readme and "no Docker engine" in readme


@pytest.mark.slow
def test_links_name_the_running_service_not_one_that_stopped(
        dev_cert: DevCert, tmp_path: Path) -> None:
    tls_port, plain_port = free_port(), free_port()
    tls = _serve(tmp_path, "--host", "localhost", "--port", str(tls_port), "--tls-cert",
                 str(dev_cert.cert), "--tls-key", str(dev_cert.key), log=tmp_path / "tls.log")
    try:
        plain = _serve(tmp_path, "--port", str(plain_port), log=tmp_path / "plain.log")
        _stop(plain)  # started last, then stopped: its http:// address must not be used
        # The running service writes the carrier's outbox.json again on its next heartbeat.
        discovery, deadline = tmp_path / "var" / "outbox.json", time.monotonic() + 30
        while not discovery.exists() or "https://" not in discovery.read_text():
            assert time.monotonic() < deadline, "outbox.json was not written again"
            time.sleep(0.1)
        (tmp_path / "var" / "people.csv").write_text("username,email\nann,ann@example.org\n")
        enrolled = subprocess.run([*AUTHSVC, "users", "bulk-enroll", "var/people.csv"],
                                  cwd=tmp_path, env=_env(), capture_output=True, text=True)
        assert enrolled.returncode == 0, enrolled.stderr
        assert "note:" not in enrolled.stderr
        mail = subprocess.run([*MOBILE_SIM, "mail", "--to", "ann@example.org", "--links",
                               "--ca-file", str(dev_cert.ca_cert)], cwd=tmp_path, env=_env(),
                              capture_output=True, text=True, check=True)
        assert mail.stdout.startswith(f"https://localhost:{tls_port}/portal/enroll/"), mail
    finally:
        _stop(tls)
    (tmp_path / "var" / "more.csv").write_text("username,email\nbob,bob@example.org\n")
    alone = subprocess.run([*AUTHSVC, "users", "bulk-enroll", "var/more.csv"], cwd=tmp_path,
                           env=_env(), capture_output=True, text=True)
    assert "note: no running service announced its address" in alone.stderr


@pytest.mark.slow
def test_mobile_sim_says_why_tls_failed(tls_service: ServiceProcess) -> None:
    link = f"https://localhost:{tls_service.port}/portal/enroll/ABCDEFGHIJKLMNOPQRSTUV"
    untrusted = subprocess.run([*MOBILE_SIM, "enroll", link], env=_env(), capture_output=True,
                               text=True)
    assert untrusted.returncode == 1
    assert untrusted.stderr.startswith("mobile-sim: error: the service's TLS certificate is not "
                                       "trusted: pass --ca-file")
    plain = subprocess.run([*MOBILE_SIM, "enroll", link.replace("https:", "http:")],
                           env=_env(), capture_output=True, text=True)
    assert "an http:// URL to a port that speaks HTTPS?" in plain.stderr
    assert "SSL" not in untrusted.stderr + plain.stderr
    assert "Server disconnected" not in plain.stderr


@pytest.mark.slow
def test_mobile_sim_sms_into_a_closed_pipe_says_nothing(
        service: ServiceProcess, integrations: IntegrationPair) -> None:
    """`mobile-sim sms ... | head -n1`: the reader leaves early; no "Broken pipe" on stderr."""
    admin = duo_client.Admin(integrations.admin.ikey, integrations.admin.skey, "127.0.0.1",
                             ca_certs="HTTP", port=service.port)
    auth = duo_client.Auth(integrations.auth.ikey, integrations.auth.skey, "127.0.0.1",
                           ca_certs="HTTP", port=service.port)
    user = admin.add_user("pipe")
    phone = admin.add_phone(number="+15555550166", type="mobile")
    admin.add_user_phone(user["user_id"], phone["phone_id"])
    auth.auth("sms", username="pipe", device=phone["phone_id"])
    reader, writer = os.pipe()
    os.close(reader)  # a reader that has already left, as head does after one line
    try:
        result = subprocess.run([*MOBILE_SIM, "sms", "--number", "+15555550166", "--codes",
                                 "--data-dir", str(data_dir(service))], env=_env(),
                                stdout=writer, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(writer)
    assert result.returncode == 0 and result.stderr == ""


def test_a_misspelt_option_is_named_with_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        mobile_sim_main(["serve", "--aprove"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == ("mobile-sim serve: error: unknown option --aprove: did "
                                       "you mean --approve? (see --help)\n")
    with pytest.raises(SystemExit):
        authsvc_main(["serve", "--prot", "9000"])
    assert "unknown option --prot: did you mean --port?" in capsys.readouterr().err


@pytest.mark.parametrize(("content", "says"), [
    ("username,email\nzoé,zoé@example.org\n".encode("latin-1"),
     "people.csv is not UTF-8 text (byte 0xe9 on line 2): save it as UTF-8"),
    (b"name,mail\nann,ann@example.org\n",
     "csv: line 1: the first line must be the header username,email or a username,email row"),
    (b"username,email\nann,ann@example.org\nbob,bob.example.org\n",
     "csv: line 3: email (no @)"),
    (b"username,email\nbad user!,bad@example.org\n",
     "csv: line 2: username (space, '!' not allowed: use letters, digits and"),
])
def test_bulk_enroll_refuses_a_bad_csv_saying_where_and_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, says: str) -> None:
    csv = tmp_path / "people.csv"
    csv.write_bytes(content)
    assert authsvc_main(["users", "bulk-enroll", str(csv), "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err and "Traceback" not in err
    assert not (tmp_path / "redis.url").exists()  # refused before anything started


def test_bad_user_is_refused_as_a_username(admin_api: duo_client.Admin) -> None:
    with pytest.raises(RuntimeError, match=r"400 .*username \(space, '!' not allowed"):
        admin_api.add_user("bad user!")
    assert admin_api.add_user("o'brien+test@corp")["username"] == "o'brien+test@corp"


def test_bootstrap_picks_a_python_without_pyenv_noise(repo_root: Path, tmp_path: Path) -> None:
    shim = tmp_path / "python3.13"  # what pyenv leaves for a version it does not have
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    function = re.search(r"^pick_python\(\) \{.*?^\}", (repo_root / "bootstrap.sh").read_text(),
                         re.S | re.M)
    assert function is not None
    result = subprocess.run(
        ["bash", "-c", f"{function.group(0)}\npick_python"], capture_output=True, text=True,
        env={"PATH": f"{tmp_path}:{Path(sys.executable).parent}:/usr/bin:/bin"}, check=True)
    assert result.stderr == "" and result.stdout.strip().startswith("python3")


def test_readiness_answers_when_the_service_is_up(service: ServiceProcess) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{service.port}/readyz") as reply:
        assert json.load(reply) == {"stat": "OK", "response": {"redis": "ok"}}
