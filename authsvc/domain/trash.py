"""The Trash (seed 001, Deleting and Restoring Users): deleting a user is a two-step process.

A deleted user is first sent to the Trash: status "pending deletion", it cannot authenticate
(refused by the status gate of every decision script, and at preauth), and it keeps every
device. It may be restored at any time (it comes back Disabled, with all its devices) or deleted
for good; users older than the Trash duration (`pending_deletion_days`, 1-30, default 7) are
deleted by the sweep (`domain/trash_sweep.py`), as are, first, users inactive for
`inactive_user_expiration` days sent there.

Permanent deletion removes the user's slot in one script (`user_purge.lua`), then what lives
elsewhere: its names, its attachment to phones (a phone left with no user is deleted, seed 001:
"any phones and endpoints not associated with another user get deleted"), its holding of
tokens (the token stays, for its other holders or unassigned), key and code indexes.
"""

from __future__ import annotations

from dataclasses import dataclass

from authsvc.clock import Clock
from authsvc.domain.phones import delete_phone
from authsvc.errors import Conflict, NotFound
from authsvc.model.users import TrashOutcome, User, UserDevices
from authsvc.store import Store

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class TrashEntry:
    """A user in the Trash: when it was sent there and when it will be deleted (seconds)."""

    view: UserDevices
    deleted_at: int
    purge_at: int
    reason: str


class Trash:
    """Send to the Trash, restore, delete for good, list."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def send(self, user_id: str, why: str = "admin") -> User | None:
        """Send the user to the Trash; returns the user as it was before, or None when there is
        no such user or it is in the Trash already (nothing changes then)."""
        user = await self._store.users.get(user_id)
        if user is None or user.in_trash:
            return None
        outcome = await self._store.trash.send(user_id, now_ms=self._clock.now_ms(), why=why)
        return user if outcome is TrashOutcome.DONE else None

    async def restore(self, user_id: str) -> UserDevices:
        """Take the user out of the Trash: Disabled, every device kept. Raises NotFound, or
        Conflict when the user is not in the Trash."""
        outcome = await self._store.trash.restore(user_id)
        if outcome is TrashOutcome.NO_USER:
            raise NotFound("user_id")
        if outcome is not TrashOutcome.DONE:
            raise Conflict("user_id (the user is not in the Trash)")
        found = await self._store.profiles.load([user_id])
        if not found:
            raise NotFound("user_id")
        return found[0]

    async def delete_now(self, user_id: str) -> User:
        """Delete a user in the Trash for good, before its time. Raises NotFound, or Conflict
        when the user is not in the Trash (send it there first)."""
        user = await self._store.users.get(user_id)
        if user is None:
            raise NotFound("user_id")
        if not user.in_trash:
            raise Conflict("user_id (only a user in the Trash can be deleted for good)")
        if await self.purge(user, trashed_by_ms=self._clock.now_ms()) is None:
            raise Conflict("user_id (the user left the Trash meanwhile)")
        return user

    async def purge(self, user: User, *, trashed_by_ms: int | None) -> User | None:
        """Delete the user for good if it is (still) in the Trash since `trashed_by_ms` (any
        user when None); None if the script refused. Cleans up every other slot after."""
        store = self._store
        outcome, purged = await store.trash.purge(user.user_id, trashed_by_ms=trashed_by_ms)
        if outcome is not TrashOutcome.DONE or purged is None:
            return None
        await store.trash.forget_names_and_indexes(user, purged)
        for copy in purged.token_copies:
            await store.tokens.fold(copy)
        for phone_id in purged.phone_ids:
            if await store.phones.detach(user.user_id, phone_id) == 0:
                await delete_phone(store, phone_id)
        return user

    async def purge_at(self, user: User) -> int:
        """When a user in the Trash will be deleted for good (unix seconds)."""
        days = (await self._store.account.cached()).pending_deletion_days
        return (user.trashed_at + days * DAY_MS) // 1000

    async def page(self, offset: int, limit: int) -> tuple[list[TrashEntry], int]:
        """One page of the Trash, the users sent there first at the top, and the total."""
        trashed = await self._store.counts.trashed()
        days = (await self._store.account.cached()).pending_deletion_days
        page = trashed[offset:offset + limit]
        views = {view.user.user_id: view
                 for view in await self._store.profiles.load([uid for uid, _ in page])}
        entries = [TrashEntry(views[uid], at // 1000, (at + days * DAY_MS) // 1000,
                              views[uid].user.trash_reason)
                   for uid, at in page if uid in views and views[uid].user.in_trash]
        return entries, len(trashed)
