"""Component schemas of the OpenAPI document: Duo's envelopes and the objects the Admin and Auth
APIs answer with, as `http/render.py` and the handlers build them. Enumerations come from the
model, so a new status or role shows up here without an edit."""

from __future__ import annotations

from authsvc.http.openapi.build import (
    BOOL,
    INT,
    STR,
    Schema,
    array,
    enum,
    nullable,
    obj,
    ref,
)
from authsvc.model.admins import DUO_ROLE_NAMES, AdminStatus
from authsvc.model.groups import GroupStatus
from authsvc.model.integrations import EnrollPolicy
from authsvc.model.phones import PhoneType
from authsvc.model.roles import Grant, Role
from authsvc.model.settings import SCHEMA, BoolRule, IntRule, StrRule
from authsvc.model.tokens import TokenType
from authsvc.model.users import UserStatus

N_STR = nullable(STR)
N_INT = nullable(INT)
LOCATION = obj({"city": N_STR, "state": N_STR, "country": N_STR})

USER_SUMMARY = obj({"user_id": STR, "username": STR, "realname": STR, "email": STR,
                    "status": enum(*UserStatus)})
TOKEN_SUMMARY = obj({"token_id": STR, "type": enum(*TokenType), "serial": STR})
PHONE_SUMMARY = obj({"phone_id": STR, "number": STR, "extension": STR, "name": STR,
                     "type": enum(*PhoneType), "platform": STR, "activated": BOOL,
                     "capabilities": array(STR)})
GROUP = obj({"group_id": STR, "name": STR, "desc": STR, "status": enum(*GroupStatus),
             "push_enabled": BOOL, "sms_enabled": BOOL, "voice_enabled": BOOL,
             "mobile_otp_enabled": BOOL, "u2f_enabled": BOOL})
WEBAUTHN = obj({"webauthnkey": STR, "credential_name": STR, "label": STR, "date_added": INT,
                "date_last_used": N_INT, "aaguid": STR, "credential_id": STR,
                "transports": array(STR), "possibly_cloned": BOOL,
                "user": nullable(ref("UserSummary"))})
U2F = obj({"registration_id": STR, "date_added": INT, "possibly_cloned": BOOL,
           "user": nullable(ref("UserSummary"))})
USER = obj({
    "user_id": STR, "username": STR, "realname": STR, "firstname": STR, "lastname": STR,
    "email": STR, "notes": STR, "status": enum(*UserStatus), "lockout_reason": N_STR,
    "created": INT, "last_login": N_INT, "is_enrolled": BOOL,
    "aliases": {"type": "object", "additionalProperties": STR},
    "tokens": array(ref("TokenSummary")), "phones": array(ref("PhoneSummary")),
    "webauthncredentials": array(ref("WebauthnCredential")), "u2ftokens": array(ref("U2fToken")),
    "groups": array(ref("Group")), "effective_status": enum(*UserStatus),
    "status_source": nullable(obj({"group_id": STR, "name": STR})),
})
TRASHED_USER = {"allOf": [ref("User"), obj({"trashed_at": INT, "permanent_deletion_at": INT,
                                            "trash_reason": STR})]}
PHONE = obj({
    "phone_id": STR, "number": STR, "extension": STR, "name": STR, "type": enum(*PhoneType),
    "platform": STR, "predelay": N_INT, "postdelay": N_INT, "model": STR, "activated": BOOL,
    "capabilities": array(STR), "last_seen": N_INT, "users": array(ref("UserSummary")),
})
TOKEN = obj({"token_id": STR, "type": enum(*TokenType), "serial": STR, "totp_step": N_INT,
             "users": array(ref("UserSummary")), "admins": array({})})
BYPASS_CODE = obj({"bypass_code_id": STR, "admin_email": N_STR, "created": INT,
                   "expiration": N_INT, "reuse_count": INT,
                   "user": obj({"user_id": STR})})
INTEGRATION = obj({
    "integration_key": STR, "name": STR, "type": enum("authapi", "adminapi", "websdk"),
    "notes": STR, "enroll_policy": enum(*EnrollPolicy), "groups_allowed": array(STR),
    "role": nullable(enum(*Role)), "created": INT,
    **{grant.value: {"type": "integer", "enum": [0, 1]} for grant in Grant},
})
ADMIN = obj({"admin_id": STR, "name": STR, "email": STR, "phone": STR,
             "role": enum(*DUO_ROLE_NAMES.values()),
             "status": enum(*(status.duo_name for status in AdminStatus)), "created": INT,
             "last_login": N_INT})
PAGING = {"type": "object", "properties": {"total_objects": INT, "next_offset": INT,
                                           "prev_offset": INT}}
ERROR = obj({"stat": {"const": "FAIL"}, "code": {"type": "integer", "minimum": 10000,
                                                 "maximum": 59999},
             "message": STR, "message_detail": N_STR})
AUTH_RESULT = obj({"result": enum("allow", "deny", "waiting"), "status": STR,
                   "status_msg": STR})
DEVICE = obj({"device": STR, "type": enum("phone", "token"), "name": STR},
             {"number": STR, "display_name": STR, "capabilities": array(STR),
              "sms_nextcode": STR})
PREAUTH = obj({"result": enum("auth", "allow", "deny", "enroll"), "status_msg": STR},
              {"devices": array(ref("Device")), "enroll_portal_url": STR, "txid": STR,
               "verification_code": STR, "expiration": INT})
ACTIVATION = obj({"activation_barcode": STR, "activation_code": STR, "activation_url": STR,
                  "expiration": INT, "valid_secs": INT, "user_id": STR, "username": STR})


def setting_schema(rule: object) -> Schema:
    """The schema of one account setting, from the rule that validates it."""
    if isinstance(rule, IntRule):
        return {"type": "integer", "minimum": rule.minimum, "maximum": rule.maximum}
    if isinstance(rule, BoolRule):
        return dict(BOOL)
    if isinstance(rule, StrRule):
        if rule.choices:
            return enum(*rule.choices)
        return {"type": "string", "maxLength": rule.max_length}
    return dict(STR)  # time zone, email, phone number: checked by the service


SETTINGS = obj({"name": STR, **{name: setting_schema(rule) for name, rule in SCHEMA.items()}})

COMPONENTS: dict[str, Schema] = {
    "UserSummary": USER_SUMMARY, "TokenSummary": TOKEN_SUMMARY, "PhoneSummary": PHONE_SUMMARY,
    "Group": GROUP, "WebauthnCredential": WEBAUTHN, "U2fToken": U2F, "User": USER,
    "TrashedUser": TRASHED_USER, "Phone": PHONE, "Token": TOKEN, "BypassCode": BYPASS_CODE,
    "Integration": INTEGRATION, "Admin": ADMIN, "PagingMetadata": PAGING, "Error": ERROR,
    "AuthResult": AUTH_RESULT, "Device": DEVICE, "Preauth": PREAUTH, "Activation": ACTIVATION,
    "Settings": SETTINGS,
}
