"""Administrator accounts: creation with a one-time setup link, passwords (Argon2id through
argon2-cffi), sign-in with lockout, role and status changes that always leave an Owner.

Passwords are hashed and checked in a worker thread (Argon2id with RFC 9106's low-memory
profile: 64 MiB, 3 passes, ~50 ms), so a sign-in never stalls the event loop. Setup links are
random tokens of which Redis keeps only the SHA-256, valid `SETUP_DAYS` days, usable once.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from authsvc.clock import Clock
from authsvc.crypto import random_id
from authsvc.domain.links import Links
from authsvc.domain.users import check_email
from authsvc.errors import Conflict, InvalidParameter, NotFound
from authsvc.model.admins import Admin, AdminStatus, ChangeStatus
from authsvc.model.roles import Role
from authsvc.model.settings import AccountSettings
from authsvc.model.units import MemberKind
from authsvc.store import Store

SETUP_DAYS = 7
MAX_SETUP_DAYS = 31
MAX_NAME = 200
MAX_PASSWORD = 1024
_HASHER = PasswordHasher()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str, settings: AccountSettings) -> str:
    """The account's password policy; raises InvalidParameter naming what is missing."""
    rules = [(len(password) >= settings.minimum_password_length,
              f"at least {settings.minimum_password_length} characters"),
             (len(password) <= MAX_PASSWORD, f"at most {MAX_PASSWORD} characters"),
             (not settings.password_requires_upper_alpha or any(c.isupper() for c in password),
              "an upper-case letter"),
             (not settings.password_requires_lower_alpha or any(c.islower() for c in password),
              "a lower-case letter"),
             (not settings.password_requires_numeric or any(c.isdigit() for c in password),
              "a digit"),
             (not settings.password_requires_special
              or any(c in string.punctuation for c in password), "a special character")]
    missing = [what for ok, what in rules if not ok]
    if missing:
        raise InvalidParameter("password (needs " + ", ".join(missing) + ")")
    return password


def check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_NAME or not cleaned.isprintable():
        raise InvalidParameter("name")
    return cleaned


class AdminAccounts:
    """Create administrators, set and check their passwords, change and delete them."""

    def __init__(self, store: Store, clock: Clock, links: Links) -> None:
        self._store = store
        self._clock = clock
        self._links = links

    async def create(self, email: str, name: str, role: Role,
                     phone: str = "") -> tuple[Admin, str, int]:
        """A pending administrator and its setup link: (admin, link, expiry in unix s)."""
        now_ms = self._clock.now_ms()
        admin = Admin(admin_id=random_id("DE"), email=check_email(email), name=check_name(name),
                      role=role, status=AdminStatus.PENDING, created=now_ms // 1000,
                      phone=phone.strip()[:32])
        await self._store.admins.create(admin, order_ms=now_ms)
        link, expires = await self.setup_link(admin.admin_id, SETUP_DAYS)
        return admin, link, expires

    async def setup_link(self, admin_id: str, valid_days: int) -> tuple[str, int]:
        """A new one-time link to set the password (and enroll the second factor)."""
        if not 1 <= valid_days <= MAX_SETUP_DAYS:
            raise InvalidParameter(f"valid_days (1-{MAX_SETUP_DAYS})")
        await self.get(admin_id)
        token, ttl = secrets.token_urlsafe(32), valid_days * 86_400
        await self._store.admins.put_setup(_token_hash(token), admin_id, ttl)
        return self._links.admin_setup(token), int(self._clock.now()) + ttl

    async def setup_target(self, token: str) -> Admin:
        """The administrator a live setup link is for; raises NotFound."""
        admin_id = await self._store.admins.peek_setup(_token_hash(token))
        admin = await self._store.admins.get(admin_id) if admin_id else None
        if admin is None:
            raise NotFound("setup link (unknown, expired or used)")
        return admin

    async def complete_setup(self, token: str, password: str,
                             settings: AccountSettings) -> Admin:
        """Use the link once: set the password; a pending administrator becomes active."""
        check_password(password, settings)
        await self.setup_target(token)
        hashed = await asyncio.to_thread(_HASHER.hash, password)
        admin_id = await self._store.admins.take_setup(_token_hash(token))
        admin = await self._store.admins.get(admin_id) if admin_id else None
        if admin is None:
            raise NotFound("setup link (unknown, expired or used)")
        status = AdminStatus.ACTIVE if admin.status is AdminStatus.PENDING else admin.status
        await self._store.admins.change(admin.admin_id, status=status,
                                        fields={"password": hashed, "fails": 0})
        return await self.get(admin.admin_id)

    async def verify_password(self, email: str, password: str,
                              settings: AccountSettings) -> Admin | None:
        """The administrator if the password is right and the account active; a wrong
        password is counted (the threshold locks the account). No detail on why not."""
        found = await self._store.admins.by_email(email)
        if found is None:
            await asyncio.to_thread(_verify, _dummy_hash(), password)  # same time as a miss
            return None
        admin, hashed = found
        if not hashed or not await asyncio.to_thread(_verify, hashed, password):
            await self._store.admins.signin_failed(admin.admin_id,
                                                   settings.admin_lockout_threshold)
            return None
        if admin.status is not AdminStatus.ACTIVE:
            return None
        await self._store.admins.signed_in(admin.admin_id, int(self._clock.now()))
        return admin

    async def get(self, admin_id: str) -> Admin:
        admin = await self._store.admins.get(admin_id)
        if admin is None:
            raise NotFound("admin_id")
        return admin

    async def page(self, offset: int, limit: int) -> tuple[list[Admin], int]:
        return await self._store.admins.page(offset, limit)

    async def update(self, admin_id: str, *, name: str | None = None, phone: str | None = None,
                     role: Role | None = None, status: AdminStatus | None = None) -> Admin:
        """Change an administrator; Conflict when it would leave no Owner."""
        before = await self.get(admin_id)
        if status is AdminStatus.ACTIVE and before.status is AdminStatus.PENDING:
            raise InvalidParameter("status (a pending administrator activates by setup link)")
        fields: dict[str, str | int] = {}
        if name is not None:
            fields["name"] = check_name(name)
        if phone is not None:
            fields["phone"] = phone.strip()[:32]
        _checked(await self._store.admins.change(admin_id, role=role, status=status,
                                                 fields=fields))
        return await self.get(admin_id)

    async def reset(self, admin_id: str) -> Admin:
        """Lift a sign-in lockout."""
        admin = await self.get(admin_id)
        status = AdminStatus.ACTIVE if admin.status is AdminStatus.LOCKED else None
        _checked(await self._store.admins.change(admin_id, status=status, fields={"fails": 0}))
        return await self.get(admin_id)

    async def delete(self, admin_id: str) -> None:
        """Delete the administrator (never the last Owner); it leaves every Administrative
        Unit."""
        _checked(await self._store.admins.delete(admin_id))
        await self._store.units.forget(MemberKind.ADMIN, admin_id)


def _checked(status: ChangeStatus) -> None:
    if status is ChangeStatus.NO_ADMIN:
        raise NotFound("admin_id")
    if status is ChangeStatus.LAST_OWNER:
        raise Conflict("there must always be at least one Owner")


def _verify(hashed: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(hashed, password))
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """A hash to check unknown emails against, so they take as long as a wrong password."""
    return _HASHER.hash(secrets.token_urlsafe(16))
