"""Finding users in the Admin Panel (seed 001, Listing Users): a plain page, a search by
username, alias, name or email, and a status filter, each in a bounded number of round trips
whatever the number of users.

- A page: the users listing (ZRANGE) and the users with their devices (two pipelines).
- A search: one ZRANGEBYLEX on the search index (prefix of any term), then the users; a hit
  the record no longer answers to (the index is written beside the record, not atomically with
  it) is dropped.
- A status filter: users are examined in creation order in windows of `WINDOW` (one pipelined
  round trip each, at most `MAX_WINDOWS` per request); the page ends with a cursor where the
  examination stopped, so the next page goes on from there.

An administrator restricted by Administrative Units sees only the users in their units
(`domain/scope.py`): the page is the scope's own, a search or filter keeps the users in scope.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from authsvc.domain.access import Access
from authsvc.domain.scope import ScopeGuard
from authsvc.domain.users import UserDirectory
from authsvc.errors import InvalidParameter
from authsvc.model.permissions import Action, Actor
from authsvc.model.users import MAX_SEARCH_TERM, UserDevices, UserStatus, search_terms
from authsvc.store import Store

MAX_PAGE = 100
MAX_MATCHES = 100
WINDOW = 2500
MAX_WINDOWS = 4
REBUILD_PAGE = 500


@dataclass(frozen=True, slots=True)
class UserQuery:
    """What the Users page asks for: search text, a status, and where to start."""

    text: str = ""
    status: str = ""
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True, slots=True)
class Found:
    """A page of users; `next_offset` where the next page starts (None: the end); `total`
    every user (None for a search or a filter, which do not count their matches);
    `examined` the users a filter looked at for this page."""

    users: list[UserDevices]
    next_offset: int | None
    total: int | None
    examined: int = 0


def _checked(query: UserQuery) -> UserQuery:
    if not 1 <= query.limit <= MAX_PAGE or query.offset < 0:
        raise InvalidParameter(f"limit (1-{MAX_PAGE}) or offset")
    if query.status and query.status not in {status.value for status in UserStatus}:
        raise InvalidParameter("status")
    if len(query.text) > MAX_SEARCH_TERM or not query.text.isprintable():
        raise InvalidParameter("search")
    return query


class UserFinder:
    """The Users page's reads, checked like every other read of users."""

    def __init__(self, store: Store, access: Access, users: UserDirectory,
                 scope: ScopeGuard) -> None:
        self._store = store
        self._access = access
        self._users = users
        self._scope = scope

    async def find(self, actor: Actor, query: UserQuery) -> Found:
        """One page of users as the query asks."""
        await self._access.require(actor, Action.READ_USERS)
        query = _checked(query)
        text = query.text.strip().lower()
        if text:
            found = await self._search(text, query)
        elif query.status:
            found = await self._filter(query)
        else:
            users, total = await self._scope.user_page(actor, query.offset, query.limit,
                                                       self._users.page_with_devices)
            following = query.offset + query.limit
            return Found(users, following if following < total else None, total)
        # A search or a filter keeps the users in the actor's Administrative Units.
        return replace(found, users=await self._scope.users(actor, found.users))

    async def _search(self, text: str, query: UserQuery) -> Found:
        ids = await self._store.user_search.prefix(text, MAX_MATCHES)
        found = [view for view in await self._store.profiles.load(ids)
                 if any(term.startswith(text) for term in search_terms(view.user))
                 and (not query.status or view.user.status.value == query.status)]
        return Found(found[:query.limit], None, None)

    async def _filter(self, query: UserQuery) -> Found:
        matches: list[str] = []
        position, examined = query.offset, 0
        for _ in range(MAX_WINDOWS):
            ids, total = await self._store.users.page_ids(position, WINDOW)
            statuses = await self._store.user_search.statuses(ids)
            for user_id, status in zip(ids, statuses, strict=True):
                position += 1
                examined += 1
                if status == query.status:
                    matches.append(user_id)
                    if len(matches) == query.limit:
                        break
            if len(matches) == query.limit or position >= total:
                break
        users = await self._store.profiles.load(matches)
        return Found(users, position if position < total else None, None, examined)

    async def rebuild_index(self) -> int:
        """Index every user stored before the search index existed (once; idempotent and
        safe while users change: a user changed meanwhile is indexed by its change too)."""
        if await self._store.user_search.ready():
            return 0
        offset, indexed = 0, 0
        while True:
            users, total = await self._users.page(offset, REBUILD_PAGE)
            await self._store.user_search.add(users)
            indexed += len(users)
            offset += REBUILD_PAGE
            if offset >= total:
                break
        await self._store.user_search.mark_ready()
        return indexed
