"""WebAuthn credentials and U2F registrations, and their single-use challenges, in Redis.

A credential lives in its user's slot (the sign-count check is part of the attempt script);
a global index finds it by its admin-facing id (webauthnkey / registration id), with its place
in its kind's creation-ordered listing (`store/listing.py`). The JSON field
`count`, `clone` and `last_used` are also written by passcode_attempt.lua.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from authsvc.model.security_keys import ChallengePurpose, KeyKind, SecurityKey
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.counts import counted_transaction
from authsvc.store.listing import Listing

CHALLENGE_TTL_S = 300


def key_to_json(key: SecurityKey) -> str:
    return json.dumps({
        "key": key.key, "kind": key.kind.value, "name": key.name, "public_key": key.public_key,
        "count": key.count, "created": key.created, "last_used": key.last_used,
        "clone": int(key.clone), "u2f_public_key": key.u2f_public_key, "app_id": key.app_id,
        "aaguid": key.aaguid, "transports": key.transports, "uv": key.user_verified,
        "backed_up": key.backed_up, "device_type": key.device_type})


def key_from_json(credential_id: str, raw: str) -> SecurityKey:
    data: dict[str, Any] = json.loads(raw)
    return SecurityKey(
        credential_id=credential_id, key=data["key"], kind=KeyKind(data["kind"]),
        name=data["name"], public_key=data["public_key"], created=int(data["created"]),
        count=int(data.get("count") or 0), last_used=data.get("last_used"),
        clone=bool(data.get("clone")), u2f_public_key=data.get("u2f_public_key", ""),
        app_id=data.get("app_id", ""), aaguid=data.get("aaguid", ""),
        transports=list(data.get("transports") or []), user_verified=bool(data.get("uv")),
        backed_up=bool(data.get("backed_up")), device_type=data.get("device_type", ""))


def _located(value: Any) -> tuple[str, str, int | None] | None:
    """An index entry: (user id, credential id, place in its listing or None)."""
    if not value:
        return None
    user_id, credential_id, *place = str(value).split(" ")
    return user_id, credential_id, int(place[0]) if place else None


class SecurityKeyStore:
    """Credentials and challenges."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._listings = {kind: Listing(ctx, ctx.keys.security_keys_listing(kind.value))
                          for kind in KeyKind}

    async def put_challenge(self, user_id: str, challenge: str,
                            purpose: ChallengePurpose) -> None:
        await self._ctx.redis.execute("SET", self._keys.challenge(user_id, challenge),
                                      json.dumps({"purpose": purpose.value}), "EX",
                                      CHALLENGE_TTL_S)

    async def take_challenge(self, user_id: str, challenge: str) -> ChallengePurpose | None:
        """The challenge's purpose, once (None if unknown, expired or already used)."""
        raw = await self._ctx.redis.execute("GETDEL", self._keys.challenge(user_id, challenge))
        if raw is None:
            return None
        return ChallengePurpose(json.loads(raw)["purpose"])

    async def add(self, user_id: str, key: SecurityKey) -> None:
        keys = self._keys
        await self._ctx.redis.execute("HSET", keys.security_key_index(), key.key,
                                      f"{user_id} {key.credential_id}")
        await counted_transaction(self._ctx, user_id, [
            ("HSET", keys.user_security_keys(user_id), key.credential_id, key_to_json(key))])
        place = await self._listings[key.kind].append(key.key, key.created * 1000)
        await self._ctx.redis.execute("HSET", keys.security_key_index(), key.key,
                                      f"{user_id} {key.credential_id} {place}")

    async def of_user(self, user_id: str) -> list[SecurityKey]:
        """The user's credentials."""
        raw = flat_to_dict(await self._ctx.redis.execute(
            "HGETALL", self._keys.user_security_keys(user_id)))
        return [key_from_json(cred_id, value) for cred_id, value in raw.items()]

    async def of_users(self, user_ids: Sequence[str]) -> list[list[SecurityKey]]:
        """Each user's credentials (one pipelined round trip)."""
        replies = await self._ctx.redis.pipeline(
            [("HGETALL", self._keys.user_security_keys(user_id)) for user_id in user_ids])
        return [[key_from_json(cred_id, value) for cred_id, value in flat_to_dict(r).items()]
                for r in replies]

    async def credential(self, user_id: str, credential_id: str) -> SecurityKey | None:
        raw = await self._ctx.redis.execute("HGET", self._keys.user_security_keys(user_id),
                                            credential_id)
        return key_from_json(credential_id, raw) if raw else None

    async def credentials(self, refs: Sequence[tuple[str, str]]) -> list[SecurityKey | None]:
        """The credentials named by (user id, credential id) pairs (one round trip)."""
        replies = await self._ctx.redis.pipeline(
            [("HGET", self._keys.user_security_keys(user_id), cred) for user_id, cred in refs])
        return [key_from_json(cred, raw) if raw else None
                for (_, cred), raw in zip(refs, replies, strict=True)]

    async def locate(self, key: str) -> tuple[str, str] | None:
        """(user id, credential id) of an admin-facing id."""
        found = _located(await self._ctx.redis.execute(
            "HGET", self._keys.security_key_index(), key))
        return None if found is None else found[:2]

    async def locate_many(self, keys: Sequence[str]) -> list[tuple[str, str] | None]:
        """`locate` for each key (one round trip)."""
        if not keys:
            return []
        values = await self._ctx.redis.execute("HMGET", self._keys.security_key_index(), *keys)
        return [None if (found := _located(value)) is None else found[:2] for value in values]

    async def page(self, kind: KeyKind, offset: int, limit: int) -> tuple[list[str], int]:
        """One page of a kind's keys (admin-facing ids) in creation order, and how many."""
        return await self._listings[kind].page(offset, limit)

    async def delete(self, key: str, kind: KeyKind) -> bool:
        keys = self._keys
        located = _located(await self._ctx.redis.execute(
            "HGET", keys.security_key_index(), key))
        if located is not None:
            await counted_transaction(self._ctx, located[0], [
                ("HDEL", keys.user_security_keys(located[0]), located[1])])
        await self._ctx.redis.execute("HDEL", keys.security_key_index(), key)
        await self._listings[kind].remove(key, None if located is None else located[2])
        return located is not None

    async def forget(self, keys: Sequence[str]) -> None:
        """After a purge deleted their user's credentials: the ids' index entries and places
        in the listings (either kind: a purge does not know which)."""
        if not keys:
            return
        values = await self._ctx.redis.execute("HMGET", self._keys.security_key_index(), *keys)
        await self._ctx.redis.execute("HDEL", self._keys.security_key_index(), *keys)
        for key, value in zip(keys, values, strict=True):
            located = _located(value)
            place = None if located is None else located[2]
            for listing in self._listings.values():
                if await listing.remove(key, place):
                    break
