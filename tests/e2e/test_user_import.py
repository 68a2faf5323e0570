"""Bulk user import over the Admin API (authsvc extension, seed 001 Import Users): duo_client's
signed call, a report entry per row, bad rows named, the imported users usable at once."""

from __future__ import annotations

from typing import Any

import duo_client
import pytest


def _import(admin: duo_client.Admin, csv: str, **extra: str) -> dict[str, Any]:
    report: dict[str, Any] = admin.json_api_call("POST", "/admin/v1/users/import",
                                                 {"csv": csv, **extra})
    return report


def test_import_creates_updates_and_deletes_users_and_reports_every_row(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    admin_api.add_user("lou", email="lou@old.example.org")
    admin_api.add_user("max")
    csv = ("Username,Email,Status,Alias1,Phone1,Phone1_Platform,Action\n"
           "kai,kai@example.org,bypass,kai.k,+15555550150,google android,\n"
           "lou,lou@example.org,,,,,update\n"
           "max,,,,,,delete\n"
           "ned,ned-at-example.org,,,,,\n"
           "kai.k,,,,,,create\n")

    checked = _import(admin_api, csv, dry_run="1")
    report = _import(admin_api, csv)

    assert [row.get("result") for row in checked["rows"]] == [
        "would_create", "would_update", "would_delete", None, "would_create"]
    assert report["errors"] == 2
    assert [(row["line"], row.get("result") or f"{row['field']}: {row['error']}")
            for row in report["rows"]] == [
        (2, "created"), (3, "updated"), (4, "deleted"), (5, "email: no @"),
        (6, "username: a user with this name or alias exists")]
    kai = admin_api.get_users_by_name("kai.k")[0]
    assert (kai["status"], kai["aliases"], [p["number"] for p in kai["phones"]]) == (
        "bypass", {"alias1": "kai.k"}, ["+15555550150"])
    assert admin_api.get_users_by_name("lou")[0]["email"] == "lou@example.org"
    assert admin_api.get_users_by_name("max")[0]["status"] == "pending deletion"
    assert auth_api.preauth(username="kai")["result"] == "allow"
    counts = admin_api.json_api_call("GET", "/admin/v1/users/counts", {})
    assert (counts["total"], counts["bypass"], counts["trash"]) == (2, 1, 1)


def test_an_unusable_file_is_a_400_naming_the_problem(admin_api: duo_client.Admin) -> None:
    with pytest.raises(RuntimeError, match="400.*unknown column 'shoe'"):
        _import(admin_api, "username,shoe\nann,9\n")
    assert admin_api.get_users() == []
