"""The OpenAPI document says what the app mounts: every Auth and Admin API route is documented,
and nothing is documented that the app does not serve."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from authsvc.app import create_app
from authsvc.http.openapi import document
from authsvc.http.web import is_panel_path
from authsvc.settings import Settings

API = re.compile(r"^/(auth|admin)/")
# aiohttp's `{kind:a|b}` routes have a regex group per placeholder; a literal alternation means
# one documented path per alternative.
_CHOICES = re.compile(r"\(\?P<(\w+)>([\w|]+)\)")


def _app(tmp_path: Path) -> web.Application:
    settings = Settings.from_env({"AUTHSVC_DATA_DIR": str(tmp_path),
                                  "AUTHSVC_REDIS_URL": "redis://127.0.0.1:1"})
    return create_app(settings)


def _templates(info: Mapping[str, Any]) -> list[str]:
    template = str(info.get("path") or info.get("formatter") or "")
    pattern = info.get("pattern")
    choices = _CHOICES.findall(pattern.pattern) if isinstance(pattern, re.Pattern) else []
    expanded = [template]
    for name, alternatives in choices:
        expanded = [path.replace(f"{{{name}}}", choice) for path in expanded
                    for choice in alternatives.split("|")]
    return expanded


def mounted(app: web.Application) -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for route in app.router.routes():
        if route.resource is None or route.method == "HEAD":
            continue
        routes.update((route.method, path) for path in _templates(route.resource.get_info())
                      if API.match(path) and not is_panel_path(path))  # the panel is HTML
    return routes


def documented() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document()["paths"].items()
            for method in item}


def test_every_route_is_documented_and_nothing_else(tmp_path: Path) -> None:
    routes, docs = mounted(_app(tmp_path)), documented()
    assert routes - docs == set(), "mounted but not documented"
    assert docs - routes == set(), "documented but not mounted"
    assert len(docs) > 80


def test_the_document_is_valid_openapi_3_1() -> None:
    # The OpenAPI 3.1 meta-schema is not shipped; check the parts a tool reads.
    doc = document()
    assert doc["openapi"] == "3.1.0"
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert set(operation["responses"]) >= {"200", "400", "500"}, (method, path)
            names = [p["name"] for p in operation["parameters"] if p["in"] == "path"]
            assert names == re.findall(r"{(\w+)}", path)
    validator = jsonschema_rs.Draft202012Validator(
        {"$ref": "#/components/schemas/User", "components": doc["components"]})
    assert not validator.is_valid({"user_id": 1})


@pytest.mark.parametrize("path", ["/openapi.json"])
async def test_the_document_is_served_unsigned(tmp_path: Path, path: str) -> None:
    async with TestClient(TestServer(_app(tmp_path))) as client:
        response = await client.get(path)
        assert response.status == 200
        assert await response.json() == document()
