"""docs/ stays true where it copies code: the permission table in docs/api.md is the one in
authsvc/model/permissions.py."""

from __future__ import annotations

from pathlib import Path

from authsvc.model.permissions import permission_table_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_docs_api_shows_the_permission_table_as_the_code_has_it() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    start = text.index("<!-- permission table: generated, do not edit by hand -->\n")
    end = text.index("\n<!-- end of permission table -->")
    shown = text[start:end].split("\n", 1)[1]
    assert shown == permission_table_markdown()
