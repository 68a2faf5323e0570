"""The Duo Prompt's sessions: from a verified `authorize` to the redirect back with a code.

A session is created by `authorize` (the browser arrives cross-site, so the cookie is set in
that response, SameSite=Lax) and found by its public id in the URL; it opens only with the
cookie token whose SHA-256 it stores, compared in constant time. The CSRF value of its forms is
derived from the cookie token (never stored). A session ends exactly once (`DEL` answers 1 to
one caller), and its end issues exactly one authorization code: allow after a second factor,
deny after a refusal or a cancel. Sessions expire 15 minutes after `authorize`.

Remembered devices: after a second factor, if the application allows it and the user agrees,
the browser gets a cookie `<user id>.<random token>`; Redis keeps the keyed hash of the token
with the client id and a fingerprint of the user's devices. At the next `authorize` for that
application and user, a matching cookie skips the prompt, unless the user's status now refuses
them or their devices changed (a lost phone removed: the entry is deleted).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from authsvc.clock import Clock
from authsvc.crypto import SecretBox, constant_time_equal
from authsvc.domain.auth_requests import AuthRequest
from authsvc.domain.authlog import AuthLog, auth_record
from authsvc.domain.oidc import AuthorizeRequest, Oidc, digest
from authsvc.domain.preauth import Preauth
from authsvc.domain.security_keys import SecurityKeys
from authsvc.domain.subjects import Subjects
from authsvc.errors import NotFound
from authsvc.model.authlog import AttemptFacts
from authsvc.model.factors import LogFactor
from authsvc.model.integrations import Integration
from authsvc.model.prompts import AuthorizationGrant, PromptSession, RememberedDevice
from authsvc.model.verdicts import Result, Verdict
from authsvc.store import Store

SESSION_SECONDS = 900
REMEMBER_PURPOSE = "remembered device"
CANCELLED = Verdict(Result.DENY, "deny", "The user cancelled the sign-in.", "user_cancelled",
                    LogFactor.NOT_AVAILABLE)
REMEMBERED = Verdict(Result.ALLOW, "allow", "Remembered device.", "remembered_device",
                     LogFactor.REMEMBERED_DEVICE)


class PromptExpired(NotFound):
    """The prompt session is unknown, expired, finished, or the cookie does not open it."""


@dataclass(frozen=True, slots=True)
class Opened:
    """A session opened with its cookie: the session, its application, its CSRF value."""

    session: PromptSession
    app: Integration
    csrf: str

    def csrf_ok(self, sent: str) -> bool:
        """The form's CSRF value is this session's (compared in constant time)."""
        return bool(sent) and constant_time_equal(sent, self.csrf)


@dataclass(frozen=True, slots=True)
class Redirect:
    """Where the browser goes back to the application, and the remember cookie to set
    (value, max age in seconds), if the user chose to be remembered."""

    url: str
    remember: tuple[str, int] | None = None


@dataclass(frozen=True, slots=True)
class Started:
    """A new session: its public id and the cookie token that opens it."""

    sid: str
    token: str


def csrf_of(token: str) -> str:
    """The CSRF value of a session's forms, derived from its (secret) cookie token."""
    return hashlib.sha256(b"authsvc prompt csrf\x00" + token.encode()).hexdigest()


def redirect_url(session: PromptSession, code: str) -> str:
    """The registered redirect URI with the code and the application's state."""
    separator = "&" if "?" in session.redirect_uri else "?"
    query = urlencode({session.code_param: code, "state": session.state})
    return f"{session.redirect_uri}{separator}{query}"


class PromptSessions:
    """Start, open and end prompt sessions; remembered devices."""

    def __init__(self, store: Store, clock: Clock, box: SecretBox, oidc: Oidc,
                 preauth: Preauth, subjects: Subjects, security_keys: SecurityKeys,
                 authlog: AuthLog) -> None:
        self._store = store
        self._clock = clock
        self._box = box
        self._oidc = oidc
        self._preauth = preauth
        self._subjects = subjects
        self._keys = security_keys
        self._authlog = authlog

    async def start(self, request: AuthorizeRequest, remembered: str, ipaddr: str | None
                    ) -> Started | Redirect:
        """A new session for a verified `authorize`, or straight back to the application
        when `remembered` (the application's remember cookie) still holds."""
        session = PromptSession(
            sid=secrets.token_urlsafe(16), token_hash="", client_id=request.client.integration.ikey,
            redirect_uri=request.redirect_uri, state=request.state, username=request.username,
            nonce=request.nonce, code_param=request.code_param, created=int(self._clock.now()))
        user_id = await self._remembered(session, request.client.integration, remembered,
                                         ipaddr) if remembered else ""
        if user_id:
            return await self._grant(replace(session, user_id=user_id, verdict=REMEMBERED),
                                     request.client.integration, ipaddr)
        token = secrets.token_urlsafe(32)
        await self._store.prompts.create_session(replace(session, token_hash=digest(token)),
                                                 SESSION_SECONDS)
        return Started(session.sid, token)

    async def open(self, sid: str, token: str) -> Opened:
        """The session `sid` if `token` (the cookie) opens it; raises PromptExpired."""
        session = await self._store.prompts.session(sid) if sid and token else None
        if session is None or not constant_time_equal(digest(token), session.token_hash):
            raise PromptExpired("This sign-in has expired or was finished. Go back to the "
                                "application and sign in again.")
        client = await self._oidc.client(session.client_id)
        return Opened(session, client.integration, csrf_of(token))

    async def rotate(self, opened: Opened) -> tuple[Opened, str]:
        """A new cookie for the session (the old one no longer opens it), with its CSRF value:
        given when the second factor lets the user manage devices, so that whoever may have
        known the cookie before does not share what it now opens."""
        token = secrets.token_urlsafe(32)
        session = replace(opened.session, token_hash=digest(token))
        await self.save(session, "token_hash")
        return replace(opened, session=session, csrf=csrf_of(token)), token

    async def save(self, session: PromptSession, *fields: str) -> None:
        """Write some fields of the session back; raises PromptExpired if it has ended."""
        if not await self._store.prompts.update_session(session, *fields):
            raise PromptExpired("This sign-in has expired. Sign in again.")

    async def record(self, opened: Opened, verdict: Verdict, user_id: str = "") -> Opened:
        """Keep the latest decision (and who it was about) in the session."""
        session = replace(opened.session, verdict=verdict, txid="",
                          user_id=user_id or opened.session.user_id,
                          auth_time=int(self._clock.now()) if verdict.result is Result.ALLOW
                          else opened.session.auth_time)
        await self.save(session, "verdict", "txid", "user_id", "auth_time")
        return replace(opened, session=session)

    async def finish(self, opened: Opened, *, trust: bool = False, ipaddr: str | None = None
                     ) -> Redirect:
        """End the session with its decision (or a cancel when there is none yet): one code,
        then back to the application; with `trust`, a remember cookie too."""
        session = opened.session
        if session.verdict is None or session.verdict.result is not Result.ALLOW:
            session = replace(session, verdict=session.verdict or CANCELLED)
        if not await self._store.prompts.drop_session(session.sid):
            raise PromptExpired("This sign-in was already finished.")
        redirect = await self._grant(session, opened.app, ipaddr)
        if trust and opened.app.remember_days and session.verdict is not None \
                and session.verdict.result is Result.ALLOW and session.user_id:
            return replace(redirect, remember=await self._remember(session, opened.app))
        return redirect

    async def cancel(self, opened: Opened, ipaddr: str | None = None) -> Redirect:
        """The user gave up: back to the application with a deny (the last refusal if any)."""
        session = opened.session
        verdict = session.verdict if session.verdict and session.verdict.result is Result.DENY \
            else CANCELLED
        return await self.finish(replace(opened, session=replace(session, verdict=verdict)),
                                 ipaddr=ipaddr)

    async def _grant(self, session: PromptSession, app: Integration, ipaddr: str | None
                     ) -> Redirect:
        verdict = session.verdict or CANCELLED
        now = self._clock.now()
        facts = AttemptFacts(txid=str(uuid.uuid4()), app_key=app.ikey, app_name=app.name,
                             user_id=session.user_id, username=session.username, ipaddr=ipaddr)
        grant = AuthorizationGrant(
            client_id=session.client_id, redirect_uri=session.redirect_uri,
            username=session.username, nonce=session.nonce,
            auth_time=session.auth_time or int(now), verdict=verdict,
            context=auth_record(facts, verdict, now))
        return Redirect(redirect_url(session, await self._oidc.issue_code(grant)))

    async def fingerprint(self, user_id: str, app: Integration) -> str:
        """A digest of the user's devices (phones, tokens, security keys) as preauth sees
        them: it changes when a device is added, removed or (de)activated."""
        result = await self._preauth.preauth(AuthRequest(integration=app, user_id=user_id))
        keys = sorted(key.key for key in await self._keys.of_user(user_id))
        devices = sorted(f"{device['device']}:{','.join(device.get('capabilities', []))}"
                         for device in result.devices)
        return hashlib.sha256("\n".join([result.result, *devices, *keys]).encode()).hexdigest()

    async def _remember(self, session: PromptSession, app: Integration) -> tuple[str, int]:
        token = secrets.token_urlsafe(32)
        ttl = app.remember_days * 86_400
        device = RememberedDevice(app.ikey, await self.fingerprint(session.user_id, app),
                                  int(self._clock.now()) + ttl)
        await self._store.prompts.remember(
            session.user_id, self._box.code_hash(REMEMBER_PURPOSE, session.user_id, token),
            device, ttl)
        return f"{session.user_id}.{token}", ttl

    async def _remembered(self, session: PromptSession, app: Integration, cookie: str,
                          ipaddr: str | None) -> str:
        """The user's id if the cookie remembers this browser for this user and application,
        the user may still sign in and their devices are unchanged (a changed set forgets
        it; a status that refuses them changes the fingerprint too), else "". Logged."""
        user_id, _, token = cookie.partition(".")
        subject = await self._subjects.find(AuthRequest(integration=app,
                                                        username=session.username))
        if app.remember_days == 0 or subject is None or subject.user_id != user_id or not token:
            return ""
        token_hash = self._box.code_hash(REMEMBER_PURPOSE, user_id, token)
        device = await self._store.prompts.remembered(user_id, token_hash)
        if device is None or device.client_id != app.ikey:
            return ""
        if device.fingerprint != await self.fingerprint(user_id, app):
            await self._store.prompts.forget(user_id, token_hash)
            return ""
        now = self._clock.now()
        facts = subject.facts(AuthRequest(integration=app, username=session.username,
                                          ipaddr=ipaddr))
        await self._authlog.record(facts, REMEMBERED, now)
        return user_id
