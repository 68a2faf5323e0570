"""Phones in Redis: the record and app credentials under the phone's own tag, the users it is
attached to, each user's ordered phone list, and each user's copy of the app's passcode state.

A phone may serve several users, but a passcode is decided together with one user's lockout
count, so every user holding an activated phone keeps its own copy of the sealed passcode seed
and counter (`Keys.user_mobile_otp`). Activation writes those copies, a new activation code
removes them, and attaching or detaching a phone adds or removes the one copy concerned.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from authsvc.model.attempts import MobileOtp
from authsvc.model.phones import AppCredentials, Phone, PhoneRecord, PhoneType
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.counts import counted_transaction
from authsvc.store.listing import PLACE_FIELD, Listing
from authsvc.store.records import mobile_otp_to_json
from authsvc.store.scripts import ScriptName

_PROFILE = ("number", "extension", "name", "type", "platform", "predelay", "postdelay", "model")


def phone_from_hash(data: Mapping[str, str]) -> Phone:
    """The phone stored in a hash."""
    def optional_int(name: str) -> int | None:
        value = data.get(name, "")
        return int(value) if value else None

    return Phone(
        phone_id=data["phone_id"], created=int(data["created"]), number=data.get("number", ""),
        extension=data.get("extension", ""), name=data.get("name", ""),
        type=PhoneType(data.get("type") or "unknown"), platform=data.get("platform") or "unknown",
        predelay=optional_int("predelay"), postdelay=optional_int("postdelay"),
        model=data.get("model", ""), activated=data.get("activated") == "1",
        last_seen=optional_int("last_seen"))


def phone_profile(phone: Phone) -> dict[str, str]:
    """The admin-editable fields of a phone."""
    return {"phone_id": phone.phone_id, "created": str(phone.created), "number": phone.number,
            "extension": phone.extension, "name": phone.name, "type": phone.type.value,
            "platform": phone.platform, "model": phone.model,
            "predelay": "" if phone.predelay is None else str(phone.predelay),
            "postdelay": "" if phone.postdelay is None else str(phone.postdelay)}


def app_from_hash(data: Mapping[str, str]) -> AppCredentials:
    """The app credentials kept in the phone hash."""
    return AppCredentials(
        akey=data.get("akey", ""), pubkey=data.get("pubkey", ""), host=data.get("act_host", ""),
        cred=int(data.get("cred") or 0), sealed_hotp_secret=data.get("hotp_secret", ""),
        activation_hash=data.get("act_hash", ""), activated_hash=data.get("activated_hash", ""),
        push_token=data.get("push_token", ""))


class PhoneStore:
    """Phone records, attachments, ordering and the per-user passcode copies."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._listing = Listing(ctx, ctx.keys.phones_listing())

    async def create(self, phone: Phone, *, order_ms: int) -> None:
        keys = self._keys
        fields = [item for pair in phone_profile(phone).items() for item in pair]
        await self._ctx.redis.pipeline([
            ("HSET", keys.phone(phone.phone_id), *fields, "activated", "0", "cred", "0"),
            ("SADD", keys.phone_number_index(phone.number, phone.extension), phone.phone_id),
        ])
        place = await self._listing.append(phone.phone_id, order_ms)
        await self._ctx.scripts.run(ScriptName.HASH_SET_EXISTING, [keys.phone(phone.phone_id)],
                                    [PLACE_FIELD, place])

    async def _raw(self, phone_id: str) -> dict[str, str]:
        return flat_to_dict(await self._ctx.redis.execute("HGETALL", self._keys.phone(phone_id)))

    async def get(self, phone_id: str) -> Phone | None:
        data = await self._raw(phone_id)
        return phone_from_hash(data) if data else None

    async def record(self, phone_id: str) -> PhoneRecord | None:
        """The phone with its app's credentials, or None."""
        data = await self._raw(phone_id)
        return PhoneRecord(phone_from_hash(data), app_from_hash(data)) if data else None

    async def store_app(self, phone_id: str, app: AppCredentials, *, model: str,
                        app_info: str, now_s: int) -> None:
        """An app was activated: its credentials replace any earlier app's."""
        await self._set(phone_id, {
            "activated": "1", "akey": app.akey, "pubkey": app.pubkey, "cred": str(app.cred),
            "hotp_secret": app.sealed_hotp_secret, "act_host": app.host, "act_hash": "",
            "activated_hash": app.activated_hash, "model": model, "app": app_info,
            "last_seen": str(now_s)})

    async def drop_app(self, phone_id: str) -> None:
        """Forget the activated app's credentials and the live activation code."""
        await self._set(phone_id, {"act_hash": "", "activated": "0", "akey": "", "pubkey": "",
                                   "hotp_secret": ""})

    async def set_activation_hash(self, phone_id: str, code_hash: str, expires_s: int) -> None:
        """The hash of the live activation code ("" = none)."""
        await self._set(phone_id, {"act_hash": code_hash, "act_expires": str(expires_s)})

    async def touch(self, phone_id: str, now_s: int) -> None:
        """The phone was seen now."""
        await self._set(phone_id, {"last_seen": str(now_s)})

    async def set_push_token(self, phone_id: str, token: str) -> None:
        await self._set(phone_id, {"push_token": token})

    async def get_many(self, phone_ids: Iterable[str]) -> list[Phone]:
        ids = list(phone_ids)
        replies = await self._ctx.redis.pipeline([("HGETALL", self._keys.phone(p)) for p in ids])
        return [phone_from_hash(flat_to_dict(reply)) for reply in replies if reply]

    async def page(self, offset: int, limit: int) -> tuple[list[Phone], int]:
        ids, total = await self._listing.page(offset, limit)
        return await self.get_many(ids), total

    async def by_number(self, number: str, extension: str) -> list[Phone]:
        ids = await self._ctx.redis.execute(
            "SMEMBERS", self._keys.phone_number_index(number, extension))
        return sorted(await self.get_many(ids), key=lambda phone: phone.created)

    async def update(self, before: Phone, after: Phone) -> None:
        keys = self._keys
        fields = [item for pair in phone_profile(after).items() for item in pair]
        commands: list[tuple[str | int, ...]] = [("HSET", keys.phone(after.phone_id), *fields)]
        if (before.number, before.extension) != (after.number, after.extension):
            commands += [("SREM", keys.phone_number_index(before.number, before.extension),
                          before.phone_id),
                         ("SADD", keys.phone_number_index(after.number, after.extension),
                          after.phone_id)]
        await self._ctx.redis.pipeline(commands)

    async def _set(self, phone_id: str, fields: Mapping[str, str]) -> None:
        flat = [item for pair in fields.items() for item in pair]
        await self._ctx.redis.execute("HSET", self._keys.phone(phone_id), *flat)

    async def users_of(self, phone_id: str) -> list[str]:
        users: list[str] = await self._ctx.redis.execute("SMEMBERS", self._keys.phone_users(phone_id))
        return sorted(users)

    async def users_of_many(self, phone_ids: Sequence[str]) -> list[list[str]]:
        """`users_of` for each phone (one round trip)."""
        replies = await self._ctx.redis.pipeline(
            [("SMEMBERS", self._keys.phone_users(phone_id)) for phone_id in phone_ids])
        return [sorted(users) for users in replies]

    async def of_user(self, user_id: str) -> list[str]:
        """The user's phone ids in their order."""
        ids: list[str] = await self._ctx.redis.execute("ZRANGE", self._keys.user_phones(user_id), 0, -1)
        return ids

    async def attach(self, user_id: str, phone_id: str, otp_copy: MobileOtp | None) -> None:
        """Attach (at the end of the user's list); `otp_copy` is the passcode state if activated."""
        keys = self._keys
        top = await self._ctx.redis.execute("ZRANGE", keys.user_phones(user_id), -1, -1,
                                            "WITHSCORES")
        position = int(float(top[1])) + 1 if top else 0
        commands: list[tuple[str | int, ...]] = [
            ("ZADD", keys.user_phones(user_id), "NX", position, phone_id)]
        if otp_copy is not None:
            commands.append(("HSETNX", keys.user_mobile_otp(user_id), phone_id,
                             mobile_otp_to_json(otp_copy)))
        # The phone's user set first: it always lists every user holding the phone.
        await self._ctx.redis.execute("SADD", keys.phone_users(phone_id), user_id)
        await counted_transaction(self._ctx, user_id, commands)

    async def detach(self, user_id: str, phone_id: str) -> int:
        """Detach; returns how many users the phone still has."""
        keys = self._keys
        await counted_transaction(self._ctx, user_id, [
            ("ZREM", keys.user_phones(user_id), phone_id),
            ("HDEL", keys.user_mobile_otp(user_id), phone_id)])
        _, remaining = await self._ctx.redis.pipeline([
            ("SREM", keys.phone_users(phone_id), user_id),
            ("SCARD", keys.phone_users(phone_id))])
        return int(remaining)

    async def reorder(self, user_id: str, phone_ids: list[str]) -> None:
        key = self._keys.user_phones(user_id)
        await self._ctx.redis.pipeline(
            [("ZADD", key, "XX", position, phone_id) for position, phone_id in enumerate(phone_ids)])

    async def delete(self, phone: Phone) -> None:
        """Remove the phone everywhere (callers detach it from its users first)."""
        keys = self._keys
        place = await self._ctx.redis.execute("HGET", keys.phone(phone.phone_id), PLACE_FIELD)
        await self._ctx.redis.pipeline([
            ("DEL", keys.phone(phone.phone_id), keys.phone_users(phone.phone_id),
             keys.phone_inbox(phone.phone_id)),
            ("SREM", keys.phone_number_index(phone.number, phone.extension), phone.phone_id),
            ("ZREM", keys.unfinished_phones(), phone.phone_id)])
        await self._listing.remove(phone.phone_id, None if place is None else int(place))

    async def mark_unfinished(self, phone_id: str, until_ms: int) -> None:
        """A prompt session began this phone; delete it after `until_ms` if nobody holds it."""
        await self._ctx.redis.execute("ZADD", self._keys.unfinished_phones(), until_ms, phone_id)

    async def unmark_unfinished(self, phone_id: str) -> None:
        await self._ctx.redis.execute("ZREM", self._keys.unfinished_phones(), phone_id)

    async def unfinished_due(self, now_ms: int, limit: int) -> list[str]:
        """Up to `limit` phones `mark_unfinished` named whose time is up, oldest first."""
        due: list[str] = await self._ctx.redis.execute(
            "ZRANGE", self._keys.unfinished_phones(), "-inf", now_ms, "BYSCORE", "LIMIT", 0,
            limit)
        return due

    async def set_otp_copies(self, user_ids: Iterable[str], phone_id: str,
                             otp_copy: MobileOtp | None) -> None:
        """Write (or with None, remove) every user's copy of the phone's passcode state."""
        commands: list[tuple[str | int, ...]] = [
            ("HSET", self._keys.user_mobile_otp(u), phone_id, mobile_otp_to_json(otp_copy))
            if otp_copy is not None
            else ("HDEL", self._keys.user_mobile_otp(u), phone_id) for u in user_ids]
        await self._ctx.redis.pipeline(commands)

    async def put_activation(self, code_hash: str, phone_id: str, host: str, ttl: int) -> None:
        """A live activation code, kept under its hash (`crypto.secret_hash`) for `ttl` s."""
        await self._ctx.redis.execute("SET", self._keys.activation(code_hash),
                                      json.dumps({"phone_id": phone_id, "host": host}), "EX", ttl)

    async def take_activation(self, code_hash: str) -> tuple[str, str] | None:
        """Consume an activation code by its hash (GETDEL: usable once): (phone id, the host
        it names), or None."""
        raw = await self._ctx.redis.execute("GETDEL", self._keys.activation(code_hash))
        if raw is None:
            return None
        value = json.loads(raw)
        return str(value["phone_id"]), str(value["host"])

    async def activation_ttl(self, code_hash: str) -> int:
        """Seconds the activation code with this hash still works (<= 0: it does not)."""
        ttl: int = await self._ctx.redis.execute("TTL", self._keys.activation(code_hash))
        return ttl

    async def drop_activation(self, code_hash: str) -> None:
        """Kill the activation code with this hash."""
        await self._ctx.redis.execute("DEL", self._keys.activation(code_hash))

    async def remember_signature(self, digest: str) -> bool:
        """True the first time a device signature is seen within 600 s (replay guard)."""
        reply = await self._ctx.redis.execute("SET", self._keys.device_signature(digest), "1",
                                              "NX", "EX", 600)
        return bool(reply == "OK")
