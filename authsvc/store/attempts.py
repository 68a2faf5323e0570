"""The hot path's store calls: resolve a name with the settings, load a user's factors, and run
the passcode decision script.

A passcode verification costs two round trips that wait for an answer: (1) the user record
pipelined with its tokens and Duo Mobile state, (2) the decision script; the name -> id lookup
is cached per process (and checked against the record read in (1)), the account settings are
re-read only when their version (read in (1)) changed, and the log record is written without
waiting. The decision re-checks
everything it is given against current state, so what (1) read may be stale without harm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from authsvc.domain.account_settings import AccountSettings
from authsvc.domain.models import Token
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.records import token_from_json
from authsvc.store.scripts import ScriptName


class AttemptStatus(IntEnum):
    """Reply codes of passcode_attempt.lua."""

    ALLOW = 1
    INVALID = 2
    LOCKED_NOW = 3
    LOCKED = 4
    DISABLED = 5
    BYPASS_USER = 6
    NO_USER = 7


@dataclass(frozen=True, slots=True)
class TokenCandidate:
    """What Python found for one token: the matched counter/step and a far (resync) counter."""

    token_id: str
    kind: str
    match: int = -1
    far: int = -1


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """The decision: status, and for ALLOW which factor and object matched."""

    status: AttemptStatus
    factor: str = ""
    matched_id: str = ""
    detail: str = ""
    fails: int = 0


@dataclass(frozen=True, slots=True)
class LoadedUser:
    """A user's record fields and tokens as read for one attempt."""

    fields: dict[str, str]
    tokens: list[Token]
    mobile_otp: dict[str, str] = field(default_factory=dict)
    phone_ids: list[str] = field(default_factory=list)
    settings_version: str | None = None

    @property
    def activated_phones(self) -> list[str]:
        """The user's phones with an activated app, in the user's order."""
        return [phone_id for phone_id in self.phone_ids if phone_id in self.mobile_otp]


class AttemptStore:
    """Reads and the atomic decision for one authentication attempt."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def resolve(self, name: str) -> str | None:
        """The user id answering to `name` (lowercased)."""
        user_id: str | None = await self._ctx.redis.execute(
            "HGET", self._keys.username_index(), name)
        return user_id

    async def load(self, user_id: str) -> LoadedUser | None:
        """The user's record and tokens, or None when there is no such user."""
        keys = self._keys
        user, tokens, mobile_otp, phone_ids, version = await self._ctx.redis.pipeline([
            ("HGETALL", keys.user(user_id)),
            ("HGETALL", keys.user_tokens(user_id)),
            ("HGETALL", keys.user_mobile_otp(user_id)),
            ("ZRANGE", keys.user_phones(user_id), 0, -1),
            ("HGET", keys.account_settings(), "_version"),
        ])
        if not user:
            return None
        return LoadedUser(flat_to_dict(user),
                          [token_from_json(raw, user_id) for raw in flat_to_dict(tokens).values()],
                          flat_to_dict(mobile_otp), list(phone_ids), version)

    async def passcode(
        self,
        user_id: str,
        *,
        now_ms: int,
        settings: AccountSettings,
        bypass_hash: str,
        candidates: Sequence[TokenCandidate],
        sms_hash: str = "",
    ) -> AttemptOutcome:
        """Run passcode_attempt.lua: consume at most one code and count the outcome."""
        keys = self._keys
        args: list[str | int] = [now_ms, settings.lockout_threshold, settings.lockout_expire_ms,
                                 bypass_hash, sms_hash, len(candidates)]
        for candidate in candidates:
            args += [candidate.token_id, candidate.kind, candidate.match, candidate.far]
        reply = await self._ctx.scripts.run(
            ScriptName.PASSCODE_ATTEMPT,
            [keys.user(user_id), keys.user_bypass(user_id), keys.user_tokens(user_id),
             keys.user_mobile_otp(user_id), keys.user_sms(user_id),
             keys.user_security_keys(user_id)], args)
        status = AttemptStatus(int(reply[0]))
        if status is AttemptStatus.ALLOW:
            return AttemptOutcome(status, str(reply[1]), str(reply[2]), str(reply[3]))
        if status in (AttemptStatus.INVALID, AttemptStatus.LOCKED_NOW):
            flag = str(reply[2]) if len(reply) > 2 else ""
            return AttemptOutcome(status, fails=int(reply[1]), detail=flag)
        return AttemptOutcome(status)
