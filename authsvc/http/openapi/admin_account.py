"""Admin API operations on the account: settings, logs, administrators, integrations
(``http/admin_account.py``, ``admin_admins.py``, ``admin_integrations.py``)."""

from __future__ import annotations

from authsvc.http.openapi.build import (
    ANY_OBJECT,
    BOOL,
    FLAG,
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
from authsvc.http.openapi.schemas import setting_schema
from authsvc.model.admins import DUO_ROLE_NAMES
from authsvc.model.integrations import EnrollPolicy
from authsvc.model.roles import Grant, Role
from authsvc.model.settings import SCHEMA

_EMPTY = {"const": ""}
_ROLE = enum(*DUO_ROLE_NAMES.values(), *Role)
_LOG_FILTERS = ("users", "results", "reasons", "factors", "applications", "event_types")
_WINDOW = (Param("mintime", integer(0)), Param("maxtime", integer(0)),
           Param("limit", integer()), Param("sort", text()), Param("next_offset", text()))
_INTEGRATION_FIELDS = (
    Param("name", text(1000)), Param("notes", text(5000)),
    Param("enroll_policy", enum(*EnrollPolicy)), Param("groups_allowed", text()),
    Param("role", enum(*Role)), *(Param(grant.value, FLAG) for grant in Grant),
)

ACCOUNT = (
    Operation("GET", "/admin/v1/settings", "Account settings", ref("Settings")),
    Operation("POST", "/admin/v1/settings", "Change account settings (all checked first)",
              ref("Settings"),
              tuple(Param(name, setting_schema(rule)) for name, rule in SCHEMA.items())),
    Operation("GET", "/admin/v2/logs/authentication", "The authentication log (authlog v2)",
              obj({"authlogs": array(ANY_OBJECT), "metadata": ANY_OBJECT}),
              (*_WINDOW, *(Param(name, text()) for name in _LOG_FILTERS))),
    Operation("GET", "/admin/v1/logs/telephony", "The telephony log (v1)",
              array(obj({"timestamp": INT, "context": STR, "type": STR, "phone": STR,
                         "credits": INT})),
              (Param("mintime", integer(0, 2**40)),)),
    Operation("GET", "/admin/v2/logs/telephony", "The telephony log (v2)",
              obj({"items": array(ANY_OBJECT), "metadata": ANY_OBJECT}), _WINDOW),
    Operation("GET", "/admin/v1/logs/administrator", "The administrator log",
              array(ANY_OBJECT), (Param("mintime", integer(0, 2**40)),)),
)

ADMINS = (
    Operation("GET", "/admin/v1/admins", "Administrators (paged)", array(ref("Admin")),
              paged=True),
    Operation("POST", "/admin/v1/admins", "Create an administrator (a setup link is mailed)",
              ref("Admin"),
              (Param("email", text(320), required=True), Param("name", text(200), required=True),
               Param("role", _ROLE), Param("phone", text(32)))),
    Operation("POST", "/admin/v1/admins/activations", "A pending administrator and its link",
              obj({"admin_activation_id": STR, "email": STR, "email_sent": BOOL,
                   "link": STR, "expires": INT}),
              (Param("email", text(320), required=True), Param("admin_role", _ROLE),
               Param("send_email", FLAG), Param("valid_days", integer()))),
    Operation("GET", "/admin/v1/admins/{admin_id}", "One administrator", ref("Admin")),
    Operation("POST", "/admin/v1/admins/{admin_id}", "Change an administrator", ref("Admin"),
              (Param("name", text(200)), Param("phone", text(32)), Param("role", _ROLE),
               Param("status", enum("Active", "Disabled", "active", "disabled")))),
    Operation("DELETE", "/admin/v1/admins/{admin_id}", "Delete an administrator", _EMPTY),
    Operation("POST", "/admin/v1/admins/{admin_id}/reset", "Lift a sign-in lockout",
              ref("Admin")),
    Operation("POST", "/admin/v1/admins/{admin_id}/setup_link", "A new password setup link",
              obj({"admin_id": STR, "email_sent": BOOL, "expires": INT}),
              (Param("send_email", FLAG), Param("valid_days", integer(1, 31))),
              extension=True),
)

INTEGRATIONS = (
    Operation("GET", "/admin/v3/integrations", "Integrations (paged)",
              array(ref("Integration")), paged=True),
    Operation("POST", "/admin/v3/integrations", "Create an integration (with its secret key)",
              {"allOf": [ref("Integration"), obj({"secret_key": STR})]},
              (Param("type", enum("authapi", "adminapi", "websdk"), required=True),
               *_INTEGRATION_FIELDS)),
    Operation("GET", "/admin/v3/integrations/{ikey}", "One integration", ref("Integration")),
    Operation("POST", "/admin/v3/integrations/{ikey}", "Change an integration",
              ref("Integration"), (*_INTEGRATION_FIELDS, Param("reset_secret_key", FLAG))),
    Operation("DELETE", "/admin/v3/integrations/{ikey}", "Delete an integration", _EMPTY),
    Operation("GET", "/admin/v1/integrations/{ikey}/skey", "An integration's secret key",
              obj({"secret_key": STR})),
)

OPERATIONS = (*ACCOUNT, *ADMINS, *INTEGRATIONS)
