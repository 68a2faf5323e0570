"""Administrators in Redis, all under the hash tag {admins}: records, the email index, the
listing, the set of Owners (not disabled), and one-time setup links (stored by the SHA-256 of their
token). Role and status changes go through admin_change.lua, which refuses to leave the account
without an Owner; failed sign-ins are counted by admin_signin_failed.lua."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from authsvc.errors import Conflict
from authsvc.model.admins import Admin, AdminStatus, ChangeStatus
from authsvc.model.roles import Role
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.scripts import ScriptName


def admin_from_hash(data: Mapping[str, str]) -> Admin:
    last_login = data.get("last_login")
    return Admin(
        admin_id=data["admin_id"], email=data["email"], name=data.get("name", ""),
        role=Role(data["role"]), status=AdminStatus(data["status"]),
        created=int(data["created"]), phone=data.get("phone", ""),
        last_login=int(last_login) if last_login else None, fails=int(data.get("fails") or 0),
        has_password=bool(data.get("password")), subject=data.get("subject", ""))


class AdminStore:
    """Create, read, change and delete administrators; setup links; sign-in failures."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def create(self, admin: Admin, *, order_ms: int) -> None:
        """Store a new administrator; Conflict when the email is taken."""
        keys, redis = self._keys, self._ctx.redis
        claimed = await redis.execute("HSETNX", keys.admin_emails(), admin.email.lower(),
                                      admin.admin_id)
        if not claimed:
            raise Conflict("email (an administrator with this email exists)")
        await redis.pipeline([
            ("HSET", keys.admin(admin.admin_id), "admin_id", admin.admin_id,
             "email", admin.email, "name", admin.name, "role", admin.role.value,
             "status", admin.status.value, "created", admin.created, "phone", admin.phone,
             "fails", 0),
            ("ZADD", keys.admins(), order_ms, admin.admin_id),
            *([("SADD", keys.admin_owners(), admin.admin_id)] if admin.role is Role.OWNER
              else [])])

    async def get(self, admin_id: str) -> Admin | None:
        data = flat_to_dict(await self._ctx.redis.execute("HGETALL", self._keys.admin(admin_id)))
        return admin_from_hash(data) if data else None

    async def by_email(self, email: str) -> tuple[Admin, str] | None:
        """The administrator with this email and its password hash ("" if none yet)."""
        admin_id = await self._ctx.redis.execute("HGET", self._keys.admin_emails(),
                                                 email.strip().lower())
        if not admin_id:
            return None
        data = flat_to_dict(await self._ctx.redis.execute("HGETALL", self._keys.admin(admin_id)))
        return (admin_from_hash(data), data.get("password", "")) if data else None

    async def page(self, offset: int, limit: int) -> tuple[list[Admin], int]:
        ids, total = await self._ctx.redis.pipeline([
            ("ZRANGE", self._keys.admins(), offset, offset + limit - 1),
            ("ZCARD", self._keys.admins())])
        replies = await self._ctx.redis.pipeline([("HGETALL", self._keys.admin(i)) for i in ids])
        return [admin_from_hash(flat_to_dict(r)) for r in replies if r], int(total)

    async def change(self, admin_id: str, *, role: Role | None = None,
                     status: AdminStatus | None = None,
                     fields: Mapping[str, str | int] | None = None) -> ChangeStatus:
        """Set role, status and other fields at once, keeping an Owner."""
        flat: list[str | int] = [item for pair in (fields or {}).items() for item in pair]
        return await self._run_change(admin_id, "update", role, status, flat)

    async def delete(self, admin_id: str) -> ChangeStatus:
        return await self._run_change(admin_id, "delete", None, None, [])

    async def _run_change(self, admin_id: str, operation: str, role: Role | None,
                          status: AdminStatus | None, flat: Sequence[str | int]) -> ChangeStatus:
        keys = self._keys
        reply = await self._ctx.scripts.run(
            ScriptName.ADMIN_CHANGE,
            [keys.admin(admin_id), keys.admin_owners(), keys.admin_emails(), keys.admins()],
            [admin_id, operation, role.value if role else "", status.value if status else "",
             *flat])
        return ChangeStatus(int(reply[0]))

    async def signin_failed(self, admin_id: str, threshold: int) -> bool:
        """Count a failed sign-in; True when this one locked the account."""
        reply = await self._ctx.scripts.run(ScriptName.ADMIN_SIGNIN_FAILED,
                                            [self._keys.admin(admin_id)], [threshold])
        return len(reply) > 1 and int(reply[1]) == 1

    async def signed_in(self, admin_id: str, now_s: int) -> None:
        await self._ctx.redis.execute("HSET", self._keys.admin(admin_id), "fails", 0,
                                      "last_login", now_s)

    async def put_setup(self, token_hash: str, admin_id: str, ttl_s: int) -> None:
        await self._ctx.redis.execute("SET", self._keys.admin_setup(token_hash), admin_id,
                                      "EX", ttl_s)

    async def peek_setup(self, token_hash: str) -> str | None:
        """The admin id of a live setup link (not consumed)."""
        admin_id: str | None = await self._ctx.redis.execute(
            "GET", self._keys.admin_setup(token_hash))
        return admin_id

    async def take_setup(self, token_hash: str) -> str | None:
        """Consume a setup link (GETDEL: once)."""
        admin_id: str | None = await self._ctx.redis.execute(
            "GETDEL", self._keys.admin_setup(token_hash))
        return admin_id

    async def count(self) -> int:
        count: int = await self._ctx.redis.execute("ZCARD", self._keys.admins())
        return count
