"""Every CSV importer refuses a file the csv module cannot read with 40002 naming `csv`, never
a 500 (schemathesis found `csv.Error` escaping the bulk enrollment as a 500)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from authsvc.domain.csv_rows import csv_rows
from authsvc.domain.invitations import parse_bulk_csv
from authsvc.domain.token_import import parse_csv
from authsvc.domain.user_import_csv import parse_import_csv
from authsvc.errors import InvalidParameter

HUGE = '"' + "x" * 200_000 + '"'


def test_a_lone_carriage_return_ends_a_row() -> None:
    assert csv_rows("alice,alice@example.org\rbob,bob@example.org\r\n") == [
        ["alice", "alice@example.org"], ["bob", "bob@example.org"]]
    assert [row.username for row in parse_bulk_csv("alice,a@example.org\rbob,b@example.org")
            ] == ["alice", "bob"]


@pytest.mark.parametrize(("parse", "text"), [
    (parse_bulk_csv, f"alice,alice@example.org\n{HUGE}"),
    (parse_import_csv, f"username\n{HUGE}"),
    (lambda text: parse_csv(text, "h6"), f"SERIAL-1,{HUGE}"),
])
def test_an_unreadable_csv_is_a_parameter_error(parse: Callable[[str], Any], text: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse(text)
    assert caught.value.message_detail is not None
    assert caught.value.message_detail.startswith("csv")
