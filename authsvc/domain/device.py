"""Duo Mobile's device API, server side (`reference/device-protocol.md` §1).

Exactly as liberal as third-party clients need and no more: parameters from the query and the
body merged; the signed parameter line either sorted-and-quoted or exactly as received; any
RFC 2822 date within ±300 s; the signed host is the one written into the device's activation
code, never the Host header. Unsigned, wrongly signed or replayed calls, and calls from an app
whose activation was replaced, are refused; a signed POST is accepted once (replay guard).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from authsvc.clock import Clock
from authsvc.crypto import SecretBox, constant_time_equal, random_id, secret_hash
from authsvc.domain.events import Waiters
from authsvc.domain.phones import otp_copy
from authsvc.domain.push import PushService
from authsvc.domain.push_json import CUSTOMER_NAME
from authsvc.errors import (
    BadSignature,
    DateSkew,
    InvalidParameter,
    MissingCredentials,
    MissingDate,
    PushNotFound,
    UnknownActivationCode,
    UnsupportedSignature,
    WrongStepUpCode,
)
from authsvc.model.phones import AppCredentials, PhoneRecord
from authsvc.model.pushes import PushOperation, ResolveStatus, owner_of_urgid
from authsvc.store import Store
from authsvc.wire import duo_sig

MAX_SKEW_S = 300
MAX_DEVICE_WAIT_S = 60
# An empty long poll ends after 80-100% of the wait asked for: phones that started polling
# together (a fleet activated at once, every phone reconnecting after a restart) would
# otherwise all poll again in the same instant, every wait, forever; the spread breaks the wave.
POLL_SPREAD = 0.2
LAST_SEEN_EVERY_S = 60  # phones poll every second: record "last seen" once a minute, not each poll
_ANSWERS = {"approve": PushOperation.APPROVE, "deny": PushOperation.DENY,
            "fraud": PushOperation.FRAUD}


@dataclass(frozen=True, slots=True)
class DeviceRequest:
    """A device call as received: what the signature may cover, and the merged parameters."""

    method: str
    path: str
    raw_query: str
    raw_body: str
    params: Sequence[tuple[str, str]]
    authorization: str
    date: str | None

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.params if key == name), None)


@functools.lru_cache(maxsize=65_536)  # a PEM parse is ~20 us; phones sign every call
def _rsa_public_key(pem: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        raise UnsupportedSignature("pubkey (not a PEM public key)") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise UnsupportedSignature("pubkey (RSA, at least 2048 bits)")
    return key


def _platform_ok(platform: str) -> bool:
    return platform.lower() == "android" or platform == "iOS"


class DeviceService:
    """Activation, signed calls, the pending-push list and answers."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock, pushes: PushService,
                 waiters: Waiters) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._pushes = pushes
        self._waiters = waiters

    async def activate(self, code: str, request: DeviceRequest) -> dict[str, Any]:
        """POST /push/v2/activation/<code>: a new app with an RSA key takes the phone's code."""
        pubkey, pkpush = request.param("pubkey"), request.param("pkpush")
        if not pubkey or pkpush != "rsa-sha512":
            raise UnsupportedSignature("pubkey and pkpush=rsa-sha512 are required")
        _rsa_public_key(pubkey)
        code_hash = secret_hash(code)
        taken = await self._store.phones.take_activation(code_hash)
        record = await self._store.phones.record(taken[0]) if taken else None
        if taken is None or record is None or not constant_time_equal(
                record.app.activation_hash, code_hash):
            raise UnknownActivationCode()
        if not _platform_ok(request.param("platform") or ""):
            await self._store.phones.set_activation_hash(record.phone_id, "", 0)
            raise InvalidParameter(message="Unsupported platform")
        return await self._issue_credentials(record, taken[1], code_hash, pubkey, request)

    async def _issue_credentials(self, record: PhoneRecord, host: str, code_hash: str,
                                 pubkey: str, request: DeviceRequest) -> dict[str, Any]:
        phone_id, cred = record.phone_id, record.app.cred + 1
        akey, hotp_secret = random_id("DA"), secrets.token_hex(16)
        facts = {key: value for key, value in request.params if key != "pubkey"}
        app = AppCredentials(
            akey=akey, pubkey=pubkey, host=host, cred=cred, activated_hash=code_hash,
            sealed_hotp_secret=self._box.seal(hotp_secret.encode(),
                                              bound_to=f"{phone_id}:{cred}"))
        await self._store.phones.store_app(phone_id, app, model=facts.get("model", "")[:100],
                                           app_info=json.dumps(facts)[:4000],
                                           now_s=int(self._clock.now()))
        users = await self._store.phones.users_of(phone_id)
        await self._store.phones.set_otp_copies(
            users, phone_id, otp_copy(self._box, phone_id, cred, hotp_secret))
        return {"akey": akey, "pkey": phone_id, "hotp_secret": hotp_secret,
                "customer_name": CUSTOMER_NAME, "reactivation_token": secrets.token_hex(16),
                "urg_secret": secrets.token_hex(16), "force_disable_analytics": True,
                "has_backup_restore": False, "has_bluetooth_approve": False,
                "has_trusted_endpoints": False, "has_trusted_endpoints_permission_flow": False,
                "requires_fips_android": False, "security_checkup_enabled": False,
                "instant_restore_status": "disabled", "requires_mdm": 0}

    async def authenticate(self, request: DeviceRequest) -> PhoneRecord:
        """The calling device's phone record, if the request is correctly signed by it; a
        signed POST is accepted once."""
        phone, signature = await self._verified(request)
        # Replays matter only for calls that change something: a poll repeated within the same
        # second is legitimately byte-identical (several apps poll every second).
        if request.method == "POST" and not await self._store.phones.remember_signature(
                _digest(signature)):
            raise BadSignature("signature already used")
        return phone

    async def _verified(self, request: DeviceRequest) -> tuple[PhoneRecord, bytes]:
        """The signing device's phone record and the signature, checked (not for replays)."""
        parsed = duo_sig.parse_authorization(request.authorization)
        if parsed is None:
            raise MissingCredentials()
        phone_id, signature_b64 = parsed
        when = duo_sig.parse_date(request.date) if request.date else None
        if request.date is None or when is None:
            raise MissingDate()
        if abs(self._clock.now() - when) > MAX_SKEW_S:
            raise DateSkew()
        phone = await self._store.phones.record(phone_id)
        if phone is None or not phone.phone.activated or not phone.app.pubkey:
            raise BadSignature("unknown or deactivated device")
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except binascii.Error:
            raise BadSignature() from None
        self._check_signature(phone, request, signature)
        akey = request.param("akey")
        if akey is not None and not constant_time_equal(akey, phone.app.akey):
            raise BadSignature("akey does not match the device")
        return phone, signature

    def _check_signature(self, phone: PhoneRecord, request: DeviceRequest,
                         signature: bytes) -> None:
        key = _rsa_public_key(phone.app.pubkey)
        raw = request.raw_query or request.raw_body.removeprefix("?")
        head = [request.date or "", request.method.upper(), phone.app.host, request.path]
        for params_line in dict.fromkeys((duo_sig.canon_params(request.params), raw)):
            canonical = "\n".join([*head, params_line]).encode()
            try:
                key.verify(signature, canonical, padding.PKCS1v15(), hashes.SHA512())
            except InvalidSignature:
                continue
            return
        raise BadSignature()

    async def transactions(self, phone: PhoneRecord, wait: int) -> dict[str, Any]:
        """GET /push/v2/device/transactions (``wait`` > 0: hold until a push arrives)."""
        phone_id = phone.phone_id
        with self._waiters.watch_news(f"phone:{phone_id}") as waiter:
            found = await self._pending(phone_id)
            if not found and wait > 0 and await self._clock.wait(waiter.event,
                                                                 poll_window(wait)):
                # Announced: the inbox was empty when read and every push delivered since was
                # announced with its entry, so the news is the inbox (one command saved). The
                # subscriber reconnected, or an entry expired: read again. A wait that ran out
                # unannounced found nothing new: the inbox was empty and stays so.
                announced = self._announced(waiter.news)
                found = announced if announced is not None else await self._pending(phone_id)
        now = int(self._clock.now())
        if now - (phone.phone.last_seen or 0) >= LAST_SEEN_EVERY_S:
            await self._store.phones.touch(phone_id, now)
        return {"transactions": found, "current_time": now}

    def _announced(self, news: list[str | None]) -> list[dict[str, Any]] | None:
        """The transactions the wake-ups carried, or None when one carried none or ran out."""
        entries = [None if item is None else self._store.pushes.announced_entry(item)
                   for item in news]
        now_ms = self._clock.now_ms()
        live = [entry for entry in entries if entry is not None and entry.expires_ms > now_ms]
        if not live or len(live) < len(entries):
            return None
        once = {entry.urgid: entry for entry in live}  # a delivery run twice announces twice
        return [entry.transaction for entry in sorted(once.values(), key=lambda e: e.expires_ms)]

    async def _pending(self, phone_id: str) -> list[dict[str, Any]]:
        """The phone's inbox (one read); pushes whose time ran out are ended and dropped."""
        live, expired = await self._store.pushes.inbox(phone_id, self._clock.now_ms())
        if expired:
            for entry in expired:
                await self._pushes.expire(entry.user_id, entry.txid)
            await self._store.pushes.take_from_inbox(phone_id, [e.urgid for e in expired])
        return [entry.transaction for entry in live]

    async def answer(self, urgid: str, request: DeviceRequest) -> dict[str, str]:
        """POST /push/v2/device/transactions/<urgid>: approve, deny or report fraud, once.
        The urgid names the push (push_resolve.lua accepts it only as stored with the push,
        from the phone it was sent to, and never twice with one signature: the replay guard
        rides in that script, a command saved)."""
        phone, signature = await self._verified(request)
        answer = _ANSWERS.get(request.param("answer") or "")
        if answer is None:
            raise InvalidParameter("answer (approve or deny)")
        if answer is PushOperation.DENY and request.param("fraud") in ("1", "true"):
            answer = PushOperation.FRAUD
        owner = owner_of_urgid(urgid)
        if owner is None:
            raise PushNotFound("urgid")
        user_id, txid = owner
        code = request.param("step_up_code")
        fraud_locks = (answer is PushOperation.FRAUD
                       and (await self._store.account.get()).fraud_locks_user)
        resolution = await self._store.pushes.resolve(
            user_id, txid, now_ms=self._clock.now_ms(), operation=answer,
            phone_id=phone.phone_id, urgid=urgid,
            code_hash=self._pushes.step_up_hash(txid, code) if code else "",
            fraud_locks=fraud_locks, signature_digest=_digest(signature))
        if resolution.status is ResolveStatus.REPLAYED:
            raise BadSignature("signature already used")
        if resolution.status is ResolveStatus.WRONG_CODE:
            raise WrongStepUpCode(f"{resolution.tries_left} tries left")
        await self._store.pushes.take_from_inbox_later(phone.phone_id, urgid)
        if resolution.status is ResolveStatus.NOT_PENDING:
            raise PushNotFound("urgid (already answered or expired)")
        await self._pushes.log_resolution(resolution)
        return {"result": "SUCCESS"}

    async def register(self, phone: PhoneRecord, request: DeviceRequest) -> dict[str, str]:
        """POST /push/v2/device/registration: remember the app's push-notification token."""
        token = request.param("token") or ""
        if len(token) > 4096:
            raise InvalidParameter("token")
        await self._store.phones.set_push_token(phone.phone_id, token)
        return {}

    @staticmethod
    def info(record: PhoneRecord) -> dict[str, Any]:
        """GET /push/v2/device/info: what the service knows about the device."""
        phone = record.phone
        return {"pkey": phone.phone_id, "customer_name": CUSTOMER_NAME,
                "platform": phone.platform, "model": phone.model,
                "last_seen": "" if phone.last_seen is None else str(phone.last_seen)}


def _digest(signature: bytes) -> str:
    """What the replay guards remember of a signature."""
    return hashlib.sha256(signature).hexdigest()


def poll_window(wait: int) -> float:
    """How long an empty long poll waits: `wait` (at most `MAX_DEVICE_WAIT_S`) less up to
    `POLL_SPREAD` of it, at random (not a secret: it only spreads the polls in time)."""
    return min(wait, MAX_DEVICE_WAIT_S) * (1 - POLL_SPREAD * secrets.randbelow(1001) / 1000)
