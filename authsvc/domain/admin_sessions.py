"""Admin Panel sign-in and sessions: email and password, then a second factor, each step
answered with a new session id and CSRF value (so an id planted or seen before a step is
worthless after it), every sign-in in the administrator log.

The cookie is ``<admin id>.<random token>``; Redis keeps the session under the SHA-256 of the
token, and one round trip reads the session (renewing its idle TTL) with the administrator's
record, so a role change, a disabled or deleted administrator takes effect at the next request.
Timeouts: 15 minutes idle (the TTL), 12 hours absolute for a signed-in session, 10 minutes for
the steps before it (model/admin_sessions.py). The sign-in form, shown before any session
exists, carries a CSRF value derived from a random nonce in its own cookie with a key derived
from the master key (nothing is stored for anonymous visitors).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from authsvc.clock import Clock
from authsvc.crypto import SecretBox, constant_time_equal
from authsvc.domain.admins import AdminAccounts
from authsvc.domain.audit import AdminLog
from authsvc.domain.units import AdminUnits
from authsvc.errors import NotFound
from authsvc.model.admin_sessions import (
    ABSOLUTE_SECONDS,
    IDLE_SECONDS,
    PENDING_SECONDS,
    AdminSession,
    Stage,
)
from authsvc.model.admins import Admin, AdminStatus
from authsvc.model.permissions import UNRESTRICTED, Actor, ActorKind, Scope
from authsvc.store import Store

MAX_COOKIE = 200
MAX_EMAIL = 320


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_of(admin: Admin, scope: Scope = UNRESTRICTED) -> Actor:
    """The administrator as the permission table, their Administrative Units and the
    administrator log see them."""
    return Actor.with_role(ActorKind.ADMIN, admin.admin_id, admin.email, admin.role, scope)


@dataclass(frozen=True, slots=True)
class Opened:
    """A live session and its administrator (with the scope of their Administrative Units,
    read for a signed-in session), as read for this request."""

    session: AdminSession
    admin: Admin
    scope: Scope = UNRESTRICTED

    @property
    def actor(self) -> Actor:
        return actor_of(self.admin, self.scope)

    def csrf_ok(self, sent: str) -> bool:
        """The form's CSRF value is this session's (constant time)."""
        return bool(sent) and constant_time_equal(sent, self.session.csrf)


@dataclass(frozen=True, slots=True)
class Issued:
    """A new session and the cookie value that opens it."""

    opened: Opened
    cookie: str


class AdminSessions:
    """Sign in, open, step up, and end Admin Panel sessions."""

    def __init__(self, store: Store, clock: Clock, box: SecretBox, accounts: AdminAccounts,
                 audit: AdminLog, units: AdminUnits) -> None:
        self._store = store
        self._units = units
        self._clock = clock
        self._accounts = accounts
        self._audit = audit
        self._login_key = box.derive_token("admin panel sign-in form csrf").encode()

    # --- the sign-in form (no session yet) -------------------------------------------------------

    @staticmethod
    def login_nonce() -> str:
        """A new nonce for the sign-in form's cookie."""
        return secrets.token_urlsafe(24)

    def login_csrf(self, nonce: str) -> str:
        """The sign-in form's CSRF value for the nonce in its cookie."""
        return hmac.new(self._login_key, nonce.encode(), "sha256").hexdigest()

    def login_csrf_ok(self, nonce: str, sent: str) -> bool:
        return bool(nonce and sent) and constant_time_equal(self.login_csrf(nonce), sent)

    # --- sessions ----------------------------------------------------------------------------------

    async def open(self, cookie: str) -> Opened | None:
        """The session this cookie opens, or None (unknown, expired, or its administrator is
        gone or no longer active)."""
        admin_id, _, token = cookie.partition(".")
        if not admin_id or not token or len(cookie) > MAX_COOKIE:
            return None
        session, admin = await self._store.admin_sessions.open(token_hash(token), admin_id,
                                                                IDLE_SECONDS)
        if session is None:
            return None
        if admin is None or session.admin_id != admin.admin_id or self._stale(session, admin):
            await self._store.admin_sessions.delete(session)
            return None
        if session.stage is Stage.FULL:  # read at every request: a unit change applies at once
            return Opened(session, admin, await self._units.scope_of_admin(admin))
        return Opened(session, admin)

    def _stale(self, session: AdminSession, admin: Admin) -> bool:
        age_ms = self._clock.now_ms() - session.created_ms
        limit = ABSOLUTE_SECONDS if session.stage is Stage.FULL else PENDING_SECONDS
        if age_ms >= limit * 1000:
            return True
        return session.stage is not Stage.SETUP and admin.status is not AdminStatus.ACTIVE

    def _new(self, admin: Admin, stage: Stage, setup_hash: str = "") -> tuple[AdminSession, str]:
        token = secrets.token_urlsafe(32)
        now_ms = self._clock.now_ms()
        session = AdminSession(token_hash=token_hash(token), admin_id=admin.admin_id,
                               stage=stage, csrf=secrets.token_urlsafe(32), created_ms=now_ms,
                               seen_ms=now_ms, setup_hash=setup_hash)
        return session, f"{admin.admin_id}.{token}"

    async def sign_in(self, email: str, password: str) -> Issued | None:
        """Check the password (a wrong one counts towards the administrator's lockout); a
        session waiting for the second factor, or None. Both are logged."""
        settings = await self._store.account.cached()
        email = email.strip()[:MAX_EMAIL]
        admin = await self._accounts.verify_password(email, password, settings)
        if admin is None:
            unknown = Actor(ActorKind.ADMIN, "", email, None, frozenset())
            await self._audit.record(unknown, "admin_login_error", email,
                                     {"reason": "wrong email or password, or not active"})
            return None
        session, cookie = self._new(admin, Stage.PASSWORD)
        await self._store.admin_sessions.create(session, IDLE_SECONDS)
        return Issued(Opened(session, admin), cookie)

    async def promote(self, opened: Opened, factor: str, ipaddr: str | None) -> Issued:
        """The second factor succeeded: a new, signed-in session replaces this one."""
        session, cookie = self._new(opened.admin, Stage.FULL)
        await self._store.admin_sessions.rotate(opened.session, session, IDLE_SECONDS)
        await self._audit.record(opened.actor, "admin_login", opened.admin.email,
                                 {"factor": factor, "ip": ipaddr or ""})
        return Issued(Opened(session, opened.admin), cookie)

    async def second_factor_failed(self, opened: Opened, factor: str, reason: str) -> None:
        """Log a refused second factor (`admin_2fa_error`)."""
        await self._audit.record(opened.actor, "admin_2fa_error", opened.admin.email,
                                 {"factor": factor, "reason": reason})

    async def wait_for_push(self, opened: Opened, txid: str) -> None:
        await self._store.admin_sessions.set_push(opened.session.token_hash, txid)

    async def sign_out(self, opened: Opened) -> None:
        await self._store.admin_sessions.delete(opened.session)
        if opened.session.stage is Stage.FULL:
            await self._audit.record(opened.actor, "admin_logout", opened.admin.email)

    async def sign_out_everywhere(self, opened: Opened) -> int:
        """End every session of the administrator (this one too); how many there were."""
        ended = await self._store.admin_sessions.delete_all(opened.admin.admin_id)
        await self._audit.record(opened.actor, "admin_logout", opened.admin.email,
                                 {"everywhere": True, "sessions": ended})
        return ended

    async def live(self, opened: Opened) -> list[AdminSession]:
        """The administrator's signed-in sessions (this one among them)."""
        return [session for session in await self._store.admin_sessions.live(
            opened.admin.admin_id) if session.stage is Stage.FULL]

    async def end_all_of(self, admin_id: str) -> int:
        """End every session of an administrator (an Owner disabled or deleted them)."""
        return await self._store.admin_sessions.delete_all(admin_id)

    # --- setup links ------------------------------------------------------------------------------

    async def start_setup(self, token: str) -> Issued:
        """A setup session for a live setup link (raises NotFound otherwise)."""
        admin = await self._accounts.setup_target(token)
        session, cookie = self._new(admin, Stage.SETUP, token_hash(token))
        await self._store.admin_sessions.create(session, IDLE_SECONDS)
        return Issued(Opened(session, admin), cookie)

    async def open_setup(self, cookie: str, token: str) -> Opened | None:
        """The setup session for this link (the link still live), or None."""
        opened = await self.open(cookie)
        if opened is None or opened.session.stage is not Stage.SETUP \
                or not constant_time_equal(opened.session.setup_hash, token_hash(token)):
            return None
        try:
            target = await self._accounts.setup_target(token)
        except NotFound:
            return None
        return opened if target.admin_id == opened.admin.admin_id else None

    async def finish_setup(self, opened: Opened, token: str, password: str) -> Admin:
        """Set the password with the setup link (used up; a pending administrator becomes
        active) and end the setup session: the administrator then signs in."""
        settings = await self._store.account.cached()
        admin = await self._accounts.complete_setup(token, password, settings)
        await self._store.admin_sessions.delete(opened.session)
        await self._audit.record(actor_of(admin), "admin_update", admin.email,
                                 {"setup_completed": True})
        return admin
