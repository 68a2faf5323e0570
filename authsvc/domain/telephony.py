"""SMS passcode batches and phone calls: what `factor=sms` and `factor=phone` do.

An SMS batch replaces the user's previous batch (sms_issue.lua, with a cooldown and a daily
limit against cost abuse); its codes are 7 digits whose first digit is the code's position.
A phone call is a transaction like a push (`domain/push.py`, kind "call") answered by the
carrier instead of the app: the voice message carries a callback URL and a one-call token; the
carrier reports "answered" and the key pressed (`keypress_confirm` approves, `keypress_fraud`
reports fraud, anything else denies); no answer runs into the call timeout.
"""

from __future__ import annotations

import secrets
import time

from authsvc.clock import Clock
from authsvc.crypto import SecretBox, constant_time_equal, random_digits
from authsvc.domain.authlog import AuthLog
from authsvc.domain.links import Links
from authsvc.domain.messages import Message, Messenger
from authsvc.domain.push import PushRequest, PushService, Started
from authsvc.errors import InvalidParameter, NotFound
from authsvc.factors.sms_passcode import HASH_PURPOSE
from authsvc.model.authlog import AttemptFacts
from authsvc.model.factors import LogFactor
from authsvc.model.groups import NO_GROUPS, GateArgs
from authsvc.model.pushes import PushKind, PushOperation, ResolveStatus
from authsvc.model.settings import AccountSettings
from authsvc.model.telephony import IssueStatus
from authsvc.model.verdicts import Result, Verdict
from authsvc.store import Store

CALL_TOKEN_PURPOSE = "call"  # noqa: S105 - a hash domain label, not a secret
SENT = Verdict(Result.DENY, "sent", "New SMS passcodes sent.", "", LogFactor.SMS_REFRESH)
SMS_COOLDOWN = Verdict(Result.DENY, "deny", "SMS passcodes were sent moments ago; use them.",
                       "sms_cooldown", LogFactor.SMS_REFRESH)
SMS_DAILY_LIMIT = Verdict(Result.DENY, "deny", "No more SMS passcodes can be sent today.",
                          "sms_daily_limit", LogFactor.SMS_REFRESH)


def new_batch(size: int) -> list[tuple[str, int]]:
    """(code, position): 7 digits, the first being the position (1-9, then 0 for the 10th)."""
    return [(f"{position % 10}{random_digits(6)}", position) for position in range(1, size + 1)]


class SmsPasscodes:
    """Send SMS passcode batches."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock, messenger: Messenger) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._messenger = messenger

    async def send(self, user_ids: list[str], number: str, settings: AccountSettings, *,
                   context: str, txid: str = "", cooldown: bool = True) -> IssueStatus:
        """One batch to `number`, usable by each of `user_ids` (a shared phone's users)."""
        batch = new_batch(settings.sms_batch)
        now_ms = self._clock.now_ms()
        expires = now_ms + settings.sms_expiration_ms if settings.sms_expiration_ms else 0
        day = time.strftime("%Y%m%d", time.gmtime(now_ms / 1000))
        status = IssueStatus.NO_USER
        for user_id in user_ids:
            hashed = [(self._box.code_hash(HASH_PURPOSE, user_id, code), pos)
                      for code, pos in batch]
            status = await self._store.sms.issue(
                user_id, hashed, now_ms=now_ms, expires_ms=expires,
                cooldown_ms=settings.sms_cooldown_ms if cooldown else 0,
                daily_limit=settings.sms_daily_limit, day=day)
            if status is not IssueStatus.SENT:
                return status
        prefix = settings.sms_message
        body = f"{prefix}: {' '.join(code for code, _ in batch)}"
        await self._messenger.send(Message("sms", number, body, "sms_passcodes", context=context,
                                           txid=txid))
        return status

    async def send_from_admin(self, phone_id: str) -> None:
        """The Admin Panel's "Send SMS passcodes": a new batch for every user of the phone (no
        cooldown; the daily limit applies); raises InvalidParameter when it cannot be sent."""
        phone = await self._store.phones.get(phone_id)
        if phone is None:
            raise NotFound("phone_id")
        users = await self._store.phones.users_of(phone_id)
        if not phone.number or not users:
            raise InvalidParameter("phone_id (the phone needs a number and a user)")
        settings = await self._store.account.cached()
        status = await self.send(users, phone.number, settings, context="administrator",
                                 cooldown=False)
        if status is not IssueStatus.SENT:
            raise InvalidParameter("phone_id (the daily SMS limit of a user is reached)")

    async def next_code(self, user_id: str) -> str | None:
        """preauth's `sms_nextcode`: the first digit of the next valid code, if any."""
        position = await self._store.sms.next_position(user_id, self._clock.now_ms())
        return None if position is None else str(position % 10)


class PhoneCalls:
    """Place calls and take the carrier's reports."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock, messenger: Messenger,
                 pushes: PushService, authlog: AuthLog, links: Links) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._messenger = messenger
        self._pushes = pushes
        self._authlog = authlog
        self._links = links

    async def call(self, user_id: str, phone_id: str, number: str, facts: AttemptFacts,
                   settings: AccountSettings, gate: GateArgs = NO_GROUPS) -> Started:
        """Create the call transaction and ask the provider to place the call (`gate`: what
        the user's groups impose, checked with the status by push_create.lua)."""
        token = secrets.token_urlsafe(24)
        started = await self._pushes.start(PushRequest(
            user_id=user_id, phone_id=phone_id, facts=facts, kind=PushKind.CALL, type="call",
            call_token=self._box.code_hash(CALL_TOKEN_PURPOSE, facts.txid, token), gate=gate),
            settings)
        if started.refused is not None:
            return started
        prompt = (f"This is an authentication call for {facts.app_name}. Press "
                  f"{settings.keypress_confirm} to log in, or "
                  f"{settings.keypress_fraud} to report fraud.")
        await self._messenger.send(Message(
            "voice", number, prompt, "authentication_call", txid=started.txid,
            extra={"call_id": started.txid, "token": token,
                   "callback_url": f"{self._links.base_url}/carrier/v1/calls/{started.txid}",
                   "keypress_confirm": settings.keypress_confirm,
                   "keypress_fraud": settings.keypress_fraud}))
        return started

    async def report(self, call_id: str, token: str, event: str, digit: str) -> str:
        """A carrier event: ``answered``, ``keypress`` (with `digit`) or ``hangup``."""
        user_id = await self._store.pushes.owner(call_id) or ""
        call = await self._store.pushes.read(user_id, call_id) if user_id else None
        offered = self._box.code_hash(CALL_TOKEN_PURPOSE, call_id, token)
        if call is None or call.kind is not PushKind.CALL or not call.call_token \
                or not constant_time_equal(call.call_token, offered):
            raise NotFound("call_id")
        settings = await self._store.account.cached()
        operation, reason = _operation(event, digit, settings)
        resolution = await self._store.pushes.resolve(
            user_id, call_id, now_ms=self._clock.now_ms(), operation=operation,
            phone_id=call.phone_id, fraud_locks=settings.fraud_locks_user, deny_reason=reason)
        if resolution.status is ResolveStatus.ENDED:
            await self._pushes.log_end(user_id, call_id)
        return resolution.state


def _operation(event: str, digit: str, settings: AccountSettings) -> tuple[PushOperation, str]:
    if event == "answered":
        return PushOperation.ANSWERED, ""
    if event == "hangup":
        return PushOperation.DENY, "no_keys_pressed"
    if event != "keypress":
        raise InvalidParameter("event (answered, keypress or hangup)")
    if digit == settings.keypress_confirm:
        return PushOperation.APPROVE, ""
    if digit == settings.keypress_fraud:
        return PushOperation.FRAUD, ""
    return PushOperation.DENY, "user_mistake"
