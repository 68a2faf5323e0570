"""Dependency rules, checked on the import statements of every module.

- mobile_sim/ and tokens/ import nothing from authsvc (independent implementations), no Redis
  client, and name none of the service's Redis keys: they reach the service over HTTP only;
- domain/ and factors/ never import aiohttp; wire/ imports only the standard library;
- only store/ talks to Redis (hiredis, redis).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


LEAVES = frozenset({"errors", "clock", "crypto", "wire", "obs"})
# What each layer of authsvc/ may import from authsvc/ (besides itself).
LAYERS: dict[str, frozenset[str]] = {
    "errors": frozenset(),
    "wire": frozenset(),
    "clock": frozenset(),
    "crypto": frozenset(),
    "obs": frozenset(),
    "model": frozenset({"errors"}),
    "store": frozenset({"model", "errors"}),
    "factors": frozenset({"model", "errors", "crypto"}),
    "domain": frozenset({"factors", "store", "model"}) | LEAVES,
    "gateways": frozenset({"domain", "store", "model"}) | LEAVES,
    "http": frozenset({"domain", "model", "services"}) | LEAVES,
}
TOP = frozenset({"__init__", "__main__", "app", "cli", "services", "settings",
                 "embedded_redis", "tls", "discovery", "server",
                 "wiring", "loops", "supervisor", "worker", "workers"})


def _layer_of(path: Path) -> str:
    return path.relative_to(ROOT / "authsvc").parts[0].removesuffix(".py")


def _imported_layers(path: Path) -> set[str]:
    return {name.split(".")[1] for name in _imports(path)
            if name.startswith("authsvc.") and len(name.split(".")) > 1}


def test_every_module_of_authsvc_has_a_layer() -> None:
    assert {_layer_of(path) for path in _modules("authsvc")} <= set(LAYERS) | TOP


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_imports_only_run_down(layer: str) -> None:
    allowed = LAYERS[layer] | {layer}
    for path in _modules("authsvc"):
        if _layer_of(path) == layer:
            assert _imported_layers(path) <= allowed, (path, _imported_layers(path) - allowed)


def test_above_the_store_only_its_facade_is_imported() -> None:
    for path in _modules("authsvc"):
        if _layer_of(path) not in ("store", *TOP):
            assert not [name for name in _imports(path) if name.startswith("authsvc.store.")
                        ], path


def test_the_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The rule itself: a store module importing the domain is refused."""
    bad = tmp_path / "bad.py"
    bad.write_text("from authsvc.domain.users import UserDirectory\n")
    assert not _imported_layers(bad) <= LAYERS["store"] | {"store"}


@pytest.mark.parametrize("folder", ["mobile_sim", "tokens"])
def test_simulators_import_nothing_from_authsvc(folder: str) -> None:
    for path in _modules(folder):
        assert not [name for name in _imports(path) if name.split(".")[0] == "authsvc"], path


def _key_fragments() -> set[str]:
    """The fixed parts of every key name built in store/keys/ (``:outbox:``, ``}:sms``...)."""
    trees = [ast.parse(path.read_text()) for path in (ROOT / "authsvc/store/keys").glob("*.py")]
    return {part.value for tree in trees for node in ast.walk(tree)
            if isinstance(node, ast.JoinedStr)
            for part in node.values
            if isinstance(part, ast.Constant) and isinstance(part.value, str)
            and any(char.isalpha() for char in part.value)}


@pytest.mark.parametrize("folder", ["mobile_sim", "tokens"])
def test_simulators_do_not_talk_to_redis(folder: str) -> None:
    for path in _modules(folder):
        assert not [name for name in _imports(path) if name.split(".")[0] in ("hiredis", "redis")
                    ], path


@pytest.mark.parametrize("folder", ["mobile_sim", "tokens"])
def test_simulators_name_none_of_the_services_redis_keys(folder: str) -> None:
    fragments = _key_fragments()
    assert {":outbox:", "}:sms", ":service:base_url"} <= fragments  # the scan sees the schema
    forbidden = fragments | {"redis.url"}  # nor the embedded Redis's address file
    for path in _modules(folder):
        text = path.read_text()
        assert not [fragment for fragment in forbidden if fragment in text], path


@pytest.mark.parametrize("folder", ["authsvc/domain", "authsvc/factors", "authsvc/store",
                                    "authsvc/model"])
def test_domain_factors_and_store_do_not_import_aiohttp(folder: str) -> None:
    for path in _modules(folder):
        assert not [name for name in _imports(path) if name.startswith("aiohttp")], path


def test_only_the_store_talks_to_redis() -> None:
    for path in _modules("authsvc"):
        if "store" in path.relative_to(ROOT / "authsvc").parts:
            continue
        assert not [name for name in _imports(path) if name.split(".")[0] in ("hiredis", "redis")]


def test_wire_formats_use_the_standard_library_only() -> None:
    for path in _modules("authsvc/wire"):
        assert not [name for name in _imports(path)
                    if name.split(".")[0] in ("authsvc", "aiohttp", "cryptography")], path
