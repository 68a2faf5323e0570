"""Admin Panel sessions in Redis, under the hash tag {admins} with the administrators.

A session is a hash stored under the SHA-256 of its cookie token (the token itself is never
stored), with the idle timeout as its TTL: every request that opens it renews the TTL in the
same round trip as it reads the session and the administrator's record. The absolute timeout
is checked against `created_ms` by the domain. Each administrator's set of session hashes lets
"sign out everywhere" find them; members whose session expired are dropped when it is read.

Rotation (a new id after each factor) deletes the old hash and writes the new one in one
MULTI/EXEC (every key is in the {admins} slot), so the old id stops working at the moment the
new one starts.
"""

from __future__ import annotations

from collections.abc import Mapping

from authsvc.model.admin_sessions import AdminSession, Stage
from authsvc.model.admins import Admin
from authsvc.store.admins import admin_from_hash
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.scripts import ScriptName


def session_from_hash(token_hash: str, data: Mapping[str, str]) -> AdminSession:
    return AdminSession(token_hash=token_hash, admin_id=data["admin_id"],
                        stage=Stage(data["stage"]), csrf=data["csrf"],
                        created_ms=int(data["created_ms"]), seen_ms=int(data.get("seen_ms") or 0),
                        push_txid=data.get("push_txid", ""), setup_hash=data.get("setup_hash", ""))


def _fields(session: AdminSession) -> list[str]:
    return ["admin_id", session.admin_id, "stage", session.stage.value, "csrf", session.csrf,
            "created_ms", str(session.created_ms), "seen_ms", str(session.seen_ms),
            "push_txid", session.push_txid, "setup_hash", session.setup_hash]


class AdminSessionStore:
    """Create, open, rotate and end Admin Panel sessions."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    def _write(self, session: AdminSession, ttl_s: int) -> list[tuple[str | int, ...]]:
        key = self._keys.admin_session(session.token_hash)
        return [("HSET", key, *_fields(session)), ("EXPIRE", key, ttl_s),
                ("SADD", self._keys.admin_sessions_of(session.admin_id), session.token_hash)]

    async def create(self, session: AdminSession, ttl_s: int) -> None:
        await self._ctx.redis.pipeline(self._write(session, ttl_s))

    async def rotate(self, old: AdminSession, new: AdminSession, ttl_s: int) -> None:
        """Replace `old` by `new` atomically (the old id stops working as the new one starts)."""
        keys = self._keys
        replies = await self._ctx.redis.pipeline([
            ("MULTI",), ("DEL", keys.admin_session(old.token_hash)),
            ("SREM", keys.admin_sessions_of(old.admin_id), old.token_hash),
            *self._write(new, ttl_s), ("EXEC",)])
        if not isinstance(replies[-1], list):
            raise RuntimeError("session rotation was not executed")

    async def open(self, token_hash: str, admin_id: str,
                   idle_s: int) -> tuple[AdminSession | None, Admin | None]:
        """The session (its idle TTL renewed) and the administrator's record, in one round
        trip; None for what does not exist."""
        keys = self._keys
        session, _, admin = await self._ctx.redis.pipeline([
            ("HGETALL", keys.admin_session(token_hash)),
            ("EXPIRE", keys.admin_session(token_hash), idle_s),
            ("HGETALL", keys.admin(admin_id))])
        session_data, admin_data = flat_to_dict(session), flat_to_dict(admin)
        return (session_from_hash(token_hash, session_data) if session_data else None,
                admin_from_hash(admin_data) if admin_data else None)

    async def set_push(self, token_hash: str, txid: str) -> None:
        """Remember the push the session waits for (only if the session still exists)."""
        await self._ctx.scripts.run(ScriptName.HASH_SET_EXISTING,
                                    [self._keys.admin_session(token_hash)], ["push_txid", txid])

    async def delete(self, session: AdminSession) -> None:
        keys = self._keys
        await self._ctx.redis.pipeline([
            ("DEL", keys.admin_session(session.token_hash)),
            ("SREM", keys.admin_sessions_of(session.admin_id), session.token_hash)])

    async def delete_all(self, admin_id: str) -> int:
        """End every session of the administrator; returns how many were live."""
        keys = self._keys
        hashes: list[str] = await self._ctx.redis.execute("SMEMBERS", keys.admin_sessions_of(admin_id))
        if not hashes:
            return 0
        replies = await self._ctx.redis.pipeline([
            ("DEL", *[keys.admin_session(h) for h in hashes]),
            ("DEL", keys.admin_sessions_of(admin_id))])
        return int(replies[0])

    async def live(self, admin_id: str) -> list[AdminSession]:
        """The administrator's live sessions (expired members pruned)."""
        keys = self._keys
        hashes: list[str] = await self._ctx.redis.execute("SMEMBERS", keys.admin_sessions_of(admin_id))
        if not hashes:
            return []
        replies = await self._ctx.redis.pipeline(
            [("HGETALL", keys.admin_session(h)) for h in hashes])
        gone = [h for h, reply in zip(hashes, replies, strict=True) if not reply]
        if gone:
            await self._ctx.redis.execute("SREM", keys.admin_sessions_of(admin_id), *gone)
        return [session_from_hash(h, flat_to_dict(reply))
                for h, reply in zip(hashes, replies, strict=True) if reply]
