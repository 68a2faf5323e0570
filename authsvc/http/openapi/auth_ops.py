"""The Auth API v2 operations (``http/auth_api.py``, ``http/security_keys.py``)."""

from __future__ import annotations

from authsvc.http.openapi.build import (
    FLAG,
    INT,
    STR,
    Operation,
    Param,
    enum,
    integer,
    obj,
    ref,
    text,
)

FACTORS = ("passcode", "push", "auto", "sms", "phone", "webauthn", "u2f")
_TIME = obj({"time": INT})
_SUBJECT = (
    Param("username", text(255), description="the user's name or alias (or user_id)"),
    Param("user_id", text(64), description="the user's id (or username)"),
)
_ATTEMPT = (
    *_SUBJECT,
    Param("ipaddr", text(64), description="the end user's address (logged)"),
    Param("hostname", text(255), description="the end user's host name (logged)"),
)

OPERATIONS = (
    Operation("GET", "/auth/v2/ping", "Liveness (unsigned)", _TIME, signed=False),
    Operation("GET", "/auth/v2/check", "The signature and the credentials work", _TIME),
    Operation("POST", "/auth/v2/preauth", "Whether the user may authenticate, and how",
              ref("Preauth"),
              (*_ATTEMPT, Param("client_supports_verified_push", FLAG))),
    Operation(
        "POST", "/auth/v2/auth", "Authenticate with one factor",
        {"anyOf": [ref("AuthResult"), obj({"txid": STR})]},
        (*_ATTEMPT,
         Param("factor", enum(*FACTORS), required=True),
         Param("async", FLAG, description="answer with a txid at once (not webauthn, u2f)"),
         Param("passcode", text(), description="factor=passcode"),
         Param("device", text(64), description="phone id or `auto` (push, phone, sms)"),
         Param("type", text(100), description="push: the action shown"),
         Param("display_username", text(255)),
         Param("pushinfo", text(20_000), description="push: k=v&k=v shown on the phone"),
         Param("txid", text(64), description="Verified Push: the txid preauth returned"),
         Param("assertion", text(16_384), description="factor=webauthn: the JSON assertion"),
         Param("keyHandle", text(512), description="factor=u2f"),
         Param("signatureData", text(1024), description="factor=u2f"),
         Param("clientData", text(4096), description="factor=u2f"))),
    Operation("GET", "/auth/v2/auth_status", "The state of an async transaction (long poll)",
              ref("AuthResult"), (Param("txid", text(64), required=True),)),
    Operation("POST", "/auth/v2/enroll", "A new user and a Duo Mobile activation code",
              ref("Activation"),
              (Param("username", text(255)),
               Param("valid_secs", integer(1, 30 * 86_400)))),
    Operation("POST", "/auth/v2/enroll_status", "Whether an activation code was used",
              enum("success", "waiting", "invalid"),
              (Param("user_id", text(64), required=True),
               Param("activation_code", text(200), required=True))),
    Operation("POST", "/auth/v2/webauthn/options", "WebAuthn assertion options for the user",
              obj({"options": {"type": "object"}}), _SUBJECT, extension=True),
    Operation("POST", "/auth/v2/u2f/sign_request", "A U2F challenge for the user",
              {"type": ["object", "array"]}, _SUBJECT, extension=True),
)
