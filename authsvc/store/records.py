"""Codecs between domain records and their Redis form (hash fields or JSON strings).

The JSON field names of tokens and bypass codes are also read and written by the Lua scripts
(`passcode_attempt.lua`, `bypass_add.lua`, `hotp_set_counter.lua`): change them together.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from authsvc.model.attempts import MobileOtp
from authsvc.model.bypass import BypassCode
from authsvc.model.integrations import EnrollPolicy, Grant, Integration, IntegrationType, Role
from authsvc.model.tokens import Token, TokenType
from authsvc.model.users import User, UserStatus
from authsvc.store.keys.tagged import TOKEN_COPY_PREFIX

DEFAULT_TOTP_STEP = 30  # the model's default (`Token.totp_step`): left out of records
NO_STEP = -1  # no TOTP step used yet: left out of records and copies


def user_to_hash(user: User) -> dict[str, str]:
    """Profile fields of a user (lockout counters are owned by the scripts and not written; the
    id is the key's)."""
    return {
        "username": user.username,
        "created": str(user.created),
        "status": user.status.value,
        "realname": user.realname,
        "email": user.email,
        "notes": user.notes,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "aliases": json.dumps({str(slot): name for slot, name in sorted(user.aliases.items())}),
        "lockout_reason": user.lockout_reason,
    }


def user_from_hash(data: Mapping[str, str], user_id: str) -> User:
    """The user stored in a hash (as returned by HGETALL) under `user_id`'s key (records no
    longer repeat the id; older ones do)."""
    aliases = {int(slot): name for slot, name in json.loads(data.get("aliases") or "{}").items()}
    last_login = data.get("last_login")
    return User(
        user_id=user_id,
        username=data["username"],
        created=int(data["created"]),
        status=UserStatus(data.get("status") or "active"),
        realname=data.get("realname", ""),
        email=data.get("email", ""),
        notes=data.get("notes", ""),
        firstname=data.get("firstname", ""),
        lastname=data.get("lastname", ""),
        aliases=aliases,
        last_login=int(last_login) if last_login else None,
        lockout_reason=data.get("lockout_reason", ""),
        fails=int(data.get("fails") or 0),
        locked_at=int(data.get("locked_at") or 0),
        trashed_at=int(data.get("trashed_at") or 0),
        trash_reason=data.get("trash_reason", ""),
    )


def mobile_otp_from_json(phone_id: str, raw: str) -> MobileOtp:
    """A user's copy of an app's passcode state."""
    data = json.loads(raw)
    return MobileOtp(phone_id, data["seed"], int(data["counter"]), int(data["cred"]))


def mobile_otp_to_json(state: MobileOtp) -> str:
    """The copy as passcode_attempt.lua reads it (it moves `counter`)."""
    return json.dumps({"seed": state.sealed_seed, "counter": state.counter, "cred": state.cred})


def token_to_json(token: Token, place: int | None = None) -> str:
    """A token's own record (`Keys.token_records`): its definition, the counter a new holder
    starts from, its holders (kept by token_holders.lua) and its place in the tokens listing
    (`store/listing.py`; records of older versions have none). A TOTP step of 30 s and a last
    step of -1 (none yet) are left out, and read as such: 25 B less a record (298 -> 290 B of
    Redis a token at 100,000 tokens)."""
    return json.dumps({
        "type": token.type.value,
        "serial": token.serial,
        "seed": token.sealed_seed,
        "created": token.created,
        "counter": token.counter,
        **({} if token.totp_step == DEFAULT_TOTP_STEP else {"step": token.totp_step}),
        **({} if token.last_step == NO_STEP else {"last_step": token.last_step}),
        "holders": [],
        **({} if place is None else {"listed": place}),
    }, separators=(",", ":"))


def token_copy_to_json(token: Token) -> str:
    """A holder's copy: only what the decision script moves (the counter, the last TOTP step;
    it adds the resync state itself; a last step of -1, none yet, is left out). The definition
    (type, serial, sealed seed) is the token record's alone (`TokenDefinitions`): no seed is
    stored twice."""
    copy: dict[str, int] = {"counter": token.counter}
    if token.last_step != NO_STEP:
        copy["last_step"] = token.last_step
    return json.dumps(copy, separators=(",", ":"))


def copy_of(raw: str, token_id: str, owner: str, definition: Token | None) -> Token | None:
    """A holder's copy merged with the token's definition (None when there is none: a token
    deleted meanwhile). A copy stored whole (versions before copies were cut down) stands alone."""
    data = json.loads(raw)
    if "seed" in data:
        return token_from_json(raw, owner, token_id)
    if definition is None:
        return None
    return Token(
        token_id=token_id, type=definition.type, serial=definition.serial,
        sealed_seed=definition.sealed_seed, created=definition.created,
        counter=int(data["counter"]), totp_step=definition.totp_step,
        last_step=int(data.get("last_step", -1)), owner=owner,
        resync_next=int(data.get("rs_next") or 0), resync_count=int(data.get("rs_n") or 0))


def token_copies_of(user: Mapping[str, str], older: Mapping[str, str]) -> dict[str, str]:
    """token id -> the user's copy (JSON): the user hash's ``t:<token id>`` fields, and the
    copies an older version kept in a hash of their own (`older`; the user hash wins), as
    lib/token_copies.lua reads them."""
    copies = dict(older)
    copies.update((field.removeprefix(TOKEN_COPY_PREFIX), raw) for field, raw in user.items()
                  if field.startswith(TOKEN_COPY_PREFIX))
    return copies


def token_place_of(raw: str) -> int | None:
    """A token record's place in the tokens listing (None: listed by an older version)."""
    place = json.loads(raw).get("listed")
    return None if place is None else int(place)


def token_holders_of(raw: str) -> tuple[str, ...] | None:
    """The holders a token record lists (None: a record from before holders were kept in it)."""
    holders = json.loads(raw).get("holders")
    return None if holders is None else tuple(sorted(holders))


def token_from_json(raw: str, owner: str | None, token_id: str | None = None) -> Token:
    """The token stored as JSON (the scripts may have added resync fields); `token_id`: the
    hash field it is stored under (records no longer repeat it; older ones do)."""
    data = json.loads(raw)
    return Token(
        token_id=token_id or data["id"],
        type=TokenType(data["type"]),
        serial=data["serial"],
        sealed_seed=data["seed"],
        created=int(data["created"]),
        counter=int(data["counter"]),
        totp_step=int(data.get("step", DEFAULT_TOTP_STEP)),
        last_step=int(data.get("last_step", NO_STEP)),
        owner=owner,
        resync_next=int(data.get("rs_next") or 0),
        resync_count=int(data.get("rs_n") or 0),
    )


def bypass_to_json(code: BypassCode) -> str:
    """Bypass code metadata as the scripts expect it (`uses` 0 = unlimited, `expires` ms)."""
    return json.dumps({
        "id": code.code_id,
        "uses": code.uses,
        "expires": code.expires_ms,
        "created": code.created,
        "admin": code.admin_email,
    })


def bypass_from_json(raw: str, user_id: str) -> BypassCode:
    """Bypass code metadata stored as JSON."""
    data = json.loads(raw)
    return BypassCode(
        code_id=data["id"],
        user_id=user_id,
        created=int(data["created"]),
        uses=int(data["uses"]),
        expires_ms=int(data["expires"]),
        admin_email=data.get("admin", ""),
    )


def integration_to_hash(integration: Integration) -> dict[str, str]:
    """An integration record (the secret key only in sealed form)."""
    return {
        "ikey": integration.ikey,
        "name": integration.name,
        "type": integration.type.value,
        "role": integration.role.value,
        "skey": integration.sealed_skey,
        "created": str(integration.created),
        "grants": ",".join(sorted(grant.value for grant in integration.grants)),
        "redirect_uris": json.dumps(list(integration.redirect_uris)),
        "enroll_policy": integration.enroll_policy.value,
        "remember_days": str(integration.remember_days),
        "self_service": "1" if integration.self_service else "0",
        "groups_allowed": ",".join(integration.groups_allowed),
        "grants_only": "1" if integration.grants_only else "",
        "notes": integration.notes,
    }


def integration_from_hash(data: Mapping[str, str]) -> Integration:
    """The integration stored in a hash."""
    return Integration(
        ikey=data["ikey"],
        name=data["name"],
        type=IntegrationType(data["type"]),
        role=Role(data["role"]),
        sealed_skey=data["skey"],
        created=int(data["created"]),
        grants=frozenset(Grant(g) for g in (data.get("grants") or "").split(",") if g),
        # Records written before these fields existed have none of them.
        redirect_uris=tuple(json.loads(data.get("redirect_uris", "[]"))),
        enroll_policy=EnrollPolicy(data.get("enroll_policy") or EnrollPolicy.ENROLL.value),
        remember_days=int(data.get("remember_days", "0")),
        self_service=data.get("self_service", "1") == "1",
        groups_allowed=tuple(g for g in (data.get("groups_allowed") or "").split(",") if g),
        grants_only=data.get("grants_only") == "1",
        notes=data.get("notes", ""),
    )
