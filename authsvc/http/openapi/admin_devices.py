"""Admin API operations on phones, hardware tokens, bypass codes and security keys
(``http/admin_phones.py``, ``admin_tokens.py``, ``admin_account.py``, ``security_keys.py``)."""

from __future__ import annotations

from authsvc.http.openapi.build import (
    ANY_OBJECT,
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
from authsvc.model.tokens import TokenType

_EMPTY = {"const": ""}
_PHONE_FIELDS = (
    Param("number", text(64)), Param("extension", text(16)), Param("name", text(255)),
    Param("type", text(32)), Param("platform", text(64)),
    Param("predelay", integer(0, 60)), Param("postdelay", integer(0, 60)),
)
_TOKEN_TYPE = enum(*TokenType)
KEY_KINDS = {"webauthncredentials": "WebauthnCredential", "u2ftokens": "U2fToken"}

PHONES = (
    Operation("GET", "/admin/v1/phones", "Phones (paged), or by number and extension",
              array(ref("Phone")), (Param("number", text(64)), Param("extension", text(16))),
              paged=True),
    Operation("POST", "/admin/v1/phones", "Create a phone", ref("Phone"), _PHONE_FIELDS),
    Operation("GET", "/admin/v1/phones/{phone_id}", "One phone", ref("Phone")),
    Operation("POST", "/admin/v1/phones/{phone_id}", "Change a phone", ref("Phone"),
              _PHONE_FIELDS),
    Operation("DELETE", "/admin/v1/phones/{phone_id}", "Delete a phone", _EMPTY),
    Operation("POST", "/admin/v1/phones/{phone_id}/activation_url", "A Duo Mobile activation link",
              obj({"activation_url": STR, "activation_barcode": STR, "valid_secs": INT}),
              (Param("valid_secs", integer()),)),
    Operation("POST", "/admin/v1/phones/{phone_id}/send_sms_activation",
              "Send the activation link by SMS", ANY_OBJECT,
              (Param("valid_secs", integer()), Param("install", FLAG),
               Param("installation_msg", text(1000)), Param("activation_msg", text(1000)))),
    Operation("POST", "/admin/v1/phones/{phone_id}/send_sms_passcodes",
              "Send a batch of SMS passcodes", _EMPTY),
    Operation("GET", "/admin/v1/users/{user_id}/phones", "A user's phones, in order",
              array(ref("Phone"))),
    Operation("POST", "/admin/v1/users/{user_id}/phones", "Attach a phone", _EMPTY,
              (Param("phone_id", ID, required=True),)),
    Operation("POST", "/admin/v1/users/{user_id}/phones/order", "Order a user's phones",
              array(ref("Phone")), (Param("phone_ids", text(), required=True),),
              extension=True),
    Operation("DELETE", "/admin/v1/users/{user_id}/phones/{phone_id}", "Detach a phone",
              _EMPTY),
    Operation("POST", "/admin/v1/users/{user_id}/send_verification_push",
              "A verification push (Help Desk)", obj({"push_id": STR, "confirmation_code": STR}),
              (Param("phone_id", ID, required=True),)),
    Operation("GET", "/admin/v1/users/{user_id}/verification_push_response",
              "The verification push's answer", obj({"push_id": STR, "result": STR}),
              (Param("push_id", ID, required=True),)),
)

TOKENS = (
    Operation("GET", "/admin/v1/tokens", "Tokens (paged), or one by type and serial",
              array(ref("Token")), (Param("type", text()), Param("serial", text(1024))),
              paged=True),
    Operation("POST", "/admin/v1/tokens", "Create a token (the secret in hex)", ref("Token"),
              (Param("type", _TOKEN_TYPE, required=True),
               Param("serial", text(1024), required=True),
               Param("secret", text(1024), description="required except for yk"),
               Param("private_id", text(64)), Param("aes_key", text(64)),
               Param("counter", integer()), Param("totp_step", integer()))),
    Operation("POST", "/admin/v1/tokens/import", "Import tokens from a CSV",
              array(ANY_OBJECT),
              (Param("type", _TOKEN_TYPE, required=True),
               Param("csv", text(4_000_000), required=True), Param("partial", FLAG)),
              extension=True),
    Operation("GET", "/admin/v1/tokens/{token_id}", "One token", ref("Token")),
    Operation("DELETE", "/admin/v1/tokens/{token_id}", "Delete a token", _EMPTY),
    Operation("POST", "/admin/v1/tokens/{token_id}/resync", "Resync an HOTP token", _EMPTY,
              tuple(Param(f"code{n}", text(16), required=True) for n in (1, 2, 3))),
    Operation("GET", "/admin/v1/bypass_codes", "Every live bypass code (metadata)",
              array(ref("BypassCode")), paged=True),
    Operation("DELETE", "/admin/v1/bypass_codes/{bypass_code_id}", "Delete a bypass code",
              _EMPTY),
)


def _key_operations(kind: str, schema: str) -> tuple[Operation, ...]:
    return (
        Operation("GET", f"/admin/v1/users/{{user_id}}/{kind}", f"A user's {kind}",
                  array(ref(schema))),
        Operation("GET", f"/admin/v1/{kind}", f"Every {kind} (paged)", array(ref(schema)),
                  paged=True),
        Operation("GET", f"/admin/v1/{kind}/{{key}}", f"One of {kind}", ref(schema)),
        Operation("DELETE", f"/admin/v1/{kind}/{{key}}", f"Delete one of {kind}", _EMPTY),
    )


OPERATIONS = (*PHONES, *TOKENS,
              *(op for kind, schema in KEY_KINDS.items() for op in _key_operations(kind, schema)))
