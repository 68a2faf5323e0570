"""Admin API users through duo_client.Admin, unmodified, against the service."""

from __future__ import annotations

import duo_client
import pytest


def _error(call: object) -> RuntimeError:
    assert isinstance(call, RuntimeError)
    return call


def test_add_user_stores_the_username_lowercase_and_returns_duo_user_object(
        admin_api: duo_client.Admin) -> None:
    user = admin_api.add_user("Alice.Smith", realname="Alice Smith", email="alice@example.org",
                              notes="VIP", firstname="Alice", lastname="Smith", alias1="ASmith")
    assert user["username"] == "alice.smith"
    assert user["user_id"].startswith("DU") and len(user["user_id"]) == 20
    assert user["status"] == "active"
    assert user["aliases"] == {"alias1": "asmith"}
    assert user["realname"] == "Alice Smith" and user["email"] == "alice@example.org"
    assert user["tokens"] == [] and user["phones"] == [] and user["is_enrolled"] is False
    assert admin_api.get_user_by_id(user["user_id"]) == user


def test_usernames_are_case_insensitive_and_unique_together_with_aliases(
        admin_api: duo_client.Admin) -> None:
    admin_api.add_user("bob", alias1="robert")
    for taken in ("BOB", "Robert"):
        with pytest.raises(RuntimeError, match="400") as caught:
            admin_api.add_user(taken)
        assert "already in use" in str(caught.value)
    with pytest.raises(RuntimeError, match="already in use"):
        admin_api.add_user("carol", alias2="BOB")
    assert [user["username"] for user in admin_api.get_users()] == ["bob"]


def test_get_users_by_name_finds_usernames_and_aliases_in_any_case(
        admin_api: duo_client.Admin) -> None:
    user = admin_api.add_user("dave", alias1="d.one", alias3="d.three")
    for name in ("dave", "DAVE", "d.one", "D.Three"):
        found = admin_api.get_users_by_name(name)
        assert [found_user["user_id"] for found_user in found] == [user["user_id"]]
    assert admin_api.get_users_by_name("nobody") == []


def test_all_eight_aliases_are_accepted_and_a_ninth_slot_is_refused(
        admin_api: duo_client.Admin) -> None:
    aliases = "&".join(f"alias{slot}=name{slot}" for slot in range(1, 9))
    user = admin_api.add_user("eve", aliases=aliases)
    assert user["aliases"] == {f"alias{slot}": f"name{slot}" for slot in range(1, 9)}
    assert admin_api.get_users_by_name("name8")[0]["user_id"] == user["user_id"]
    with pytest.raises(RuntimeError, match="400"):
        admin_api.add_user("frank", aliases="alias9=toomany")
    assert admin_api.get_users_by_name("frank") == []


def test_update_user_renames_and_frees_the_old_name(admin_api: duo_client.Admin) -> None:
    user = admin_api.add_user("gina", alias1="gg")
    updated = admin_api.update_user(user["user_id"], username="Gina.New", alias1="", realname="G")
    assert updated["username"] == "gina.new" and updated["aliases"] == {}
    assert updated["realname"] == "G"
    assert admin_api.get_users_by_name("gina") == []
    assert admin_api.get_users_by_name("gg") == []
    assert admin_api.add_user("gina")["username"] == "gina"


def test_rename_onto_a_taken_name_fails_and_changes_nothing(admin_api: duo_client.Admin) -> None:
    first = admin_api.add_user("henry")
    admin_api.add_user("ivan")
    with pytest.raises(RuntimeError, match="already in use"):
        admin_api.update_user(first["user_id"], username="ivan", realname="changed")
    assert admin_api.get_user_by_id(first["user_id"])["username"] == "henry"
    assert admin_api.get_user_by_id(first["user_id"])["realname"] == ""


def test_status_can_be_set_to_bypass_and_disabled_but_not_locked_out(
        admin_api: duo_client.Admin) -> None:
    user = admin_api.add_user("judy", status="bypass")
    assert user["status"] == "bypass"
    assert admin_api.update_user(user["user_id"], status="disabled")["status"] == "disabled"
    with pytest.raises(RuntimeError, match="400"):
        admin_api.update_user(user["user_id"], status="locked out")
    with pytest.raises(RuntimeError, match="400"):
        admin_api.add_user("kim", status="sleeping")


def test_get_users_pages_by_offset_until_next_offset_is_absent(admin_api: duo_client.Admin) -> None:
    created = [admin_api.add_user(f"user{index:02d}")["user_id"] for index in range(7)]
    page = admin_api.get_users(limit=3, offset=0)
    assert [user["user_id"] for user in page] == created[:3]
    paged = duo_client.Admin(admin_api.ikey, admin_api.skey, admin_api.host,
                             ca_certs="HTTP", port=admin_api.port, paging_limit=3)
    assert [user["user_id"] for user in paged.get_users()] == created
    assert [user["user_id"] for user in admin_api.get_users(limit=3, offset=6)] == created[6:]


def test_delete_user_sends_to_the_trash_and_deleting_for_good_frees_the_names(
        admin_api: duo_client.Admin) -> None:
    user = admin_api.add_user("leo", alias1="lion")
    token = admin_api.add_hotp6_token("LEO-1", "3132333435363738393031323334353637383930")
    admin_api.add_user_token(user["user_id"], token["token_id"])
    admin_api.delete_user(user["user_id"])
    admin_api.delete_user(user["user_id"])  # 200 again, as duo_client expects
    assert admin_api.get_user_by_id(user["user_id"])["status"] == "pending deletion"
    with pytest.raises(RuntimeError, match="400"):
        admin_api.add_user("lion")  # names stay with the user while it can be restored
    admin_api.json_api_call("DELETE", f"/admin/v1/trash/{user['user_id']}", {})
    with pytest.raises(RuntimeError, match="404"):
        admin_api.get_user_by_id(user["user_id"])
    assert admin_api.get_users_by_name("lion") == []
    assert admin_api.get_token_by_id(token["token_id"])["users"] == []
    admin_api.add_user("lion")


def test_get_user_by_email_and_by_lists(admin_api: duo_client.Admin) -> None:
    one = admin_api.add_user("mia", email="Mia@Example.org")
    two = admin_api.add_user("ned", alias1="neddy")
    assert [u["user_id"] for u in admin_api.get_user_by_email("mia@example.org")] == [one["user_id"]]
    by_names = admin_api.get_users_by_names(["mia", "neddy", "nobody"])
    assert sorted(u["user_id"] for u in by_names) == sorted([one["user_id"], two["user_id"]])
    by_ids = admin_api.get_users_by_ids([two["user_id"]])
    assert [u["username"] for u in by_ids] == ["ned"]
