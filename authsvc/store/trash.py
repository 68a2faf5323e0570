"""The Trash in Redis: send a user there, restore it, delete it for good; and the lock of the
one process that empties the Trash and expires inactive users.

Each decision is one script in the user's slot that also moves the user's counters
(`user_trash.lua`, `user_restore.lua`, `user_purge.lua`); which users are in the Trash, and
since when, is the slot's trash set (`Keys.shard_trash`), written by the same scripts, so no
global index can disagree with the users' statuses. Permanent deletion then cleans up what
lives in other slots (names, phone attachments, token holders, key and code indexes) with the
ids the script returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from authsvc.model.tokens import Token
from authsvc.model.users import TrashOutcome, User
from authsvc.store.bypass import BypassStore
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.listing import Listing
from authsvc.store.scripts import ScriptName
from authsvc.store.security_keys import SecurityKeyStore
from authsvc.store.token_definitions import TokenDefinitions
from authsvc.store.user_search import index_commands


@dataclass(frozen=True, slots=True)
class Purged:
    """What a permanent deletion removed from the user's slot, for the cleanup elsewhere:
    the user's token copies (their counters fold into the tokens), phone, key and code ids."""

    token_copies: list[Token]
    phone_ids: list[str]
    security_keys: list[str]
    bypass_codes: list[str]
    group_ids: list[str]
    place: int | None = None  # in the users listing (None: listed by an older version)


class TrashStore:
    """The Trash scripts and the sweep's lock."""

    def __init__(self, ctx: StoreContext, definitions: TokenDefinitions,
                 listing: Listing, security_keys: SecurityKeyStore,
                 bypass: BypassStore) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._definitions = definitions
        self._listing = listing
        self._security_keys = security_keys
        self._bypass = bypass

    def _counted(self, user_id: str) -> list[str]:
        return [self._keys.user(user_id), *self._keys.counting(user_id)]

    async def send(self, user_id: str, *, now_ms: int, why: str,
                   inactive_by_s: int | None = None) -> TrashOutcome:
        """Send the user to the Trash (with `inactive_by_s`, only if it has not been active
        since); see user_trash.lua."""
        reply = await self._ctx.scripts.run(
            ScriptName.USER_TRASH, self._counted(user_id),
            [now_ms, "" if inactive_by_s is None else inactive_by_s, why])
        return TrashOutcome(int(reply[0]))

    async def restore(self, user_id: str) -> TrashOutcome:
        """Take the user out of the Trash (it comes back Disabled): DONE, NO_USER, or ALREADY
        (meaning: not in the Trash)."""
        reply = await self._ctx.scripts.run(ScriptName.USER_RESTORE, self._counted(user_id), [])
        return TrashOutcome(int(reply))

    async def purge(self, user_id: str, *,
                    trashed_by_ms: int | None) -> tuple[TrashOutcome, Purged | None]:
        """Delete the user's slot for good: only a user in the Trash since `trashed_by_ms` (any
        user when None). NOT_DUE / ALREADY (= not in the Trash) / NO_USER change nothing."""
        keys = self._keys
        reply = await self._ctx.scripts.run(
            ScriptName.USER_PURGE,
            [keys.user(user_id), keys.user_bypass(user_id), keys.user_mobile_otp(user_id),
             keys.user_pushes(user_id), keys.user_sms(user_id), *keys.counting(user_id),
             keys.user_groups(user_id)],
            ["" if trashed_by_ms is None else trashed_by_ms])
        outcome = TrashOutcome(int(reply[0]))
        if outcome is not TrashOutcome.DONE:
            return outcome, None
        copies = await self._definitions.read(flat_to_dict(reply[1]), user_id)
        return outcome, Purged(copies, list(reply[2]), list(reply[3]), list(reply[4]),
                               list(reply[5]), int(reply[6]) if reply[6] else None)

    async def forget_names_and_indexes(self, user: User, purged: Purged) -> None:
        """After a purge: listing, names, key and code indexes, token holder sets, group member
        lists, the search index."""
        keys, redis = self._keys, self._ctx.redis
        user_id, names = user.user_id, sorted(user.names)
        await self._listing.remove(user_id, purged.place)
        commands: list[tuple[str | int, ...]] = [*index_commands(keys, user, None)]
        commands += [("SREM", keys.token_holders(copy.token_id), user_id)  # older versions'
                     for copy in purged.token_copies]
        commands += [("ZREM", keys.group_members(group_id), user_id)
                     for group_id in purged.group_ids]
        await redis.pipeline(commands)
        await self._security_keys.forget(purged.security_keys)
        await self._bypass.forget(purged.bypass_codes)
        for copy in purged.token_copies:
            await self._ctx.scripts.run(ScriptName.TOKEN_HOLDERS, [keys.token_records()],
                                        ["remove", copy.token_id, user_id])
        if names:
            await self._ctx.scripts.run(ScriptName.NAMES_CLAIM, [keys.username_index()],
                                        [user_id, len(names), *names])

    async def claim_sweep(self, hold_ms: int) -> bool:
        """True for the one process that may sweep now (until it releases, or `hold_ms`)."""
        reply = await self._ctx.redis.execute(
            "SET", self._keys.trash_sweep_lock(), "1", "NX", "PX", hold_ms)
        return reply is not None

    async def release_sweep(self) -> None:
        await self._ctx.redis.execute("DEL", self._keys.trash_sweep_lock())
