"""Admin API operations on users, their enrollment, groups and the Trash
(``http/admin_users.py``, ``admin_enroll.py``, ``admin_groups.py``, ``admin_trash.py``)."""

from __future__ import annotations

from authsvc.http.openapi.build import (
    ANY_OBJECT,
    BOOL,
    FLAG,
    ID,
    INT,
    STR,
    Operation,
    Param,
    array,
    enum,
    integer,
    obj,
    ref,
    text,
)
from authsvc.model.groups import SWITCHES
from authsvc.model.users import MAX_ALIASES

_EMPTY = {"const": ""}
_USER = ref("User")
_USER_FIELDS = (
    Param("username", text(255)), Param("realname", text()), Param("email", text()),
    Param("notes", text()), Param("firstname", text()), Param("lastname", text()),
    Param("status", enum("active", "bypass", "disabled")),
    *(Param(f"alias{slot}", text(255)) for slot in range(1, MAX_ALIASES + 1)),
    Param("aliases", text(), description="alias1=a&alias2=b: replaces the whole set"),
)
_JSON_LIST = text(100_000, description="a JSON list of at most 100 strings")
_GROUP_FIELDS = (Param("name", text(1000)), Param("desc", text(5000)),
                 Param("status", enum("active", "bypass", "disabled")),
                 *(Param(switch, FLAG) for switch in SWITCHES))
_ENROLLMENT = obj({"enrollment_id": STR, "email": STR, "expires": INT})

USERS = (
    Operation("GET", "/admin/v1/users", "Users (paged), or looked up by name, names, ids, email",
              array(_USER),
              (Param("username", text(255)), Param("email", text()),
               Param("username_list", _JSON_LIST), Param("user_id_list", _JSON_LIST)),
              paged=True),
    Operation("POST", "/admin/v1/users", "Create a user", _USER, _USER_FIELDS),
    Operation("GET", "/admin/v1/users/{user_id}", "One user", _USER),
    Operation("POST", "/admin/v1/users/{user_id}", "Change a user", _USER, _USER_FIELDS),
    Operation("DELETE", "/admin/v1/users/{user_id}", "Send a user to the Trash", _EMPTY),
    Operation("GET", "/admin/v1/users/{user_id}/tokens", "A user's tokens", array(ref("Token")),
              paged=False),
    Operation("POST", "/admin/v1/users/{user_id}/tokens", "Assign a token", _EMPTY,
              (Param("token_id", ID, required=True),)),
    Operation("DELETE", "/admin/v1/users/{user_id}/tokens/{token_id}", "Unassign a token",
              _EMPTY),
    Operation("GET", "/admin/v1/users/{user_id}/bypass_codes", "A user's bypass codes",
              array(ref("BypassCode")), paged=True),
    Operation("POST", "/admin/v1/users/{user_id}/bypass_codes",
              "New bypass codes (shown this once)", array(STR),
              (Param("count", integer()), Param("codes", text(1000)),
               Param("reuse_count", integer()), Param("valid_secs", integer()),
               Param("preserve_existing", FLAG))),
    Operation("GET", "/admin/v1/users/{user_id}/groups", "A user's groups", array(ref("Group")),
              paged=True),
    Operation("POST", "/admin/v1/users/{user_id}/groups", "Add a user to a group", _EMPTY,
              (Param("group_id", ID, required=True),)),
    Operation("DELETE", "/admin/v1/users/{user_id}/groups/{group_id}",
              "Remove a user from a group", _EMPTY),
)

ENROLLMENT = (
    Operation("POST", "/admin/v1/users/enroll", "Mail an enrollment link (user created if new)",
              obj({"user_id": STR, "username": STR, "mailed": BOOL}),
              (Param("username", text(255), required=True),
               Param("email", text(), required=True), Param("valid_secs", integer()))),
    Operation("POST", "/admin/v1/users/enroll/bulk", "Enrollment links for a CSV of users",
              array(ANY_OBJECT),
              (Param("csv", text(200_000), required=True), Param("valid_secs", integer())),
              extension=True),
    Operation("POST", "/admin/v1/users/import", "Create, update or delete users from a CSV",
              obj({"rows": array(ANY_OBJECT), "errors": INT}),
              (Param("csv", text(250_000), required=True), Param("dry_run", FLAG)),
              extension=True),
    Operation("POST", "/admin/v1/users/{user_id}/security_key_enrollment",
              "Mail a link to register a security key", ANY_OBJECT,
              (Param("email", text()), Param("valid_secs", integer())), extension=True),
    Operation("GET", "/admin/v1/enrollments", "Pending enrollments", array(ANY_OBJECT),
              extension=True),
    Operation("POST", "/admin/v1/enrollments/{enrollment_id}/resend",
              "Mail the same enrollment link again", _ENROLLMENT, extension=True),
    Operation("DELETE", "/admin/v1/enrollments/{enrollment_id}", "Kill an enrollment link",
              _EMPTY, extension=True),
)

GROUPS = (
    Operation("GET", "/admin/v1/groups", "Groups (paged), or by group_id_list",
              array(ref("Group")), (Param("group_id_list", _JSON_LIST),), paged=True),
    Operation("POST", "/admin/v1/groups", "Create a group", ref("Group"), _GROUP_FIELDS),
    Operation("GET", "/admin/v1/groups/{group_id}", "One group", ref("Group")),
    Operation("GET", "/admin/v2/groups/{group_id}", "One group", ref("Group")),
    Operation("POST", "/admin/v1/groups/{group_id}", "Change a group", ref("Group"),
              _GROUP_FIELDS),
    Operation("DELETE", "/admin/v1/groups/{group_id}", "Delete a group", _EMPTY),
    Operation("GET", "/admin/v2/groups/{group_id}/users", "A group's members",
              array(obj({"user_id": STR, "username": STR})), paged=True),
)

TRASH = (
    Operation("GET", "/admin/v1/trash", "Users in the Trash", array(ref("TrashedUser")),
              paged=True, extension=True),
    Operation("POST", "/admin/v1/trash/{user_id}/restore", "Restore a user (Disabled)", _USER,
              extension=True),
    Operation("DELETE", "/admin/v1/trash/{user_id}", "Delete a user in the Trash for good",
              _EMPTY, extension=True),
    Operation("GET", "/admin/v1/users/counts", "The Users page counts",
              obj({name: INT for name in ("total", "not_enrolled", "inactive", "trash",
                                          "bypass", "locked_out", "active", "disabled")}),
              extension=True),
    Operation("GET", "/admin/v1/info/summary", "Account summary",
              obj({"user_count": INT, "user_pending_deletion_count": INT,
                   "integration_count": INT, "admin_count": INT,
                   "telephony_credits_remaining": {"type": "null"}})),
)

OPERATIONS = (*USERS, *ENROLLMENT, *GROUPS, *TRASH)
