"""Duo Prompt state in Redis: prompt sessions, authorization codes, client-assertion jtis and
remembered devices.

Nothing here is stored in a form that can be replayed: a session is found by its public id but
opens only with the cookie whose SHA-256 it holds; codes and jtis are stored under their SHA-256;
a remembered device under the keyed hash of its cookie token. A code is taken with GETDEL and a
jti claimed with SET NX, so each works once even when two requests race.
"""

from __future__ import annotations

import json
from typing import Any

from authsvc.model.factors import LogFactor
from authsvc.model.prompts import AuthorizationGrant, PromptSession, RememberedDevice
from authsvc.model.verdicts import Result, Verdict
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.scripts import ScriptName

LAST_DEVICE_SECONDS = 400 * 86_400
_TEXT_FIELDS = ("sid", "token_hash", "client_id", "redirect_uri", "state", "username", "nonce",
                "code_param", "user_id", "txid", "device")


def verdict_to_json(verdict: Verdict) -> str:
    """A verdict as stored JSON."""
    return json.dumps({**verdict.answer(), "reason": verdict.reason,
                       "factor": verdict.factor.value, "device": verdict.device})


def verdict_from_json(raw: str) -> Verdict:
    """The verdict `verdict_to_json` stored."""
    data = json.loads(raw)
    return Verdict(Result(data["result"]), data["status"], data["status_msg"], data["reason"],
                   LogFactor(data["factor"]), data.get("device", ""))


def _session_fields(session: PromptSession) -> dict[str, str]:
    fields = {name: str(getattr(session, name)) for name in _TEXT_FIELDS}
    fields.update(created=str(session.created), auth_time=str(session.auth_time),
                  manage="1" if session.manage else "0",
                  remember="1" if session.remember else "0",
                  verdict=verdict_to_json(session.verdict) if session.verdict else "")
    return fields


def _session_from(data: dict[str, str]) -> PromptSession:
    return PromptSession(
        **{name: data.get(name, "") for name in _TEXT_FIELDS},
        created=int(data.get("created") or 0), auth_time=int(data.get("auth_time") or 0),
        manage=data.get("manage") == "1", remember=data.get("remember") == "1",
        verdict=verdict_from_json(data["verdict"]) if data.get("verdict") else None)


class PromptStore:
    """Prompt sessions, codes, jtis and remembered devices."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def create_session(self, session: PromptSession, ttl_seconds: int) -> None:
        """Store a new session for `ttl_seconds` (absolute: updates keep the expiry)."""
        key = self._keys.prompt_session(session.sid)
        flat = [item for pair in _session_fields(session).items() for item in pair]
        await self._ctx.redis.pipeline([("HSET", key, *flat), ("EXPIRE", key, ttl_seconds)])

    async def session(self, sid: str) -> PromptSession | None:
        """The live session, or None (unknown or expired)."""
        data = flat_to_dict(await self._ctx.redis.execute(
            "HGETALL", self._keys.prompt_session(sid)))
        return _session_from(data) if data.get("sid") else None

    async def update_session(self, session: PromptSession, *names: str) -> bool:
        """Write the named fields of the session back (only those: concurrent requests of one
        browser change different fields), only if the session still exists: an expired one
        stays gone (a plain HSET would resurrect it without a TTL). False if it was gone."""
        fields = _session_fields(session)
        flat = [item for name in names for item in (name, fields[name])]
        reply = await self._ctx.scripts.run(
            ScriptName.HASH_SET_EXISTING, [self._keys.prompt_session(session.sid)], flat)
        return bool(reply)

    async def drop_session(self, sid: str) -> bool:
        """End a session; True for the one caller that ended it (the others lost a race)."""
        return bool(await self._ctx.redis.execute("DEL", self._keys.prompt_session(sid)))

    async def put_grant(self, code_hash: str, grant: AuthorizationGrant, ttl_seconds: int) -> None:
        """Store the grant of a new authorization code."""
        raw = json.dumps({"client_id": grant.client_id, "redirect_uri": grant.redirect_uri,
                          "username": grant.username, "nonce": grant.nonce,
                          "auth_time": grant.auth_time, "verdict": verdict_to_json(grant.verdict),
                          "context": grant.context})
        await self._ctx.redis.execute("SET", self._keys.oauth_code(code_hash), raw,
                                      "EX", ttl_seconds)

    async def take_grant(self, code_hash: str) -> AuthorizationGrant | None:
        """The code's grant, once (GETDEL); None if unknown, expired or already taken."""
        raw = await self._ctx.redis.execute("GETDEL", self._keys.oauth_code(code_hash))
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return AuthorizationGrant(
            client_id=data["client_id"], redirect_uri=data["redirect_uri"],
            username=data["username"], nonce=data["nonce"], auth_time=int(data["auth_time"]),
            verdict=verdict_from_json(data["verdict"]), context=data["context"])

    async def claim_jti(self, client_id: str, jti_hash: str, ttl_seconds: int) -> bool:
        """Record a client assertion's jti; False if it was used before (a replay)."""
        reply = await self._ctx.redis.execute("SET", self._keys.oauth_jti(client_id, jti_hash),
                                              "1", "NX", "EX", max(ttl_seconds, 1))
        return reply is not None

    async def remember(self, user_id: str, token_hash: str, device: RememberedDevice,
                       ttl_seconds: int) -> None:
        """Remember a browser for the user and one application."""
        raw = json.dumps({"client_id": device.client_id, "fingerprint": device.fingerprint,
                          "expires": device.expires})
        await self._ctx.redis.execute("SET", self._keys.remembered_device(user_id, token_hash),
                                      raw, "EX", ttl_seconds)

    async def remembered(self, user_id: str, token_hash: str) -> RememberedDevice | None:
        """The remembered browser, or None."""
        raw = await self._ctx.redis.execute(
            "GET", self._keys.remembered_device(user_id, token_hash))
        if raw is None:
            return None
        data = json.loads(raw)
        return RememberedDevice(str(data["client_id"]), str(data["fingerprint"]),
                                int(data["expires"]))

    async def forget(self, user_id: str, token_hash: str) -> None:
        """Forget a remembered browser (its user's devices changed)."""
        await self._ctx.redis.execute("DEL", self._keys.remembered_device(user_id, token_hash))

    async def set_last_device(self, user_id: str, device: str) -> None:
        """Remember the device the user last signed in with through the prompt."""
        await self._ctx.redis.execute("SET", self._keys.prompt_last_device(user_id), device,
                                      "EX", LAST_DEVICE_SECONDS)

    async def last_device(self, user_id: str) -> str:
        """The device the user last signed in with through the prompt, or ""."""
        return await self._ctx.redis.execute("GET", self._keys.prompt_last_device(user_id)) or ""
