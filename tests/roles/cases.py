"""Every Admin API endpoint as a case for the role matrix: the action it needs (from the one
permission table), how the owner prepares what it touches, and the request.

`expect` is the answer an allowed caller gets when the case cannot cheaply build its object
(for example a verification-push answer for a push that does not exist): the permission check
comes first, so allowed callers get past it (200, or the 4xx of the missing object) and denied
callers get 403/40301 before anything is looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duo_client

from authsvc.model.permissions import Action
from tokens.oath import oath_code

SEED = bytes(range(20))
Ids = dict[str, str]


@dataclass(frozen=True)
class Case:
    """One endpoint: METHOD path (with {placeholders} from the setup's ids), its parameters."""

    name: str
    action: Action
    method: str
    path: str
    params: Callable[[Ids], dict[str, Any]] = field(default=lambda ids: {})
    setup: Callable[[duo_client.Admin], Ids] = field(default=lambda owner: {})
    expect: int = 200


def a_user(owner: duo_client.Admin) -> Ids:
    user = owner.add_user("rita", email="rita@example.org", status="disabled")
    return {"user_id": user["user_id"]}


def user_with_devices(owner: duo_client.Admin) -> Ids:
    ids = a_user(owner)
    phone = owner.add_phone(number="+15555550100", type="mobile", platform="google android")
    owner.add_user_phone(ids["user_id"], phone["phone_id"])
    token = owner.add_hotp6_token("T-1", SEED.hex())
    owner.add_user_token(ids["user_id"], token["token_id"])
    spare = owner.add_hotp6_token("T-2", SEED.hex())
    codes = owner.add_user_bypass_codes(ids["user_id"], count=1)
    code_id = owner.get_user_bypass_codes(ids["user_id"])[0]["bypass_code_id"]
    assert codes
    return {**ids, "phone_id": phone["phone_id"], "token_id": token["token_id"],
            "spare_token_id": spare["token_id"], "bypass_code_id": code_id}


def pending_enrollment(owner: duo_client.Admin) -> Ids:
    owner.enroll_user("newbie", "newbie@example.org")
    enrollment = owner.json_api_call("GET", "/admin/v1/enrollments", {})[0]
    return {"enrollment_id": enrollment["enrollment_id"]}


def an_admin(owner: duo_client.Admin) -> Ids:
    admin = owner.add_admin("Hal", "hal@example.org", None, None, role="Help Desk")
    return {"admin_id": admin["admin_id"]}


def a_group_and_member(owner: duo_client.Admin) -> Ids:
    ids = a_user(owner)
    group = owner.create_group("Night shift")
    owner.add_user_group(ids["user_id"], group["group_id"])
    spare = owner.create_group("Day shift")
    return {**ids, "group_id": group["group_id"], "spare_group_id": spare["group_id"]}


def a_user_in_the_trash(owner: duo_client.Admin) -> Ids:
    ids = a_user(owner)
    owner.delete_user(ids["user_id"])
    return ids


def an_application(owner: duo_client.Admin) -> Ids:
    made = owner.json_api_call("POST", "/admin/v3/integrations",
                               {"name": "Payroll", "type": "authapi"})
    return {"ikey": made["integration_key"]}


def a_unit(owner: duo_client.Admin) -> Ids:
    """A unit holding one admin, one group and one application, and one of each outside it."""
    ids = {**an_admin(owner), **an_application(owner)}
    group = owner.create_group("Branch office")
    unit = owner.json_api_call("POST", "/admin/v1/administrative_units", {
        "name": "Branch", "description": "The branch office", "restrict_by_groups": "true",
        "admins": ids["admin_id"], "groups": group["group_id"], "integrations": ids["ikey"]})
    spare_admin = owner.add_admin("Una", "una@example.org", None, None, role="User Manager")
    spare_app = an_application(owner)
    return {**ids, "admin_unit_id": unit["admin_unit_id"], "group_id": group["group_id"],
            "spare_admin_id": spare_admin["admin_id"],
            "spare_group_id": owner.create_group("Head office")["group_id"],
            "spare_ikey": spare_app["ikey"]}


def _member(name: str) -> Callable[[duo_client.Admin], Ids]:
    """`a_unit`, with `member` the id `name` names (what the membership path takes)."""
    def setup(owner: duo_client.Admin) -> Ids:
        ids = a_unit(owner)
        return {**ids, "member": ids[name]}
    return setup


def _resync(ids: Ids) -> dict[str, Any]:
    return {f"code{n}": oath_code(SEED, 500 + n) for n in (1, 2, 3)}


USERS = [
    Case("list users", Action.READ_USERS, "GET", "/admin/v1/users", setup=a_user),
    Case("add user", Action.CREATE_USERS, "POST", "/admin/v1/users",
         params=lambda ids: {"username": "brand-new"}),
    Case("get user", Action.READ_USERS, "GET", "/admin/v1/users/{user_id}", setup=a_user),
    Case("update user details", Action.UPDATE_USERS, "POST", "/admin/v1/users/{user_id}",
         params=lambda ids: {"realname": "Rita Renamed"}, setup=a_user),
    Case("reactivate a disabled user", Action.CHANGE_USER_STATUS, "POST",
         "/admin/v1/users/{user_id}", params=lambda ids: {"status": "active"}, setup=a_user),
    Case("delete user", Action.DELETE_USERS, "DELETE", "/admin/v1/users/{user_id}",
         setup=a_user),
    Case("user tokens", Action.READ_USERS, "GET", "/admin/v1/users/{user_id}/tokens",
         setup=user_with_devices),
    Case("assign token", Action.MANAGE_DEVICES, "POST", "/admin/v1/users/{user_id}/tokens",
         params=lambda ids: {"token_id": ids["spare_token_id"]}, setup=user_with_devices),
    Case("unassign token", Action.MANAGE_DEVICES, "DELETE",
         "/admin/v1/users/{user_id}/tokens/{token_id}", setup=user_with_devices),
    Case("user bypass codes", Action.READ_USERS, "GET", "/admin/v1/users/{user_id}/bypass_codes",
         setup=user_with_devices),
    Case("create bypass codes", Action.CREATE_BYPASS_CODES, "POST",
         "/admin/v1/users/{user_id}/bypass_codes", params=lambda ids: {"count": "1"},
         setup=a_user),
    Case("user phones", Action.READ_USERS, "GET", "/admin/v1/users/{user_id}/phones",
         setup=user_with_devices),
    Case("attach phone", Action.MANAGE_DEVICES, "POST", "/admin/v1/users/{user_id}/phones",
         params=lambda ids: {"phone_id": ids["phone_id"]}, setup=lambda owner: {
             **a_user(owner), "phone_id": owner.add_phone(number="+15555550101")["phone_id"]}),
    Case("order phones", Action.MANAGE_DEVICES, "POST", "/admin/v1/users/{user_id}/phones/order",
         params=lambda ids: {"phone_ids": ids["phone_id"]}, setup=user_with_devices),
    Case("detach phone", Action.MANAGE_DEVICES, "DELETE",
         "/admin/v1/users/{user_id}/phones/{phone_id}", setup=user_with_devices),
    Case("security-key enrollment link", Action.MANAGE_DEVICES, "POST",
         "/admin/v1/users/{user_id}/security_key_enrollment", setup=a_user),
    Case("verification push", Action.VERIFY_WITH_PUSH, "POST",
         "/admin/v1/users/{user_id}/send_verification_push",
         params=lambda ids: {"phone_id": ids["phone_id"]}, setup=user_with_devices, expect=400),
    Case("verification push answer", Action.VERIFY_WITH_PUSH, "GET",
         "/admin/v1/users/{user_id}/verification_push_response",
         params=lambda ids: {"push_id": "no-such-push"}, setup=a_user, expect=404),
    Case("user webauthn credentials", Action.READ_USERS, "GET",
         "/admin/v1/users/{user_id}/webauthncredentials", setup=a_user),
    Case("user u2f tokens", Action.READ_USERS, "GET", "/admin/v1/users/{user_id}/u2ftokens",
         setup=a_user),
]

ENROLLMENT = [
    Case("send enrollment email", Action.SEND_ENROLLMENT, "POST", "/admin/v1/users/enroll",
         params=lambda ids: {"username": "rita", "email": "rita@example.org"}, setup=a_user),
    Case("bulk enrollment", Action.BULK_ENROLL, "POST", "/admin/v1/users/enroll/bulk",
         params=lambda ids: {"csv": "bulky,bulky@example.org\n"}),
    Case("pending enrollments", Action.MANAGE_PENDING_ENROLLMENTS, "GET",
         "/admin/v1/enrollments", setup=pending_enrollment),
    Case("resend enrollment", Action.MANAGE_PENDING_ENROLLMENTS, "POST",
         "/admin/v1/enrollments/{enrollment_id}/resend", setup=pending_enrollment),
    Case("delete enrollment", Action.MANAGE_PENDING_ENROLLMENTS, "DELETE",
         "/admin/v1/enrollments/{enrollment_id}", setup=pending_enrollment),
]

DEVICES = [
    Case("list phones", Action.READ_USERS, "GET", "/admin/v1/phones", setup=user_with_devices),
    Case("add phone", Action.MANAGE_DEVICES, "POST", "/admin/v1/phones",
         params=lambda ids: {"number": "+15555550199"}),
    Case("get phone", Action.READ_USERS, "GET", "/admin/v1/phones/{phone_id}",
         setup=user_with_devices),
    Case("update phone", Action.MANAGE_DEVICES, "POST", "/admin/v1/phones/{phone_id}",
         params=lambda ids: {"name": "Work"}, setup=user_with_devices),
    Case("delete phone", Action.MANAGE_DEVICES, "DELETE", "/admin/v1/phones/{phone_id}",
         setup=user_with_devices),
    Case("activation link", Action.MANAGE_DEVICES, "POST",
         "/admin/v1/phones/{phone_id}/activation_url", setup=user_with_devices),
    Case("activation by SMS", Action.MANAGE_DEVICES, "POST",
         "/admin/v1/phones/{phone_id}/send_sms_activation", setup=user_with_devices),
    Case("SMS passcodes", Action.SEND_SMS_PASSCODES, "POST",
         "/admin/v1/phones/{phone_id}/send_sms_passcodes", setup=user_with_devices),
    Case("list tokens", Action.READ_USERS, "GET", "/admin/v1/tokens", setup=user_with_devices),
    Case("add token", Action.MANAGE_DEVICES, "POST", "/admin/v1/tokens",
         params=lambda ids: {"type": "h6", "serial": "NEW-1", "secret": SEED.hex()}),
    Case("import tokens", Action.MANAGE_DEVICES, "POST", "/admin/v1/tokens/import",
         params=lambda ids: {"type": "h6", "csv": f"IMP-1,{SEED.hex()}\n"}),
    Case("get token", Action.READ_USERS, "GET", "/admin/v1/tokens/{token_id}",
         setup=user_with_devices),
    Case("delete token", Action.MANAGE_DEVICES, "DELETE", "/admin/v1/tokens/{token_id}",
         setup=user_with_devices),
    Case("resync token", Action.MANAGE_DEVICES, "POST", "/admin/v1/tokens/{token_id}/resync",
         params=_resync, setup=user_with_devices),
    Case("list bypass codes", Action.READ_USERS, "GET", "/admin/v1/bypass_codes",
         setup=user_with_devices),
    Case("delete bypass code", Action.DELETE_BYPASS_CODES, "DELETE",
         "/admin/v1/bypass_codes/{bypass_code_id}", setup=user_with_devices),
    Case("list webauthn credentials", Action.READ_USERS, "GET", "/admin/v1/webauthncredentials"),
    Case("get webauthn credential", Action.READ_USERS, "GET",
         "/admin/v1/webauthncredentials/DWNOSUCHKEY", expect=404),
    Case("delete webauthn credential", Action.MANAGE_DEVICES, "DELETE",
         "/admin/v1/webauthncredentials/DWNOSUCHKEY"),
    Case("list u2f tokens", Action.READ_USERS, "GET", "/admin/v1/u2ftokens"),
    Case("get u2f token", Action.READ_USERS, "GET", "/admin/v1/u2ftokens/DUNOSUCHKEY",
         expect=404),
    Case("delete u2f token", Action.MANAGE_DEVICES, "DELETE", "/admin/v1/u2ftokens/DUNOSUCHKEY"),
]

ACCOUNT = [
    Case("read settings", Action.READ_SETTINGS, "GET", "/admin/v1/settings"),
    Case("modify settings", Action.MODIFY_SETTINGS, "POST", "/admin/v1/settings",
         params=lambda ids: {"lockout_threshold": "7"}),
    Case("authentication log", Action.READ_LOGS, "GET", "/admin/v2/logs/authentication"),
    Case("telephony log v1", Action.READ_LOGS, "GET", "/admin/v1/logs/telephony"),
    Case("telephony log v2", Action.READ_LOGS, "GET", "/admin/v2/logs/telephony"),
    Case("administrator log", Action.READ_LOGS, "GET", "/admin/v1/logs/administrator"),
    Case("list admins", Action.READ_ADMINS, "GET", "/admin/v1/admins", setup=an_admin),
    Case("get admin", Action.READ_ADMINS, "GET", "/admin/v1/admins/{admin_id}", setup=an_admin),
    Case("add admin", Action.MANAGE_ADMINS, "POST", "/admin/v1/admins",
         params=lambda ids: {"name": "Ann", "email": "ann@example.org", "role": "Billing"}),
    Case("admin activation", Action.MANAGE_ADMINS, "POST", "/admin/v1/admins/activations",
         params=lambda ids: {"email": "act@example.org"}),
    Case("update admin", Action.MANAGE_ADMINS, "POST", "/admin/v1/admins/{admin_id}",
         params=lambda ids: {"name": "Hal Renamed"}, setup=an_admin),
    Case("delete admin", Action.MANAGE_ADMINS, "DELETE", "/admin/v1/admins/{admin_id}",
         setup=an_admin),
    Case("reset admin", Action.MANAGE_ADMINS, "POST", "/admin/v1/admins/{admin_id}/reset",
         setup=an_admin),
    Case("admin setup link", Action.MANAGE_ADMINS, "POST",
         "/admin/v1/admins/{admin_id}/setup_link", setup=an_admin),
]

GROUPS = [
    Case("list groups", Action.READ_USERS, "GET", "/admin/v1/groups", setup=a_group_and_member),
    Case("create group", Action.MANAGE_GROUPS, "POST", "/admin/v1/groups",
         params=lambda ids: {"name": "Contractors"}),
    Case("get group v1", Action.READ_USERS, "GET", "/admin/v1/groups/{group_id}",
         setup=a_group_and_member),
    Case("get group v2", Action.READ_USERS, "GET", "/admin/v2/groups/{group_id}",
         setup=a_group_and_member),
    Case("modify group", Action.MANAGE_GROUPS, "POST", "/admin/v1/groups/{group_id}",
         params=lambda ids: {"status": "disabled"}, setup=a_group_and_member),
    Case("delete group", Action.MANAGE_GROUPS, "DELETE", "/admin/v1/groups/{group_id}",
         setup=a_group_and_member),
    Case("group members", Action.READ_USERS, "GET", "/admin/v2/groups/{group_id}/users",
         setup=a_group_and_member),
    Case("user groups", Action.READ_USERS, "GET", "/admin/v1/users/{user_id}/groups",
         setup=a_group_and_member),
    Case("add user to group", Action.MANAGE_GROUPS, "POST", "/admin/v1/users/{user_id}/groups",
         params=lambda ids: {"group_id": ids["spare_group_id"]}, setup=a_group_and_member),
    Case("remove user from group", Action.MANAGE_GROUPS, "DELETE",
         "/admin/v1/users/{user_id}/groups/{group_id}", setup=a_group_and_member),
]

APPLICATIONS = [
    Case("list applications", Action.READ_APPLICATIONS, "GET", "/admin/v3/integrations",
         setup=an_application),
    Case("create application", Action.MANAGE_APPLICATIONS, "POST", "/admin/v3/integrations",
         params=lambda ids: {"name": "Wiki", "type": "authapi"}),
    Case("get application", Action.READ_APPLICATIONS, "GET", "/admin/v3/integrations/{ikey}",
         setup=an_application),
    Case("update application", Action.MANAGE_APPLICATIONS, "POST",
         "/admin/v3/integrations/{ikey}", params=lambda ids: {"name": "Payroll 2"},
         setup=an_application),
    Case("delete application", Action.MANAGE_APPLICATIONS, "DELETE",
         "/admin/v3/integrations/{ikey}", setup=an_application),
    Case("application secret key", Action.MANAGE_APPLICATIONS, "GET",
         "/admin/v1/integrations/{ikey}/skey", setup=an_application),
]

TRASH_AND_COUNTS = [
    Case("list the trash", Action.READ_USERS, "GET", "/admin/v1/trash",
         setup=a_user_in_the_trash),
    Case("restore from the trash", Action.DELETE_USERS, "POST",
         "/admin/v1/trash/{user_id}/restore", setup=a_user_in_the_trash),
    Case("delete from the trash", Action.DELETE_USERS, "DELETE", "/admin/v1/trash/{user_id}",
         setup=a_user_in_the_trash),
    Case("user counts", Action.READ_SUMMARY, "GET", "/admin/v1/users/counts", setup=a_user),
    Case("info summary", Action.READ_SUMMARY, "GET", "/admin/v1/info/summary"),
    Case("import users", Action.IMPORT_USERS, "POST", "/admin/v1/users/import",
         params=lambda ids: {"csv": "username,email\nnewcomer,newcomer@example.org\n"}),
]

_UNIT = "/admin/v1/administrative_units/{admin_unit_id}"
UNITS = [
    Case("list administrative units", Action.READ_ADMIN_UNITS, "GET",
         "/admin/v1/administrative_units", setup=a_unit),
    Case("create administrative unit", Action.MANAGE_ADMIN_UNITS, "POST",
         "/admin/v1/administrative_units",
         params=lambda ids: {"name": "Lab", "restrict_by_groups": "true"}),
    Case("get administrative unit", Action.READ_ADMIN_UNITS, "GET", _UNIT, setup=a_unit),
    Case("modify administrative unit", Action.MANAGE_ADMIN_UNITS, "POST", _UNIT,
         params=lambda ids: {"description": "Moved"}, setup=a_unit),
    Case("delete administrative unit", Action.MANAGE_ADMIN_UNITS, "DELETE", _UNIT,
         setup=a_unit),
    *(Case(f"{verb} {kind} {preposition} unit", Action.MANAGE_ADMIN_UNITS, method,
           _UNIT + f"/{kind}/{{member}}", setup=_member(id_name))
      for kind, spare, current in (("admin", "spare_admin_id", "admin_id"),
                                   ("group", "spare_group_id", "group_id"),
                                   ("integration", "spare_ikey", "ikey"))
      for verb, preposition, method, id_name in (("add", "to", "POST", spare),
                                                 ("remove", "from", "DELETE", current))),
]

CASES = [*USERS, *ENROLLMENT, *DEVICES, *ACCOUNT, *GROUPS, *APPLICATIONS, *TRASH_AND_COUNTS,
         *UNITS]
