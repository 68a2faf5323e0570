"""Packaging, compose file and the two README commands (no Docker engine runs here, so the
compose file is checked by parsing it and running the very commands it names)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from authsvc.settings import ENV_TABLE
from tests.harness import free_port, redis_command


def _compose(repo_root: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((repo_root / "docker-compose.yml").read_text())
    return data


def test_compose_runs_redis_with_fsync_always_and_its_command_is_real(
        repo_root: Path, tmp_path: Path) -> None:
    command = _compose(repo_root)["services"]["redis"]["command"]
    assert command[0] == "redis-server" and shutil.which("redis-server")
    assert command[command.index("--appendfsync") + 1] == "always"
    port = free_port()
    process = subprocess.Popen(["redis-server", *command[1:], "--port", str(port),
                                "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                reply = redis_command(port, "CONFIG", "GET", "appendfsync")
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        assert reply.endswith(b"always\r\n")
    finally:
        process.terminate()
        process.wait(10)


def test_compose_runs_the_authsvc_console_script_with_known_settings(repo_root: Path) -> None:
    service = _compose(repo_root)["services"]["authsvc"]
    command = service["command"]
    assert command[0] == "authsvc"
    scripts = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["scripts"]
    assert "authsvc" in scripts and "mobile-sim" in scripts
    result = subprocess.run([sys.executable, "-m", "authsvc", *command[1:], "--help"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    known = {var.name for var in ENV_TABLE}
    assert set(service["environment"]) <= known
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    dockerfile = (repo_root / "Dockerfile").read_text()
    assert "pip install" in dockerfile and '"authsvc", "serve"' in dockerfile


def test_compose_cluster_profile_runs_six_real_cluster_nodes_and_points_authsvc_at_one(
        repo_root: Path, tmp_path: Path) -> None:
    services = _compose(repo_root)["services"]
    nodes = [name for name in services if name.startswith("redis-c") and name[-1].isdigit()]
    assert len(nodes) == 6 and all(services[n]["profiles"] == ["cluster"] for n in nodes)
    init = " ".join(services["redis-cluster-init"]["command"])
    assert "--cluster create" in init and "--cluster-replicas 1" in init
    app = services["authsvc-cluster"]
    assert app["environment"]["AUTHSVC_REDIS_URL"] == "redis://redis-c1:6379"
    assert set(app["environment"]) <= {var.name for var in ENV_TABLE}
    command = services[nodes[0]]["command"]
    port = free_port()
    process = subprocess.Popen(["redis-server", *command[1:], "--port", str(port),
                                "--cluster-port", str(free_port()), "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                reply = redis_command(port, "INFO", "cluster")
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        assert b"cluster_enabled:1" in reply
        assert redis_command(port, "CONFIG", "GET", "appendfsync").endswith(b"always\r\n")
    finally:
        process.terminate()
        process.wait(10)


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    first_block = readme.split("```")[1]
    commands = [line for line in first_block.splitlines()[1:] if line.strip()]
    assert commands[0].startswith("./bootstrap.sh serve")
    assert commands[1].startswith("./bootstrap.sh test")
    ci = (repo_root / ".ci" / "run").read_text()
    assert "exec ./bootstrap.sh test" in ci


@pytest.mark.parametrize("module", ["authsvc.cli", "mobile_sim.cli"])
def test_console_scripts_answer_help(module: str) -> None:
    code = f"import sys; from {module} import main; sys.exit(main(['--help']))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0 and "usage:" in result.stdout


def _third_party_imports(package: Path) -> set[str]:
    """Top-level modules the package imports that are neither the standard library nor ours."""
    ours = {"authsvc", "mobile_sim", "tokens"}
    found: set[str] = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - ours - set(sys.stdlib_module_names)


def test_everything_the_shipped_packages_import_is_a_runtime_dependency(repo_root: Path) -> None:
    # A dependency listed only in the dev extra works in the test venv and breaks `pip install`.
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!~ \[]", spec, maxsplit=1)[0].lower().replace("_", "-")
                for spec in project["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    for package in ("authsvc", "mobile_sim", "tokens"):
        for module in _third_party_imports(repo_root / package):
            names = {name.lower().replace("_", "-") for name in distributions.get(module, [module])}
            assert names & declared, f"{package} imports {module}, not in [project].dependencies"
