"""Duo's JSON shapes for users, groups, tokens, bypass codes and paging metadata."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authsvc.model.bypass import BypassCode
from authsvc.model.groups import Group, GroupStanding, effective_status
from authsvc.model.phones import Phone
from authsvc.model.security_keys import KeyKind, SecurityKey
from authsvc.model.tokens import Token
from authsvc.model.users import User, UserDevices


def user_summary(user: User) -> dict[str, Any]:
    """The short user object nested in tokens and bypass codes."""
    return {"user_id": user.user_id, "username": user.username, "realname": user.realname,
            "email": user.email, "status": user.status.value}


def token_summary(token: Token) -> dict[str, Any]:
    """The token object nested in a user."""
    return {"token_id": token.token_id, "type": token.type.value, "serial": token.serial}


def phone_summary(phone: Phone) -> dict[str, Any]:
    """The phone object nested in a user."""
    return {"phone_id": phone.phone_id, "number": phone.number, "extension": phone.extension,
            "name": phone.name, "type": phone.type.value, "platform": phone.platform,
            "activated": phone.activated, "capabilities": phone.capabilities}


def webauthn_json(key: SecurityKey, user: User | None) -> dict[str, Any]:
    """The Admin API WebAuthn credential object."""
    return {"webauthnkey": key.key, "credential_name": key.name, "label": key.name,
            "date_added": key.created, "date_last_used": key.last_used, "aaguid": key.aaguid,
            "credential_id": key.credential_id, "registered_as": "cross-platform",
            "transports": key.transports, "uv_capable": key.user_verified,
            "backup_eligible": False, "backup_status": key.backed_up,
            "passwordless_authorized": False, "possibly_cloned": key.clone,
            "user": user_summary(user) if user else None, "admin": None}


def u2f_json(key: SecurityKey, user: User | None) -> dict[str, Any]:
    """The Admin API U2F token object."""
    return {"registration_id": key.key, "date_added": key.created,
            "possibly_cloned": key.clone, "user": user_summary(user) if user else None}


def security_key_json(key: SecurityKey, user: User | None) -> dict[str, Any]:
    """The Admin API object of a key, by its kind."""
    return webauthn_json(key, user) if key.kind is KeyKind.WEBAUTHN else u2f_json(key, user)


def group_json(group: Group) -> dict[str, Any]:
    """The Admin API group object (also nested in users)."""
    return {"group_id": group.group_id, "name": group.name, "desc": group.desc,
            "status": group.status.value, "push_enabled": group.push_enabled,
            "sms_enabled": group.sms_enabled, "voice_enabled": group.voice_enabled,
            "mobile_otp_enabled": group.mobile_otp_enabled, "u2f_enabled": group.u2f_enabled}


def status_json(view: UserDevices) -> dict[str, Any]:
    """authsvc's additions to the user object: the status that decides (`effective_status`)
    and the group it comes from (`status_source`, null when it is the user's own)."""
    status, source = effective_status(view.user.status, GroupStanding.of(view.groups, ""))
    return {"effective_status": status.value,
            "status_source": None if source is None else {"group_id": source.group_id,
                                                           "name": source.name}}


def user_json(view: UserDevices) -> dict[str, Any]:
    """The Admin API user object (`status` is the user's own; see `status_json`)."""
    user, keys = view.user, view.keys
    return {
        "user_id": user.user_id,
        "username": user.username,
        "realname": user.realname,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "email": user.email,
        "notes": user.notes,
        "status": user.status.value,
        "lockout_reason": user.lockout_reason or None,
        "created": user.created,
        "last_login": user.last_login,
        "is_enrolled": view.enrolled,
        "aliases": {f"alias{slot}": name for slot, name in sorted(user.aliases.items())},
        "tokens": [token_summary(token) for token in view.tokens],
        "phones": [phone_summary(phone) for phone in view.phones],
        "webauthncredentials": [webauthn_json(k, None) for k in keys
                                if k.kind is KeyKind.WEBAUTHN],
        "u2ftokens": [u2f_json(k, None) for k in keys if k.kind is KeyKind.U2F],
        "desktoptokens": [],
        "groups": [group_json(group) for group in view.groups],
        "external_id": None,
        "last_directory_sync": None,
        "enable_auto_prompt": True,
        **status_json(view),
    }


def token_json(token: Token, owners: Mapping[str, User]) -> dict[str, Any]:
    """The Admin API token object; never the seed. `users`: every holder (a holder's copy
    read through a user names that user)."""
    holders = token.holders or ((token.owner,) if token.owner else ())
    return {
        "token_id": token.token_id,
        "type": token.type.value,
        "serial": token.serial,
        "totp_step": token.totp_step if token.type.is_totp else None,
        "users": [user_summary(owners[holder]) for holder in holders if holder in owners],
        "admins": [],
    }


def bypass_json(code: BypassCode, owners: Mapping[str, User]) -> dict[str, Any]:
    """The Admin API bypass code object; never the code."""
    owner = owners.get(code.user_id)
    return {
        "bypass_code_id": code.code_id,
        "admin_email": code.admin_email or None,
        "created": code.created,
        "expiration": code.expiration,
        "reuse_count": code.reuse_count,
        "user": user_summary(owner) if owner else {"user_id": code.user_id},
    }


def paging(offset: int, limit: int, total: int) -> dict[str, Any]:
    """Offset-paging metadata: duo_client follows `next_offset` until it is absent."""
    metadata: dict[str, Any] = {"total_objects": total}
    if offset + limit < total:
        metadata["next_offset"] = offset + limit
    if offset > 0:
        metadata["prev_offset"] = max(0, offset - limit)
    return metadata
