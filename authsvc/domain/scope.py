"""Administrative Units enforced: what an actor restricted to some groups and applications
(`Actor.scope`, built by `AdminUnits.scope_of`) may see and change. Every facade of
`domain/admin/` calls this guard, one line per method, after the permission check; an
unrestricted actor (Admin API integrations, the CLI, Owners, administrators in no unit) costs
nothing more than a test of `actor.scope`.

The rules (seed 000: "Administrators who are restricted will not see users or applications in
other groups"):

- A user is in scope when in at least one of the actor's groups. A user outside is answered
  404 as if absent, by every read and every change, so nothing tells it exists. Listings hold
  only users in scope, with their totals; a user's groups show only the actor's groups.
- Groups: only the actor's. Applications: only the actor's, when a unit restricts by
  integrations.
- Devices (phones, tokens, security keys, bypass codes) follow their holders: visible when a
  holder is in scope or nobody holds them (unassigned tokens and unattached phones are the
  account's stock, needed to give a device to a user in scope); holders outside scope are left
  out of what is shown. Changing a device needs every holder in scope: one shared with a user
  outside is refused (403) rather than changed for that user too.
- What would create a user, group or application outside the scope at once (creating or
  importing users, enrolling an unknown username, bulk enrollment, creating groups or
  applications) is refused (403, with the reason), as are the account-wide views that cannot
  be cut to a scope: counts and summary, the telephony and administrator logs. The
  authentication log is filtered to users (and applications) in scope.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from typing import TypeVar

from authsvc.domain.access import Access
from authsvc.errors import InvalidParameter, NotFound
from authsvc.model.authlog import LogQuery
from authsvc.model.groups import Group, GroupStanding
from authsvc.model.integrations import Integration
from authsvc.model.permissions import Action, Actor
from authsvc.model.users import PhoneUsers, User, UserDevices
from authsvc.store import Store

T = TypeVar("T")
SCAN_CHUNK = 500
Fetch = Callable[[int, int], Awaitable[tuple[list[T], int]]]
HIDDEN_GROUP = "(a group outside your administrative units)"
SHARED = "the device is shared with users outside your administrative units"


class ScopeGuard:
    """The checks and filters of `Actor.scope`."""

    def __init__(self, store: Store, access: Access) -> None:
        self._store = store
        self._access = access

    # --- refusals --------------------------------------------------------------------------

    async def refuse_if_restricted(self, actor: Actor, action: Action, what: str) -> None:
        """403 (recorded) for an actor restricted by groups: `what` would reach beyond them."""
        if actor.scope.groups is not None:
            await self._access.deny(actor, action, f"restricted to administrative units: {what}")

    async def refuse_new_application(self, actor: Actor) -> None:
        """403 (recorded) for an actor restricted by integrations: a new one is outside."""
        if actor.scope.integrations is not None:
            await self._access.deny(actor, Action.MANAGE_APPLICATIONS,
                                    "restricted to administrative units: a new application "
                                    "would be outside them")

    # --- users -------------------------------------------------------------------------------

    async def user(self, actor: Actor, user_id: str) -> None:
        """Raise NotFound("user_id") unless the user is in the actor's scope."""
        if not await self.has_user(actor, user_id):
            raise NotFound("user_id")

    async def by_user(self, actor: Actor, offset: int, limit: int, fetch: Fetch[T],
                      user_of: Callable[[T], str]) -> tuple[list[T], int]:
        """One page of a listing of users' things (the Trash, pending enrollments) cut to the
        users in scope, and the total."""
        members = await self.members(actor)
        return await self.listed(fetch, None if members is None else
                                 lambda item: user_of(item) in members, offset, limit)

    async def has_user(self, actor: Actor, user_id: str) -> bool:
        """True when the user is in the actor's scope (one round trip when restricted)."""
        groups = actor.scope.groups
        return groups is None or bool(await self._store.scope.in_groups([user_id], groups))

    async def members(self, actor: Actor) -> set[str] | None:
        """Ids of every user in scope (None: unrestricted)."""
        groups = actor.scope.groups
        return None if groups is None else await self._store.scope.members(groups)

    async def user_page(self, actor: Actor, offset: int, limit: int,
                        unrestricted: Fetch[UserDevices]) -> tuple[list[UserDevices], int]:
        """One page of the users in scope, in `get_users` order, and their total."""
        members = await self.members(actor)
        if members is None:
            return await unrestricted(offset, limit)
        ordered = await self._store.scope.in_creation_order(members)
        views = await self._store.profiles.load(ordered[offset:offset + limit])
        return self.shown(actor, views), len(ordered)

    async def users(self, actor: Actor, views: Sequence[UserDevices]) -> list[UserDevices]:
        """The users in scope among `views` (shown as `shown` does)."""
        groups = actor.scope.groups
        if groups is None:
            return list(views)
        inside = await self._store.scope.in_groups([v.user.user_id for v in views], groups)
        return self.shown(actor, [view for view in views if view.user.user_id in inside])

    def shown(self, actor: Actor, views: Sequence[UserDevices]) -> list[UserDevices]:
        """Users as the actor sees them: their groups cut to the actor's. When a group outside
        decides the user's status, a nameless stand-in with that status takes its place, so the
        effective status shown stays true without naming the group."""
        if actor.scope.groups is None:
            return list(views)
        return [dataclasses.replace(view, groups=self._groups_shown(actor, view.groups))
                for view in views]

    def _groups_shown(self, actor: Actor, groups: Sequence[Group]) -> list[Group]:
        kept = self.groups(actor, groups)
        deciding = GroupStanding.of(groups, "").deciding_group
        if deciding is not None and deciding not in kept:
            kept.append(Group(group_id="", name=HIDDEN_GROUP, status=deciding.status))
        return kept

    async def keep(self, actor: Actor, users: Iterable[User]) -> list[User]:
        """The users in scope among `users` (a device's holders, as shown)."""
        listed = list(users)
        groups = actor.scope.groups
        if groups is None:
            return listed
        inside = await self._store.scope.in_groups([user.user_id for user in listed], groups)
        return [user for user in listed if user.user_id in inside]

    # --- groups and applications -------------------------------------------------------------

    def group(self, actor: Actor, group_id: str) -> None:
        """Raise NotFound("group_id") unless the group is one of the actor's."""
        if actor.scope.groups is not None and group_id not in actor.scope.groups:
            raise NotFound("group_id")

    def groups(self, actor: Actor, groups: Iterable[Group]) -> list[Group]:
        """The actor's among `groups`."""
        scope = actor.scope.groups
        return [group for group in groups if scope is None or group.group_id in scope]

    def permitted_groups(self, actor: Actor, group_ids: Sequence[str] | None) -> None:
        """An application's permitted groups as a restricted actor sets them: only their own
        groups (another is refused as an unknown group is)."""
        scope = actor.scope.groups
        outside = [g for g in group_ids or () if scope is not None and g not in scope]
        if outside:
            raise InvalidParameter(f"groups_allowed (no such group: {outside[0]})")

    def integration(self, actor: Actor, ikey: str) -> None:
        """Raise NotFound("integration_key") unless the application is one of the actor's."""
        if actor.scope.integrations is not None and ikey not in actor.scope.integrations:
            raise NotFound("integration_key")

    async def listed(self, fetch: Fetch[T], keep: Callable[[T], bool] | None,
                     offset: int, limit: int) -> tuple[list[T], int]:
        """One page of what `keep` lets through of a whole listing, and the total (the
        listing read `SCAN_CHUNK` at a time: O(listing) for a restricted actor); without
        `keep`, the listing's own page."""
        if keep is None:
            return await fetch(offset, limit)
        kept: list[T] = []
        start, total = 0, 1
        while start < total:
            items, total = await fetch(start, SCAN_CHUNK)
            kept += [item for item in items if keep(item)]
            start += SCAN_CHUNK
        return kept[offset:offset + limit], len(kept)

    async def group_page(self, actor: Actor, offset: int, limit: int,
                         fetch: Fetch[Group]) -> tuple[list[Group], int]:
        """One page of the actor's groups (of the listing `fetch` reads), and their total."""
        scope = actor.scope.groups
        return await self.listed(fetch, None if scope is None else
                                 lambda group: group.group_id in scope, offset, limit)

    async def integration_page(self, actor: Actor, offset: int, limit: int,
                               fetch: Fetch[Integration]) -> tuple[list[Integration], int]:
        """One page of the actor's applications, and their total."""
        scope = actor.scope.integrations
        return await self.listed(fetch, None if scope is None else
                                 lambda integration: integration.ikey in scope, offset, limit)

    # --- devices -----------------------------------------------------------------------------

    async def held(self, actor: Actor, holders: Callable[[], Awaitable[Collection[str]]],
                   param: str, change: Action | None = None) -> None:
        """A device (or enrollment) by id: NotFound(`param`) unless a holder is in scope (or
        it has none); with `change`, 403 unless every holder is."""
        groups = actor.scope.groups
        if groups is None:
            return
        held = set(await holders())
        if not held:
            return
        inside = await self._store.scope.in_groups(held, groups)
        if not inside:
            raise NotFound(param)
        if change is not None and inside != held:
            await self._access.deny(actor, change, SHARED)

    async def device_page(self, actor: Actor, offset: int, limit: int, fetch: Fetch[T],
                          holders: Callable[[T], Iterable[str]]) -> tuple[list[T], int]:
        """One page of the devices the actor sees (held in scope, or by nobody), and the
        total."""
        members = await self.members(actor)
        if members is None:
            return await fetch(offset, limit)

        def visible(item: T) -> bool:
            held = set(holders(item))
            return not held or not held.isdisjoint(members)
        return await self.listed(fetch, visible, offset, limit)

    async def phones_shown(self, actor: Actor, phones: Sequence[PhoneUsers]) -> list[PhoneUsers]:
        """Phones with only their holders in scope."""
        if actor.scope.groups is None:
            return list(phones)
        return [dataclasses.replace(item, users=await self.keep(actor, item.users))
                for item in phones]

    async def phones_visible(self, actor: Actor,
                             phones: Sequence[PhoneUsers]) -> list[PhoneUsers]:
        """The phones among `phones` the actor sees, shown with their holders in scope."""
        if actor.scope.groups is None:
            return list(phones)
        shown = await self.phones_shown(actor, phones)
        return [after for before, after in zip(phones, shown, strict=True)
                if after.users or not before.users]

    async def owners(self, actor: Actor, owners: dict[str, User]) -> dict[str, User]:
        """Holders (by id) cut to those in scope."""
        return {user.user_id: user for user in await self.keep(actor, owners.values())}

    async def enrollment(self, actor: Actor, enrollment_id: str) -> None:
        """A pending enrollment: NotFound unless its user is in scope."""
        async def holder() -> list[str]:
            record = await self._store.enrollments.get(enrollment_id)
            return [record.user_id] if record else []
        await self.held(actor, holder, "enrollment_id")

    async def bypass_code(self, actor: Actor, code_id: str, change: Action) -> None:
        """A bypass code by id, as `held` decides for its one holder."""
        async def holder() -> list[str]:
            owner = await self._store.scope.bypass_owner(code_id)
            return [owner] if owner else []
        await self.held(actor, holder, "bypass_code_id", change)

    # --- logs --------------------------------------------------------------------------------

    async def log_query(self, actor: Actor, query: LogQuery) -> LogQuery:
        """The authentication log query cut to users (and applications) in scope."""
        filters = dict(query.filters)
        members = await self.members(actor)
        for path, allowed in (("user.key", members), ("application.key",
                                                        actor.scope.integrations)):
            if allowed is not None:
                asked = filters.get(path)
                filters[path] = frozenset(allowed if asked is None else asked & allowed)
        return dataclasses.replace(query, filters=filters)
