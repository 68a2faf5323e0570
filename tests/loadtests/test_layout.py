"""loadtests/ stays one small tool: the service's internals are imported by one module only (the
seeding, for speed), modules and functions stay small, and the profiler reads modules, not
function names."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtests.core.profile import LAYERS, OTHER, Frame, layer_of, parse_frame, request_of

ROOT = Path(__file__).resolve().parents[2]
LOADTESTS = ROOT / "loadtests"
SEEDING = "loadtests/core/seeding.py"
ANYWHERE = {"authsvc.embedded_redis", "authsvc.tls"}  # a private Redis and dev certs, as serve does
# The lean client is what these two measure, on purpose.
ONLY_IN = {"authsvc.store.redis_client": {"loadtests/scenarios/ceiling.py",
                                          "loadtests/scenarios/topologies.py"}}


def _modules() -> list[Path]:
    return sorted(LOADTESTS.rglob("*.py"))


def _imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            yield node.module or ""


def test_only_the_seeding_module_imports_the_services_internals() -> None:
    offenders = []
    for path in _modules():
        name = path.relative_to(ROOT).as_posix()
        for module in _imported(path):
            if module.split(".")[0] != "authsvc" or name == SEEDING or module in ANYWHERE:
                continue
            if name not in ONLY_IN.get(module, set()):
                offenders.append(f"{name} imports {module}")
    assert offenders == []


def test_the_seeding_module_says_why_it_may() -> None:
    doc = ast.get_docstring(ast.parse((ROOT / SEEDING).read_text())) or ""
    assert "the one module" in doc and "speed" in doc and "Services.build" in doc


def test_modules_and_functions_stay_small() -> None:
    too_big = []
    for path in _modules():
        text = path.read_text()
        if len(text.splitlines()) > 300:
            too_big.append(f"{path.name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 40:
                    too_big.append(f"{path.name}:{node.lineno} {node.name}: {length} lines")
    assert too_big == []


@pytest.mark.parametrize(("file", "module"), [
    ("authsvc/http/signature.py", "authsvc/http/signature.py"),  # py-spy's short name
    ("/srv/checkout/.venv/lib/python3.11/site-packages/aiohttp/web_protocol.py",
     "aiohttp/web_protocol.py"),
    ("/usr/lib/python3.12/asyncio/base_events.py", "asyncio/base_events.py"),
    (str(ROOT / "authsvc/domain/auth.py"), "authsvc/domain/auth.py"),
])
def test_a_frame_is_named_by_the_module_it_runs_in(file: str, module: str) -> None:
    assert parse_frame(f"anything ({file}:12)") == Frame("anything", module)


@pytest.mark.parametrize(("module", "layer"), [
    ("authsvc/http/signature.py", "request signature check"),
    ("authsvc/wire/duo_sig.py", "request signature check"),
    ("authsvc/store/redis_client.py", "lean Redis client (pack, futures, replies)"),
    ("authsvc/store/attempts.py", "Redis store (keys, scripts, records)"),
    ("authsvc/factors/hotp.py", "passcode factors (AES-GCM seed, HOTP, YubiKey OTP, bypass hash)"),
    ("aiohttp/web_protocol.py", "aiohttp (HTTP parsing, routing, responses)"),
    ("ssl.py", "TLS (ssl, asyncio sslproto)"),
    ("json/encoder.py", OTHER),
])
def test_a_sample_is_charged_by_module_whatever_the_function_is_called(module: str,
                                                                       layer: str) -> None:
    for function in ("verify", "renamed_by_a_refactor", "Class.method"):
        assert layer_of([Frame("_run_code", "<frozen runpy>"), Frame(function, module)]) == layer


def test_library_frames_without_a_layer_leave_the_sample_to_their_caller() -> None:
    stack = [Frame("auth", "authsvc/http/auth_api.py"), Frame("record", "authsvc/domain/authlog.py"),
             Frame("dumps", "json/__init__.py"), Frame("iterencode", "json/encoder.py")]
    assert layer_of(stack) == "authentication log"
    assert request_of(stack) == "Auth API: auth (push) and auth_status"


def test_every_layer_names_modules_only() -> None:
    for _, modules in LAYERS:
        assert all(module.endswith((".py", "/")) for module in modules)
