"""Admin views of users: a page of users with their tokens, phones, security keys and groups in
a constant number of round trips (two, one more when the groups' version moved, one more when
a token's definition is not known to this process yet, whatever the page size), for the Admin
API's user lists and the Admin Panel's pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from authsvc.model.admin_factors import is_admin_subject
from authsvc.model.users import UserDevices
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.groups import GroupStore
from authsvc.store.phones import phone_from_hash
from authsvc.store.records import token_copies_of, user_from_hash
from authsvc.store.security_keys import key_from_json
from authsvc.store.token_definitions import TokenDefinitions


def _copies_flat(user: Any, older: Any) -> list[str]:
    """The user's token copies as a flat {id, JSON, ...} reply (records.token_copies_of)."""
    copies = token_copies_of(flat_to_dict(user), flat_to_dict(older))
    return [item for pair in copies.items() for item in pair]


class ProfileStore:
    """Users with their devices and groups, loaded together."""

    def __init__(self, ctx: StoreContext, groups: GroupStore,
                 definitions: TokenDefinitions) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._groups = groups
        self._definitions = definitions

    async def load(self, user_ids: Sequence[str]) -> list[UserDevices]:
        """The users that exist among `user_ids`, in that order, with their devices and groups:
        one pipeline for the users' own keys, one for the phone records (the group records come
        from the groups' cache, read in one more round trip when the groups' version moved).
        Administrators' internal subjects are never among them."""
        user_ids = [user_id for user_id in user_ids if not is_admin_subject(user_id)]
        if not user_ids:
            return []
        keys, redis = self._keys, self._ctx.redis
        replies = await redis.pipeline([self._groups.version_command()] + [
            command for user_id in user_ids for command in (
                ("HGETALL", keys.user(user_id)), ("HGETALL", keys.user_tokens(user_id)),
                ("ZRANGE", keys.user_phones(user_id), 0, -1),
                ("HGETALL", keys.user_security_keys(user_id)), self._groups.ids_command(user_id))])
        rows = [[user, _copies_flat(user, older), *rest] for user, older, *rest in (
            replies[i:i + 5] for i in range(1, len(replies), 5))]
        phone_ids = sorted({phone_id for row in rows for phone_id in row[2]})
        phone_replies = await redis.pipeline([("HGETALL", keys.phone(p)) for p in phone_ids])
        phones = {phone_id: phone_from_hash(flat_to_dict(reply))
                  for phone_id, reply in zip(phone_ids, phone_replies, strict=True) if reply}
        groups = {group.group_id: group for group in await self._groups.records(
            sorted({group_id for row in rows for group_id in row[4]}), replies[0])}
        await self._definitions.fetch({token_id for row in rows for token_id in row[1][0::2]})
        found = []
        for user_id, (user, tokens, ids, security_keys, group_ids) in zip(user_ids, rows,
                                                                           strict=True):
            if not user:
                continue
            held = self._definitions.copies(flat_to_dict(tokens), user_id)
            found.append(UserDevices(
                user_from_hash(flat_to_dict(user), user_id),
                sorted(held, key=lambda token: (token.created, token.token_id)),
                [phones[phone_id] for phone_id in ids if phone_id in phones],
                [key_from_json(cred, raw) for cred, raw in flat_to_dict(security_keys).items()],
                sorted((groups[g] for g in group_ids if g in groups),
                       key=lambda group: (group.name.lower(), group.group_id))))
        return found
