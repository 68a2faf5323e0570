"""Settings (seed 000: "Modify global settings", Owner and Administrator; Read-only reads):
lockout, bypass defaults, the Help Desk and User Manager options, Duo Push, telephony, the
Trash, administrators' passwords. Every field is the account setting of the same name
(`model/settings.py`), validated by the domain."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from authsvc.http.middleware import services
from authsvc.http.panel.common import actor, form, page, see_other, text
from authsvc.model.permissions import Action
from authsvc.model.settings import SCHEMA, BoolRule, IntRule, StrRule

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Lockout and fraud", ("lockout_threshold", "lockout_expire_duration", "fraud_locks_user",
                           "unenrolled_user_lockout_threshold", "inactive_user_expiration")),
    ("Bypass codes", ("bypass_default_expiration",)),
    ("Help Desk", ("helpdesk_bypass", "helpdesk_bypass_expiration",
                   "helpdesk_can_send_enroll_email", "helpdesk_message")),
    ("User Manager", ("user_managers_can_put_users_in_bypass",)),
    ("Duo Push", ("push_timeout", "verified_push_enabled", "verified_push_digits",
                  "push_max_outstanding", "push_cooldown_after", "push_cooldown_minutes")),
    ("Telephony", ("sms_passcodes_enabled", "phone_calls_enabled", "sms_batch",
                   "sms_expiration", "sms_batch_cooldown", "sms_daily_limit", "call_timeout",
                   "caller_id")),
    ("Trash", ("pending_deletion_days",)),
    ("Administrators", ("admin_lockout_threshold", "minimum_password_length",
                        "password_requires_upper_alpha", "password_requires_lower_alpha",
                        "password_requires_numeric", "password_requires_special")),
)
LABELS = {
    "lockout_threshold": "Failed attempts before a user is locked out",
    "lockout_expire_duration": "Unlock locked-out users after (minutes, 0 = never)",
    "fraud_locks_user": "A fraud report locks the user out",
    "unenrolled_user_lockout_threshold": "Lock out users not enrolled after (days, 0 = never)",
    "inactive_user_expiration": "Send users inactive for (days, 0 = never) to the Trash",
    "bypass_default_expiration": "Bypass codes expire after (minutes, 0 = never)",
    "helpdesk_bypass": "Help Desk admins and bypass codes",
    "helpdesk_bypass_expiration": "Help Desk bypass codes expire after (minutes, 0 = default)",
    "helpdesk_can_send_enroll_email": "Help Desk admins may send enrollment emails",
    "helpdesk_message": "Message shown to Help Desk admins",
    "user_managers_can_put_users_in_bypass": "User Managers may apply Bypass status",
    "push_timeout": "A push waits for an answer (seconds)",
    "verified_push_enabled": "Verified Push for users",
    "verified_push_digits": "Verified Push code digits",
    "push_max_outstanding": "Pushes a user may have waiting at once",
    "push_cooldown_after": "Unanswered or denied pushes before a cooldown (0 = never)",
    "push_cooldown_minutes": "Cooldown (minutes)",
    "sms_passcodes_enabled": "SMS passcodes", "phone_calls_enabled": "Phone calls",
    "sms_batch": "Passcodes per SMS batch", "sms_expiration":
    "SMS passcodes expire after (minutes, 0 = never)",
    "sms_batch_cooldown": "Seconds between two batches for one user",
    "sms_daily_limit": "Batches per user per day", "call_timeout": "A call may take (seconds)",
    "caller_id": "Caller ID", "pending_deletion_days": "Users stay in the Trash for (days)",
    "admin_lockout_threshold": "Failed sign-ins before an administrator is locked",
    "minimum_password_length": "Administrator passwords: minimum length",
    "password_requires_upper_alpha": "Passwords need an upper-case letter",
    "password_requires_lower_alpha": "Passwords need a lower-case letter",
    "password_requires_numeric": "Passwords need a digit",
    "password_requires_special": "Passwords need a special character",
}
HELPDESK_CHOICES = {"allow": "May create and customise bypass codes",
                    "limit": "May create bypass codes with the defaults only",
                    "deny": "May not create bypass codes"}


def _field(name: str, value: Any) -> dict[str, Any]:
    rule = SCHEMA[name]
    described: dict[str, Any] = {"name": name, "label": LABELS.get(name, name), "value": value}
    if isinstance(rule, BoolRule):
        return {**described, "kind": "bool"}
    if isinstance(rule, IntRule):
        return {**described, "kind": "int", "min": rule.minimum, "max": rule.maximum}
    if isinstance(rule, StrRule) and rule.choices:
        labels = HELPDESK_CHOICES if name == "helpdesk_bypass" else {c: c for c in rule.choices}
        return {**described, "kind": "choice", "choices": labels}
    return {**described, "kind": "text",
            "max": rule.max_length if isinstance(rule, StrRule) else 320}


async def settings(request: web.Request) -> web.Response:
    """GET /admin/settings: every setting, editable for the roles that may."""
    who = actor(request)
    current = await services(request).admin.account.settings(who)
    sections = [(title, [_field(name, getattr(current, name)) for name in names])
                for title, names in SECTIONS]
    return page(request, "panel/settings.html", title="Settings", section="settings",
                sections=sections, editable=who.may(Action.MODIFY_SETTINGS))


async def update(request: web.Request) -> web.Response:
    """POST /admin/settings: the settings that changed."""
    svc, who = services(request), actor(request)
    fields = await form(request)
    current = (await svc.admin.account.settings(who)).as_response()
    changed: dict[str, object] = {}
    for name in [name for _, names in SECTIONS for name in names]:
        if isinstance(SCHEMA[name], BoolRule):
            if name in fields.getall("shown"):
                value: object = "1" in fields.getall(name)
                if value != current[name]:
                    changed[name] = value
        elif name in fields:
            raw = text(fields, name, max_length=1024)
            if raw != str(current[name]):
                changed[name] = raw
    if changed:
        await svc.admin.account.update_settings(who, changed)
    raise see_other("/admin/settings", "saved")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/admin/settings", settings)
    app.router.add_post("/admin/settings", update)
