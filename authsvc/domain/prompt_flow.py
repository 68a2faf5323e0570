"""What the Duo Prompt shows and the second factors it offers, decided by the same domain
functions as the Auth API: `Preauth.preauth` for the user's state and devices,
`Authenticator.auth` for a passcode, a push (async, then `Authenticator.status`, the long poll),
a call, an SMS batch or a security key. Lockout, fatigue limits, statuses and the log apply
unchanged; the prompt only keeps the latest verdict in the session.

The application's new-user policy applies when preauth says "enroll": enroll inline, let the
user in without a second factor (logged `allow_unenrolled_user`), or refuse
(`deny_unenrolled_user`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from authsvc.clock import Clock
from authsvc.domain.auth import Authenticator
from authsvc.domain.auth_requests import (
    AuthRequest,
    OutOfBand,
    Passcode,
    PreauthResult,
    PushOptions,
    WebauthnAssertion,
)
from authsvc.domain.authlog import AuthLog
from authsvc.domain.preauth import Preauth
from authsvc.domain.prompt import Opened, PromptSessions
from authsvc.domain.security_keys import SecurityKeys
from authsvc.domain.subjects import Subjects, UnknownUser
from authsvc.domain.verdicts import (
    BYPASS_USER,
    DISABLED,
    LOCKED,
    NEW_USER_ALLOWED,
    NEW_USER_DENIED,
)
from authsvc.errors import InvalidParameter
from authsvc.model.authlog import AttemptFacts
from authsvc.model.factors import LogFactor
from authsvc.model.integrations import EnrollPolicy
from authsvc.model.verdicts import Result, Verdict
from authsvc.store import Store

SEND_METHODS = ("push", "phone", "sms")
ALLOW_UNENROLLED = Verdict(Result.ALLOW, "allow", "Allowed without two-factor authentication.",
                           "allow_unenrolled_user", LogFactor.NOT_AVAILABLE)
DENY_UNENROLLED = Verdict(Result.DENY, "deny", "You are not enrolled in two-factor "
                          "authentication, and this application does not enroll new users. "
                          "Contact your administrator.", "deny_unenrolled_user",
                          LogFactor.NOT_AVAILABLE)

_NEW_USER = {NEW_USER_ALLOWED: ALLOW_UNENROLLED, NEW_USER_DENIED: DENY_UNENROLLED}


@dataclass(frozen=True, slots=True)
class PhoneChoice:
    """One of the user's phones as the prompt lists it."""

    device: str
    name: str
    number: str
    capabilities: tuple[str, ...]
    last_used: bool = False

_NEW_USER = {NEW_USER_ALLOWED: ALLOW_UNENROLLED, NEW_USER_DENIED: DENY_UNENROLLED}


@dataclass(frozen=True, slots=True)
class PromptPage:
    """What the prompt shows now: `stage` is auth (choose a method), enroll (add a first
    device), denied (nothing more to try), or done (a decision to hand back)."""

    stage: str
    phones: list[PhoneChoice] = field(default_factory=list)
    has_tokens: bool = False
    has_keys: bool = False
    message: str = ""

_NEW_USER = {NEW_USER_ALLOWED: ALLOW_UNENROLLED, NEW_USER_DENIED: DENY_UNENROLLED}


@dataclass(frozen=True, slots=True)
class Sent:
    """A push or call under way (`waiting`), or the verdict that ended the attempt at once
    (an SMS batch: "sent"); the Verified Push code to show, if any."""

    opened: Opened
    verdict: Verdict
    waiting: bool
    verification_code: str = ""


def _preauth_refusal(result: PreauthResult) -> Verdict:
    for known in (LOCKED, DISABLED):
        if result.status_msg == known.status_msg:
            return known
    return Verdict(Result.DENY, "deny", result.status_msg, "denied_by_policy",
                   LogFactor.NOT_AVAILABLE)


class PromptFlow:
    """The prompt's pages and its second factors."""

    def __init__(self, store: Store, clock: Clock, sessions: PromptSessions,
                 auth: Authenticator, preauth: Preauth, subjects: Subjects,
                 security_keys: SecurityKeys, authlog: AuthLog) -> None:
        self._store = store
        self._clock = clock
        self._sessions = sessions
        self._auth = auth
        self._preauth = preauth
        self._subjects = subjects
        self._keys = security_keys
        self._authlog = authlog

    def request(self, opened: Opened, ipaddr: str | None = None, **proof: Any) -> AuthRequest:
        """The Auth API request the prompt makes for this session's user."""
        return AuthRequest(integration=opened.app, username=opened.session.username,
                           ipaddr=ipaddr, **proof)

    async def page(self, opened: Opened, ipaddr: str | None = None) -> tuple[Opened, PromptPage]:
        """Decide what the prompt shows (a decision preauth or the new-user policy takes is
        kept in the session and logged)."""
        verdict = opened.session.verdict
        if verdict is not None and verdict.result is Result.ALLOW:
            return opened, PromptPage("done")
        result = await self._preauth.preauth(self.request(opened, ipaddr))
        if result.verdict in _NEW_USER:  # the application's new-user policy (preauth logged it)
            return await self._decided(opened, _NEW_USER[result.verdict], ipaddr, logged=True)
        if result.result == "allow":  # a user in bypass status (preauth logged it)
            return await self._decided(opened, result.verdict or BYPASS_USER, ipaddr,
                                       logged=True)
        if result.result == "deny":
            opened = await self._sessions.record(opened, _preauth_refusal(result))
            return opened, PromptPage("denied", message=result.status_msg)
        if result.result == "enroll":
            return await self._new_user(opened, ipaddr)
        message = verdict.status_msg if verdict is not None else ""
        return opened, await self._auth_page(opened, result, message)

    async def _auth_page(self, opened: Opened, result: PreauthResult, message: str
                         ) -> PromptPage:
        subject = await self._subjects.find(self.request(opened))
        user_id = subject.user_id if subject else ""
        last = await self._store.prompts.last_device(user_id) if user_id else ""
        phones = [PhoneChoice(str(device["device"]), str(device["name"]),
                              str(device.get("number", "")),
                              tuple(cap for cap in device.get("capabilities", [])
                                    if cap in SEND_METHODS), device["device"] == last)
                  for device in result.devices if device["type"] == "phone"]
        phones.sort(key=lambda phone: not phone.last_used)  # the last used one first
        return PromptPage(
            "auth", phones=phones,
            has_tokens=any(device["type"] == "token" for device in result.devices),
            has_keys=bool(user_id and await self._keys.of_user(user_id)), message=message)

    async def _new_user(self, opened: Opened, ipaddr: str | None) -> tuple[Opened, PromptPage]:
        policy = opened.app.enroll_policy
        if policy is EnrollPolicy.ENROLL:
            return opened, PromptPage("enroll")
        verdict = ALLOW_UNENROLLED if policy is EnrollPolicy.ALLOW else DENY_UNENROLLED
        return await self._decided(opened, verdict, ipaddr)

    async def _decided(self, opened: Opened, verdict: Verdict, ipaddr: str | None, *,
                       logged: bool = False) -> tuple[Opened, PromptPage]:
        subject = await self._subjects.find(self.request(opened))
        if not logged:
            facts = (subject.facts(self.request(opened, ipaddr)) if subject is not None
                     else self._anonymous_facts(opened, ipaddr))
            await self._authlog.record(facts, verdict, self._clock.now())
        opened = await self._sessions.record(opened, verdict,
                                             subject.user_id if subject else "")
        stage = "done" if verdict.result is Result.ALLOW else "denied"
        return opened, PromptPage(stage, message=verdict.status_msg)

    def _anonymous_facts(self, opened: Opened, ipaddr: str | None) -> AttemptFacts:
        return AttemptFacts(txid=str(uuid.uuid4()), app_key=opened.app.ikey,
                            app_name=opened.app.name, username=opened.session.username,
                            ipaddr=ipaddr)

    async def passcode(self, opened: Opened, code: str, ipaddr: str | None) -> Opened:
        """Check a passcode (Duo Mobile, hardware token, SMS or bypass code)."""
        return await self._decide(opened, Passcode(code.strip()), ipaddr)

    async def security_key_options(self, opened: Opened) -> dict[str, Any]:
        """WebAuthn request options for the user's keys (with `appid` for U2F keys)."""
        subject = await self._subjects.get(self.request(opened))
        return await self._keys.authentication_options(subject.user_id)

    async def security_key(self, opened: Opened, assertion: dict[str, Any],
                           ipaddr: str | None) -> Opened:
        """Check the browser's assertion."""
        return await self._decide(opened, WebauthnAssertion(assertion), ipaddr)

    async def _decide(self, opened: Opened, proof: Passcode | WebauthnAssertion,
                      ipaddr: str | None) -> Opened:
        try:
            answer = await self._auth.auth(self.request(opened, ipaddr, proof=proof))
        except UnknownUser:
            raise InvalidParameter("username (not enrolled)") from None
        await self._remember_device(answer.user_id, answer.verdict)
        return await self._sessions.record(opened, answer.verdict, answer.user_id)

    async def send(self, opened: Opened, method: str, device: str, ipaddr: str | None) -> Sent:
        """Start a push (Verified Push when the account asks for it) or a call, or send a
        batch of SMS passcodes, to one of the user's phones."""
        if method not in SEND_METHODS:
            raise InvalidParameter(f"method ({', '.join(SEND_METHODS)})")
        txid, code = None, ""
        if method == "push":
            prepared = await self._preauth.preauth(self.request(opened, ipaddr),
                                                   verified_push=True)
            if prepared.verified_push is not None:
                txid, code, _ = prepared.verified_push
        proof = OutOfBand(method, PushOptions(device=device or "auto", txid=txid))
        answer = await self._auth.auth(self.request(opened, ipaddr, proof=proof,
                                                    run_async=method != "sms"))
        if answer.verdict.result is Result.WAITING:
            session = replace(opened.session, txid=answer.txid, user_id=answer.user_id)
            await self._sessions.save(session, "txid", "user_id")
            return Sent(replace(opened, session=session), answer.verdict, True, code)
        opened = await self._sessions.record(opened, answer.verdict, answer.user_id)
        return Sent(opened, answer.verdict, False)

    async def wait(self, opened: Opened) -> Verdict:
        """The push's or call's state, by the Auth API's long poll; a final one is kept."""
        if not opened.session.txid:
            return opened.session.verdict or Verdict(Result.DENY, "deny", "Nothing was sent.",
                                                     "", LogFactor.NOT_AVAILABLE)
        # The first poll of a fresh push answers at once (its state is new to this poller);
        # the second one waits for the next change, as auth_status does.
        answer = await self._auth.status(opened.session.txid)
        if answer.verdict.result is Result.WAITING:
            answer = await self._auth.status(opened.session.txid)
        if answer.verdict.result is not Result.WAITING:
            await self._remember_device(opened.session.user_id, answer.verdict)
            await self._sessions.record(opened, answer.verdict)
        return answer.verdict

    async def _remember_device(self, user_id: str, verdict: Verdict) -> None:
        if verdict.result is Result.ALLOW and user_id and verdict.device:
            await self._store.prompts.set_last_device(user_id, verdict.device)
