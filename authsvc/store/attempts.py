"""The hot path's store calls: resolve a name, load a user's factors, and run the passcode
decision script, alone or in one round trip with the rate limiters' admission.

A user is loaded by one script (`user_load.lua`: the record, token copies, Duo Mobile state,
phones and group ids, with the digest of that state, lib/user_view.lua) pipelined with the
settings' and the groups' versions. The domain may keep that copy and compute later attempts
from it without reading again: the decision script is given the copy's digest and refuses
(STALE_VIEW, nothing done) when the state moved, so what a process cached can be stale without
harm. A warm verification is then one round trip: the rate-limit calls, the settings' version and
the decision, pipelined (`decide_admitted`; with replicas to wait for, the decision and its WAIT
on a connection of their own at the same time).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from authsvc.model.attempts import (
    AttemptOutcome,
    AttemptStatus,
    CurrentCounters,
    LoadedUser,
    Match,
    MobileOtp,
)
from authsvc.model.factors import Home, LogFactor
from authsvc.model.groups import NO_GROUPS, GateArgs
from authsvc.model.settings import AccountSettings
from authsvc.model.tokens import Token
from authsvc.store.account import GROUPS_VERSION_FIELD, VERSION_FIELD
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.ratelimits import RateDecision, RateLimitStore, RateStep
from authsvc.store.records import mobile_otp_from_json, user_from_hash
from authsvc.store.redis_client import RedisError
from authsvc.store.redis_errors import ReplicaUnacknowledged
from authsvc.store.scripts import ScriptCall, ScriptName
from authsvc.store.token_definitions import TokenDefinitions

_A = TypeVar("_A")
_B = TypeVar("_B")
_NONE = ""  # how an absent counter travels to Lua (tonumber("") is nil)
KEYS_CACHE_SIZE = 100_000
# Where a reply that caught up a stale copy carries the digest, then the token and Duo Mobile
# hashes two places on (passcode_attempt.lua), by status and the reply's length.
_CURRENT_AT = {(AttemptStatus.ALLOW, 8): (4, 6), (AttemptStatus.STALE_VIEW, 4): (1, 2)}


def _match_args(match: Match) -> list[str | int]:
    # The enums are StrEnums: sent as their values without an enum lookup each.
    return [match.rule, match.home, match.object_id,
            _NONE if match.counter is None else match.counter,
            _NONE if match.far is None else match.far, match.factor,
            _NONE if match.window is None else match.window]


def _committed(definitions: TokenDefinitions, user_id: str, matches: Sequence[Match],
               object_id: str, raw: str) -> Token | MobileOtp | None:
    match = next((m for m in matches if m.object_id == object_id), None)
    if match is None or not raw:
        return None
    if match.home is Home.TOKENS:
        return definitions.copy(raw, object_id, user_id)
    if match.home is Home.MOBILE_OTP:
        return mobile_otp_from_json(object_id, raw)
    return None


async def _both(first: Awaitable[_A], second: Awaitable[_B]) -> tuple[_A, _B]:
    """Both results, awaited at once; the first failure raises once both have ended (neither
    is left running, nor its failure unread)."""
    one, two = await asyncio.gather(first, second, return_exceptions=True)
    if isinstance(one, BaseException):
        raise one
    if isinstance(two, BaseException):
        raise two
    return one, two


def outcome_of(reply: Any, definitions: TokenDefinitions, user_id: str = "",
               matches: Sequence[Match] = ()) -> AttemptOutcome:
    """passcode_attempt.lua's reply as a value (`matches`: what it was given); an error reply
    raises."""
    if isinstance(reply, RedisError):
        raise reply
    status = AttemptStatus(int(reply[0]))
    if status is AttemptStatus.ALLOW:
        object_id = str(reply[2])
        return AttemptOutcome(status, LogFactor(str(reply[1])), object_id, str(reply[3]),
                              view=str(reply[4]),
                              committed=_committed(definitions, user_id, matches, object_id,
                                                   str(reply[5])))
    if status in (AttemptStatus.INVALID, AttemptStatus.LOCKED_NOW):
        clone = len(reply) > 2 and str(reply[2]) == "possible_clone"
        return AttemptOutcome(status, fails=int(reply[1]), possible_clone=clone)
    return AttemptOutcome(status)


def _mobile_states(flat: Any) -> list[MobileOtp]:
    return [mobile_otp_from_json(phone_id, raw) for phone_id, raw in flat_to_dict(flat).items()]


def loaded_of(user_id: str, reply: Any, tokens: list[Token], settings_version: str | None,
              groups_version: str | None) -> LoadedUser:
    """user_load.lua's reply as a value, with the user's token copies as read."""
    user, _, mobile_otp, phone_ids, group_ids, view = reply
    record = flat_to_dict(user)
    return LoadedUser(
        user_from_hash(record, user_id), tokens, _mobile_states(mobile_otp), list(phone_ids),
        settings_version, sorted(group_ids), record.get("groups_v") or "0", groups_version, view)


class AttemptStore:
    """Reads and the atomic decision for one authentication attempt."""

    def __init__(self, ctx: StoreContext, rate_limits: RateLimitStore,
                 definitions: TokenDefinitions) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._rate_limits = rate_limits
        self._definitions = definitions
        self._decide_keys: dict[str, list[str]] = {}  # user id -> the decision's KEYS

    async def resolve(self, name: str) -> str | None:
        """The user id answering to `name` (lowercased)."""
        user_id: str | None = await self._ctx.redis.execute(
            "HGET", self._keys.username_index(), name)
        return user_id

    def _load_call(self, user_id: str) -> ScriptCall:
        keys = self._keys
        return ScriptCall(ScriptName.USER_LOAD, [
            keys.user(user_id), keys.user_tokens(user_id), keys.user_mobile_otp(user_id),
            keys.user_phones(user_id), keys.user_groups(user_id)], ())

    async def load(self, user_id: str) -> LoadedUser | None:
        """The user's record, tokens, Duo Mobile passcode state, phones and groups with the
        digest of that state (one round trip; one more for token definitions this process does
        not know yet), or None when there is no such user."""
        keys = self._keys
        reply, versions = await self._ctx.scripts.run_pipeline([
            self._load_call(user_id),
            ("HMGET", keys.account_settings(), VERSION_FIELD, GROUPS_VERSION_FIELD)])
        if isinstance(reply, RedisError):
            raise reply
        if isinstance(versions, RedisError):
            raise versions
        version, groups_version = versions
        if not reply:
            return None
        tokens = await self._definitions.read(flat_to_dict(reply[1]), user_id)
        return loaded_of(user_id, reply, tokens, version, groups_version)

    def _decide_call(self, user_id: str, now_ms: int, settings: AccountSettings,
                     matches: Sequence[Match], gate: GateArgs, view: str) -> ScriptCall:
        args: list[str | int] = [now_ms, settings.lockout_threshold, settings.lockout_expire_ms,
                                 gate.status, gate.version, view, len(matches)]
        for match in matches:
            args += _match_args(match)
        return ScriptCall(ScriptName.PASSCODE_ATTEMPT, self._keys_of(user_id), args)

    def _keys_of(self, user_id: str) -> list[str]:
        """The decision's KEYS for this user (built once: the counting keys need its slot)."""
        found = self._decide_keys.get(user_id)
        if found is None:
            keys = self._keys
            found = [keys.user(user_id), keys.user_bypass(user_id), keys.user_tokens(user_id),
                     keys.user_mobile_otp(user_id), keys.user_sms(user_id),
                     keys.user_security_keys(user_id), *keys.counting(user_id),
                     keys.user_groups(user_id)]
            if len(self._decide_keys) >= KEYS_CACHE_SIZE:
                self._decide_keys.clear()
            self._decide_keys[user_id] = found
        return found

    async def decide(self, user_id: str, *, now_ms: int, settings: AccountSettings,
                     matches: Sequence[Match], gate: GateArgs = NO_GROUPS,
                     view: str = "") -> AttemptOutcome:
        """Run passcode_attempt.lua: commit at most one match and count the outcome. `gate`:
        the status the user's groups impose and the membership version it was read at (the
        script answers STALE, changing nothing, when that version moved); `view`: the digest
        of the state the matches were computed from ("" = not checked; STALE_VIEW when it
        moved).

        Raises `ReplicaUnacknowledged` (503) when the script accepted a code but no replica
        acknowledged the write in time (``AUTHSVC_REDIS_WAIT_*``): answering "allow" then
        could let the same code in again after a failover. A refused code's failure count
        is not waited for (losing it in a failover gives back at most that one guess)."""
        call = self._decide_call(user_id, now_ms, settings, matches, gate, view)
        reply, confirmed = await self._ctx.scripts.run_waited(call.name, call.keys, call.args)
        outcome = await self._caught_up(outcome_of(reply, self._definitions, user_id, matches),
                                        reply, user_id)
        if not confirmed and outcome.status is AttemptStatus.ALLOW:
            raise ReplicaUnacknowledged("no replica acknowledged an accepted code in time")
        return outcome

    async def decide_admitted(
            self, user_id: str, admission: Sequence[RateStep], *, now_ms: int,
            settings: AccountSettings, matches: Sequence[Match], gate: GateArgs,
            view: str) -> tuple[list[RateDecision], AttemptOutcome, str | None | RedisError]:
        """The rate limiters' admission, the settings' version and the decision in one round
        trip: (the admission's decisions, the outcome, the version read just before it).

        Redis runs them in that order but the decision does not wait for the admission's
        verdict: the caller answers 429 if the admission refused, whatever was decided, and
        only sends both together while its budgets were comfortable (domain/ratelimits.py
        says what that bounds). The decision's reply is the one that counts: an error reply to
        it raises, while one to an admission call (logged; as if admitted) or to the version
        (returned as the error: the caller keeps the settings it has) does not undo a decision
        already committed, on a Redis Cluster node the others' failure did not reach.

        When replicas must acknowledge decisions (`Redis.may_wait`), the decision goes with its
        WAIT on a connection of its own (`decide`; the WAIT would hold up everything after it
        on a shared one) while the admission and the version go in one write on the shared
        connection at the same time: still one round trip waited for, the WAIT's time on top.
        Raises `ReplicaUnacknowledged` as `decide` does."""
        calls = self._rate_limits.calls(admission, now_ms)
        decision = self._decide_call(user_id, now_ms, settings, matches, gate, view)
        version_read = ("HGET", self._keys.account_settings(), VERSION_FIELD)
        confirmed = True
        if self._ctx.redis.may_wait:
            replies, (reply, confirmed) = await _both(
                self._ctx.scripts.run_pipeline([*calls, version_read]),
                self._ctx.scripts.run_waited(decision.name, decision.keys, decision.args))
        else:
            replies = await self._ctx.scripts.run_pipeline([*calls, version_read, decision])
            reply = replies.pop()
        outcome = await self._caught_up(
            outcome_of(reply, self._definitions, user_id, matches), reply, user_id)
        if not confirmed and outcome.status is AttemptStatus.ALLOW:
            raise ReplicaUnacknowledged("no replica acknowledged an accepted code in time")
        decisions = self._rate_limits.decisions(admission, replies[:len(calls)], lenient=True)
        return decisions, outcome, replies[len(calls)]

    async def _caught_up(self, outcome: AttemptOutcome, reply: Any,
                         user_id: str) -> AttemptOutcome:
        """`outcome` with the counters a reply that caught up a stale copy carries (read as
        values; the definitions of tokens not known here are fetched), if it does."""
        where = _CURRENT_AT.get((outcome.status, len(reply)))
        if where is None:
            return outcome
        view, tokens = str(reply[where[0]]), where[1]
        if not view:  # a lockout was lifted: drop the copy
            return outcome
        current = CurrentCounters(
            await self._definitions.read(flat_to_dict(reply[tokens]), user_id),
            _mobile_states(reply[tokens + 1]), view)
        return dataclasses.replace(outcome, current=current)
