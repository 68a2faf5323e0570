"""Who an Auth API request is about: the user loaded for one attempt, with the settings in force.

The name -> user id lookup is cached per process; a cached id is only trusted if the record read
still answers to the name (renames and deletions invalidate it), so the cache costs nothing in
correctness and saves one round trip per attempt.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from authsvc.domain.auth_requests import AuthRequest
from authsvc.errors import InvalidParameter
from authsvc.model.admin_factors import may_authenticate
from authsvc.model.attempts import LoadedUser
from authsvc.model.authlog import AttemptFacts
from authsvc.model.groups import GroupStanding
from authsvc.model.settings import AccountSettings
from authsvc.model.users import User
from authsvc.store import Store

NAME_CACHE_SIZE = 200_000


class UnknownUser(InvalidParameter):
    """The username or user_id names nobody (the Auth API answers 40002 naming the field)."""


@dataclass(frozen=True, slots=True)
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
            txid=str(uuid.uuid4()), app_key=request.integration.ikey,
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
        return Subject(loaded, settings, name_used, await standing_of(self._store, loaded))

    async def get(self, request: AuthRequest) -> Subject:
        """The subject; raises UnknownUser naming the field the caller used."""
        subject = await self.find(request)
        if subject is None:
            raise UnknownUser("user_id" if request.user_id is not None else "username")
        return subject

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
