"""Who an Auth API request is about: the user loaded for one attempt, with the settings in force.

The name -> user id lookup is cached per process; a cached id is only trusted if the record read
still answers to the name (renames and deletions invalidate it), so the cache costs nothing in
correctness and saves one round trip per attempt.

Every user loaded is also kept per process (`warm`), with the digest of the state it was loaded
from (lib/user_view.lua), so that the next passcode of the same user is computed without reading
Redis: the decision script refuses a digest that is no longer the state's (STALE_VIEW, nothing
done), and the attempt is then decided again from a fresh load. A change made anywhere (another
process, an administrator, a script) therefore takes effect at the next attempt, never later;
the copy only saves the read. It holds sealed seeds only (the factors keep their own cache of
opened ones, memory only) and is bounded (`WARM_CACHE_SIZE` users, forgotten all at once beyond).
"""

from __future__ import annotations

import dataclasses

from authsvc.crypto import random_uuid4
from authsvc.domain.auth_requests import AuthRequest
from authsvc.errors import InvalidParameter
from authsvc.model.admin_factors import may_authenticate
from authsvc.model.attempts import (
    AttemptOutcome,
    AttemptStatus,
    CurrentCounters,
    LoadedUser,
    Match,
    MobileOtp,
)
from authsvc.model.authlog import AttemptFacts
from authsvc.model.groups import GroupStanding
from authsvc.model.settings import AccountSettings
from authsvc.model.tokens import Token
from authsvc.model.users import User
from authsvc.model.values import value
from authsvc.store import Store

NAME_CACHE_SIZE = 200_000
WARM_CACHE_SIZE = 100_000


class UnknownUser(InvalidParameter):
    """The username or user_id names nobody (the Auth API answers 40002 naming the field)."""


@value
class Subject:
    """The user an attempt is about, as loaded for it."""

    loaded: LoadedUser
    settings: AccountSettings
    name_used: str
    standing: GroupStanding = GroupStanding()
    """What the user's groups decide (status override, factor switches, permitted groups)."""

    @property
    def user(self) -> User:
        return self.loaded.user

    @property
    def user_id(self) -> str:
        return self.loaded.user.user_id

    def facts(self, request: AuthRequest) -> AttemptFacts:
        """What the log records about an attempt by this user through `request`."""
        user = self.user
        return AttemptFacts(
            txid=random_uuid4(), app_key=request.integration.ikey,
            app_name=request.integration.name, user_id=user.user_id, username=user.username,
            alias=self.name_used if self.name_used not in ("", user.username) else "",
            email=user.email, ipaddr=request.ipaddr, hostname=request.hostname)


async def standing_of(store: Store, loaded: LoadedUser) -> GroupStanding:
    """What the loaded user's groups decide: their records from the per-process cache (read only
    when the groups' version moved), at the user's membership version."""
    groups = await store.groups.records(loaded.group_ids, loaded.groups_version)
    return GroupStanding.of(groups, loaded.groups_v)


class Subjects:
    """Load the subject of a request (by username or user_id) with the settings in force."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._names: dict[str, str] = {}
        self._warm: dict[str, Subject] = {}

    async def find(self, request: AuthRequest) -> Subject | None:
        """The subject, or None when the request names nobody (an administrator's internal
        subject exists only for the panel's own integration, and only it)."""
        if not may_authenticate(request.user_id, request.integration):
            return None
        if request.user_id is not None:
            loaded = await self._store.attempts.load(request.user_id)
            name_used = ""
        else:
            name_used = (request.username or "").strip().lower()
            loaded = await self._load_by_name(name_used)
        if loaded is None:
            return None
        settings = await self._store.account.for_version(loaded.settings_version)
        subject = Subject(loaded, settings, name_used, await standing_of(self._store, loaded))
        self._keep(subject)
        return subject

    def warm(self, request: AuthRequest) -> Subject | None:
        """The subject as this process last saw it, without reading Redis, or None. Its
        `loaded.view` must go with any decision computed from it (the script checks it)."""
        if request.user_id is not None:
            subject = self._warm.get(request.user_id)
            name_used = ""
        else:
            name_used = (request.username or "").strip().lower()
            user_id = self._names.get(name_used)
            subject = self._warm.get(user_id) if user_id is not None else None
            if subject is not None and not subject.user.answers_to(name_used):
                return None
        if subject is None or not may_authenticate(subject.user_id, request.integration):
            return None
        settings = self._store.account.settled()
        if settings is None:
            return None
        if subject.name_used != name_used or subject.settings is not settings:
            subject = dataclasses.replace(subject, name_used=name_used, settings=settings)
        return subject

    def forget(self, user_id: str) -> None:
        """Drop the user's copy (it is stale, or the user is gone)."""
        self._warm.pop(user_id, None)

    def decided(self, subject: Subject, matches: list[Match], outcome: AttemptOutcome) -> None:
        """Bring the user's copy up to what the decision computed from `subject` left: the
        object it committed and the digest of the state now; anything else is only dropped
        (the next attempt loads again)."""
        user_id = subject.user_id
        kept = self._warm.get(user_id)
        if kept is not None and kept.loaded.view != subject.loaded.view:
            return  # a newer load or decision already replaced the copy this one was made from
        if outcome.current is not None:
            self.caught_up(subject, outcome.current)
            return
        if outcome.status is not AttemptStatus.ALLOW or not outcome.view:
            if outcome.status is not AttemptStatus.INVALID or any(m.far for m in matches):
                self.forget(user_id)
            return
        loaded = _committed(subject.loaded, outcome)
        if loaded is None:
            self.forget(user_id)
        elif loaded is not subject.loaded:
            self._keep(Subject(loaded, subject.settings, subject.name_used, subject.standing))

    def caught_up(self, subject: Subject, current: CurrentCounters) -> Subject:
        """The subject with the counters a decision answered with (its copy was stale in its
        counters only: another process accepted a code), kept as the user's copy."""
        loaded = dataclasses.replace(subject.loaded, tokens=current.tokens,
                                     mobile_otp=current.mobile_otp, view=current.view)
        fresh = dataclasses.replace(subject, loaded=loaded)
        self._keep(fresh)
        return fresh

    def _keep(self, subject: Subject) -> None:
        if len(self._warm) >= WARM_CACHE_SIZE:
            self._warm.clear()
        self._warm[subject.user_id] = subject

    async def get(self, request: AuthRequest) -> Subject:
        """The subject; raises UnknownUser naming the field the caller used."""
        return known(request, await self.find(request))

    async def _load_by_name(self, name: str) -> LoadedUser | None:
        user_id = self._names.get(name)
        if user_id is not None:
            loaded = await self._store.attempts.load(user_id)
            if loaded is not None and loaded.user.answers_to(name):
                return loaded
            self._names.pop(name, None)
        user_id = await self._store.attempts.resolve(name)
        if user_id is None:
            return None
        loaded = await self._store.attempts.load(user_id)
        if loaded is not None:
            if len(self._names) >= NAME_CACHE_SIZE:
                self._names.clear()
            self._names[name] = user_id
        return loaded


def known(request: AuthRequest, subject: Subject | None) -> Subject:
    """`subject` found for `request`; raises UnknownUser naming the field the caller used."""
    if subject is None:
        raise UnknownUser("user_id" if request.user_id is not None else "username")
    return subject


def _committed(loaded: LoadedUser, outcome: AttemptOutcome) -> LoadedUser | None:
    """`loaded` with the object the decision committed as stored now, at the new digest (None
    if the copy cannot be brought up to it)."""
    if outcome.view == loaded.view:
        return loaded
    committed = outcome.committed
    tokens, states = loaded.tokens, loaded.mobile_otp
    if isinstance(committed, Token):
        tokens = [committed if token.token_id == committed.token_id else token
                  for token in tokens]
    elif isinstance(committed, MobileOtp):
        states = [committed if state.phone_id == committed.phone_id else state
                  for state in states]
    else:
        return None
    return LoadedUser(loaded.user, tokens, states, loaded.phone_ids, loaded.settings_version,
                      loaded.group_ids, loaded.groups_v, loaded.groups_version, outcome.view)
