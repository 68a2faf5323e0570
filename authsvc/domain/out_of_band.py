"""`auth` with an out-of-band factor: a push, a phone call or an SMS batch to one of the user's
phones (`factor=auto`: a push if the phone can take one, else a call)."""

from __future__ import annotations

from collections.abc import Sequence

from authsvc.clock import Clock
from authsvc.domain.auth_requests import AuthRequest, OutOfBand
from authsvc.domain.authlog import AuthLog
from authsvc.domain.push import PushRequest, PushService, Started
from authsvc.domain.subjects import Subject
from authsvc.domain.telephony import SENT, SMS_COOLDOWN, SMS_DAILY_LIMIT, PhoneCalls, SmsPasscodes
from authsvc.domain.verdicts import NO_DEVICE, restricted
from authsvc.errors import InvalidParameter
from authsvc.factors import OutOfBandFactor, out_of_band_factors
from authsvc.model.authlog import AttemptFacts
from authsvc.model.phones import Phone
from authsvc.model.telephony import IssueStatus
from authsvc.model.verdicts import Result, Verdict
from authsvc.store import Store

AUTO = "auto"


class OutOfBandSender:
    """Choose the factor and the phone, then send (or refuse, logged). A factor turned off by
    an account setting or by one of the user's groups is refused as `factor_restricted`; `auto`
    picks among what is left."""

    def __init__(self, store: Store, clock: Clock, authlog: AuthLog, pushes: PushService,
                 sms: SmsPasscodes, calls: PhoneCalls) -> None:
        self._store = store
        self._clock = clock
        self._authlog = authlog
        self._pushes = pushes
        self._sms = sms
        self._calls = calls
        self._factors = out_of_band_factors()

    async def send(self, request: AuthRequest, subject: Subject, proof: OutOfBand) -> Started:
        """Send to the chosen phone; a refusal (factor off, no capable phone, SMS limits) is
        logged and returned as `Started.refused`. An SMS batch always ends refused: "sent"."""
        facts = subject.facts(request)
        phones = await self._store.phones.get_many(subject.loaded.phone_ids)
        factor, phone = self._choose(proof, phones, subject)
        if not factor.enabled(subject.settings) or not subject.standing.allows(factor.kind):
            return await self._refuse(facts, restricted(factor.log_name))
        if phone is None:
            reason = ("no_activated_duo_mobile_account" if factor.api_name == "push"
                      else "invalid_device")
            return await self._refuse(facts, Verdict(Result.DENY, "deny", NO_DEVICE, reason,
                                                     factor.log_name))
        if factor.api_name == "sms":
            return await self._send_sms(facts, subject, phone)
        if factor.api_name == "phone":
            return await self._calls.call(subject.user_id, phone.phone_id, phone.number, facts,
                                          subject.settings, subject.standing.gate)
        options = proof.options
        return await self._pushes.start(PushRequest(
            user_id=subject.user_id, phone_id=phone.phone_id, facts=facts, type=options.type,
            display_username=options.display_username, pushinfo=options.pushinfo,
            verified_txid=options.txid, gate=subject.standing.gate), subject.settings)

    async def _refuse(self, facts: AttemptFacts, refusal: Verdict) -> Started:
        await self._authlog.record(facts, refusal, self._clock.now())
        return Started(facts.txid, refusal)

    async def _send_sms(self, facts: AttemptFacts, subject: Subject, phone: Phone) -> Started:
        status = await self._sms.send([subject.user_id], phone.number, subject.settings,
                                      context="authentication", txid=facts.txid)
        if status is IssueStatus.SENT:
            return Started(facts.txid, SENT)
        refusal = SMS_COOLDOWN if status is IssueStatus.COOLING_DOWN else SMS_DAILY_LIMIT
        return await self._refuse(facts, refusal)

    def _choose(self, proof: OutOfBand, phones: Sequence[Phone], subject: Subject
                ) -> tuple[OutOfBandFactor, Phone | None]:
        """The factor to use (auto: push if a phone can, else a call) and the phone."""
        settings, standing = subject.settings, subject.standing
        usable = [(phone, standing.capabilities(phone.capabilities_under(
                      sms=settings.sms_enabled, calls=settings.calls_enabled)))
                  for phone in phones]
        device = proof.options.device
        if device != AUTO:
            if device not in [phone.phone_id for phone in phones]:
                raise InvalidParameter("device (not a phone of this user)")
            usable = [(phone, caps) for phone, caps in usable if phone.phone_id == device]
        name = proof.factor
        if name == AUTO:
            name = "push" if any("push" in caps for _, caps in usable) else "phone"
        factor = self._factors[name]
        return factor, next((phone for phone, caps in usable if factor.api_name in caps), None)
