"""User administration: validation and the rules Duo applies to usernames, aliases and status."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from authsvc.clock import Clock
from authsvc.crypto import random_id
from authsvc.errors import Conflict, InvalidParameter, MissingParameter, NotFound
from authsvc.model.names import email_problem, username_problem
from authsvc.model.users import MAX_ALIASES, User, UserDevices, UserStatus
from authsvc.store import Store

MAX_TEXT_LENGTH = 1024
ADMIN_STATUSES = (UserStatus.ACTIVE, UserStatus.BYPASS, UserStatus.DISABLED)
EMAIL_SCAN_PAGE = 500


@dataclass(frozen=True, slots=True)
class UserChanges:
    """Fields an admin sent; None = not sent. `aliases` maps slot -> name ("" removes it);
    `replace_aliases` means the sent aliases are the whole new set."""

    username: str | None = None
    realname: str | None = None
    email: str | None = None
    notes: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    status: str | None = None
    aliases: Mapping[int, str] = field(default_factory=dict)
    replace_aliases: bool = False


def normalize_name(name: str, param: str) -> str:
    """Usernames and aliases are case-insensitive and stored lowercase; raises InvalidParameter
    naming `param` and why (the allowed characters are in `model/names.py`)."""
    cleaned = name.strip().lower()
    problem = username_problem(cleaned)
    if problem is not None:
        raise InvalidParameter(f"{param} ({problem})")
    return cleaned


def check_email(email: str, param: str = "email") -> str:
    """The address without surrounding blanks; raises InvalidParameter naming `param` and why."""
    cleaned = email.strip()
    problem = email_problem(cleaned)
    if problem is not None:
        raise InvalidParameter(f"{param} ({problem})")
    return cleaned


def _check_text(value: str | None, param: str) -> None:
    if value is not None and (len(value) > MAX_TEXT_LENGTH or "\x00" in value):
        raise InvalidParameter(param)


def _admin_status(value: str) -> UserStatus:
    try:
        status = UserStatus(value)
    except ValueError:
        raise InvalidParameter("status (active, bypass or disabled)") from None
    if status is UserStatus.PENDING_DELETION:
        raise InvalidParameter("status (send a user to the Trash with DELETE "
                               "/admin/v1/users/{user_id})")
    if status not in ADMIN_STATUSES:
        raise InvalidParameter("status (locked out is set by the system only)")
    return status


def _new_aliases(current: Mapping[int, str], changes: UserChanges) -> dict[int, str]:
    aliases = {} if changes.replace_aliases else dict(current)
    for slot, name in changes.aliases.items():
        if not 1 <= slot <= MAX_ALIASES:
            raise InvalidParameter(f"alias{slot}")
        if name.strip():
            aliases[slot] = normalize_name(name, f"alias{slot}")
        else:
            aliases.pop(slot, None)
    if len(set(aliases.values())) != len(aliases):
        raise InvalidParameter("aliases (the same alias twice)")
    return aliases


PROFILE_FIELDS = ("username", "realname", "email", "notes", "firstname", "lastname")


def requested_fields(changes: UserChanges) -> set[str]:
    """The user fields an admin's request would change ("aliases" for any alias)."""
    fields = {name for name in PROFILE_FIELDS if getattr(changes, name) is not None}
    if changes.aliases or changes.replace_aliases:
        fields.add("aliases")
    if changes.status is not None:
        fields.add("status")
    return fields


def requested_status(changes: UserChanges) -> UserStatus | None:
    """The status an admin's request asks for (validated), or None."""
    return None if changes.status is None else _admin_status(changes.status)


def apply_changes(user: User, changes: UserChanges) -> User:
    for name in ("realname", "email", "notes", "firstname", "lastname"):
        _check_text(getattr(changes, name), name)
    if changes.email:
        check_email(changes.email)
    updates = {name: getattr(changes, name)
               for name in ("realname", "email", "notes", "firstname", "lastname")
               if getattr(changes, name) is not None}
    if changes.username is not None:
        updates["username"] = normalize_name(changes.username, "username")
    if changes.status is not None:
        updates["status"] = _admin_status(changes.status)
    updated = dataclasses.replace(user, **updates, aliases=_new_aliases(user.aliases, changes))
    if updated.username in updated.aliases.values():
        raise InvalidParameter("aliases (an alias equals the username)")
    return updated


class UserDirectory:
    """Create, change, find and delete users."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def add(self, changes: UserChanges) -> User:
        """A new user; raises MissingParameter/InvalidParameter/Conflict (name taken)."""
        if changes.username is None:
            raise MissingParameter("username")
        now_ms = self._clock.now_ms()
        blank = User(user_id=random_id("DU"), username="", created=now_ms // 1000)
        user = apply_changes(blank, changes)
        await self._store.users.create(user, order_ms=now_ms)
        return user

    async def get(self, user_id: str) -> User:
        """The user; raises NotFound."""
        user = await self._store.users.get(user_id)
        if user is None:
            raise NotFound("user_id")
        return user

    async def by_name(self, name: str) -> User | None:
        """The user whose username or alias is `name` (any case), or None."""
        lowered = name.strip().lower()
        user_id = await self._store.users.resolve(lowered)
        if user_id is None:
            return None
        user = await self._store.users.get(user_id)
        if user is None:
            await self._store.users.forget_stale_name(lowered, user_id)
        return user

    async def by_names(self, names: Iterable[str]) -> list[User]:
        """The users answering to these names (any case), in that order, skipping unknowns."""
        ids = await self._store.users.resolve_many([name.strip().lower() for name in names])
        return await self._store.users.get_many([user_id for user_id in ids if user_id])

    async def find(self, user_id: str) -> User | None:
        """The user, or None."""
        return await self._store.users.get(user_id)

    async def get_many(self, user_ids: Iterable[str]) -> list[User]:
        """The users that exist among `user_ids`."""
        return await self._store.users.get_many(user_ids)

    async def page(self, offset: int, limit: int) -> tuple[list[User], int]:
        """One page of users in creation order, and the total."""
        return await self._store.users.page(offset, limit)

    async def page_with_devices(self, offset: int, limit: int
                                ) -> tuple[list[UserDevices], int]:
        """One page of users with their devices (three round trips whatever the page size)."""
        ids, total = await self._store.users.page_ids(offset, limit)
        return await self._store.profiles.load(ids), total

    async def with_devices(self, users: Iterable[User]) -> list[UserDevices]:
        """These users with their devices, as they are now (two round trips)."""
        return await self._store.profiles.load([user.user_id for user in users])

    async def get_with_devices(self, user_id: str) -> UserDevices:
        """One user with its devices; raises NotFound."""
        found = await self._store.profiles.load([user_id])
        if not found:
            raise NotFound("user_id")
        return found[0]

    async def with_email(self, email: str) -> list[User]:
        """Users whose email matches (any case). Email is not indexed: a scan, admin use only."""
        wanted, matches, offset = email.strip().lower(), [], 0
        while True:
            users, total = await self._store.users.page(offset, EMAIL_SCAN_PAGE)
            matches += [user for user in users if user.email.lower() == wanted]
            offset += EMAIL_SCAN_PAGE
            if offset >= total:
                return matches

    async def update(self, user_id: str, changes: UserChanges) -> User:
        """Apply an admin's changes; raises NotFound/InvalidParameter/Conflict."""
        before = await self.get(user_id)
        after = apply_changes(before, changes)
        if before.in_trash and after.status is not before.status:
            raise Conflict("status (the user is in the Trash: restore it first)")
        if not await self._store.users.update(before, after):
            raise NotFound("user_id")
        if after.status is not before.status:
            await self._store.users.set_status(user_id, after.status)
        return await self.get(user_id)

