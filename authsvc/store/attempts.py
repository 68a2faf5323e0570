"""The hot path's store calls: resolve a name, load a user's factors, and run the passcode
decision script.

A passcode verification costs two round trips that wait for an answer: (1) the user record
pipelined with its tokens, Duo Mobile state, phones, the settings' version, the user's group ids
and the groups' version (group records come from a per-process cache, `store/groups.py`), (2) the
decision script; the name -> id lookup is cached per process (and checked against the record read in
(1)), the account settings are re-read only when their version (read in (1)) changed, and the
log record is written without waiting. The decision re-checks everything it is given against
current state, so what (1) read may be stale without harm.
"""

from __future__ import annotations

from collections.abc import Sequence

from authsvc.model.attempts import AttemptOutcome, AttemptStatus, LoadedUser, Match
from authsvc.model.factors import LogFactor
from authsvc.model.groups import NO_GROUPS, GateArgs
from authsvc.model.settings import AccountSettings
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.records import mobile_otp_from_json, token_from_json, user_from_hash
from authsvc.store.scripts import ScriptName

_NONE = ""  # how an absent counter travels to Lua (tonumber("") is nil)


def _match_args(match: Match) -> list[str | int]:
    return [match.rule.value, match.home.value, match.object_id,
            _NONE if match.counter is None else match.counter,
            _NONE if match.far is None else match.far, match.factor.value]


def outcome_of(reply: Sequence[object]) -> AttemptOutcome:
    """passcode_attempt.lua's reply as a value."""
    status = AttemptStatus(int(str(reply[0])))
    if status is AttemptStatus.ALLOW:
        return AttemptOutcome(status, LogFactor(str(reply[1])), str(reply[2]), str(reply[3]))
    if status in (AttemptStatus.INVALID, AttemptStatus.LOCKED_NOW):
        clone = len(reply) > 2 and str(reply[2]) == "possible_clone"
        return AttemptOutcome(status, fails=int(str(reply[1])), possible_clone=clone)
    return AttemptOutcome(status)


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
        """The user's record, tokens, Duo Mobile passcode state and phones (one round trip),
        or None when there is no such user."""
        keys = self._keys
        user, tokens, mobile_otp, phone_ids, version, group_ids, groups_version = \
            await self._ctx.redis.pipeline([
                ("HGETALL", keys.user(user_id)),
                ("HGETALL", keys.user_tokens(user_id)),
                ("HGETALL", keys.user_mobile_otp(user_id)),
                ("ZRANGE", keys.user_phones(user_id), 0, -1),
                ("HGET", keys.account_settings(), "_version"),
                ("SMEMBERS", keys.user_groups(user_id)),
                ("GET", keys.groups_version()),
            ])
        if not user:
            return None
        record = flat_to_dict(user)
        return LoadedUser(
            user_from_hash(record),
            [token_from_json(raw, user_id) for raw in flat_to_dict(tokens).values()],
            [mobile_otp_from_json(phone_id, raw)
             for phone_id, raw in flat_to_dict(mobile_otp).items()],
            list(phone_ids), version, sorted(group_ids), record.get("groups_v") or "0",
            groups_version)

    async def decide(self, user_id: str, *, now_ms: int, settings: AccountSettings,
                     matches: Sequence[Match], gate: GateArgs = NO_GROUPS) -> AttemptOutcome:
        """Run passcode_attempt.lua: commit at most one match and count the outcome. `gate`:
        the status the user's groups impose and the membership version it was read at (the
        script answers STALE, changing nothing, when that version moved)."""
        keys = self._keys
        args: list[str | int] = [now_ms, settings.lockout_threshold, settings.lockout_expire_ms,
                                 gate.status, gate.version, len(matches)]
        for match in matches:
            args += _match_args(match)
        reply = await self._ctx.scripts.run(
            ScriptName.PASSCODE_ATTEMPT,
            [keys.user(user_id), keys.user_bypass(user_id), keys.user_tokens(user_id),
             keys.user_mobile_otp(user_id), keys.user_sms(user_id),
             keys.user_security_keys(user_id), *keys.counting(user_id)], args)
        return outcome_of(reply)
