"""Creation-ordered listings (users, tokens, phones, security keys, bypass codes, groups,
integrations) in buckets small enough to stay compact.

One sorted set of every user costs ~128 B per member once it outgrows Redis's compact encoding
(a skiplist); the same members in sorted sets of at most 128 (listpacks) cost ~41 B. So each
member gets a place (0, 1, 2, ... in creation order) and lives in bucket place // 128, scored by
creation time; a string of one byte per bucket counts its members, which is all a page by offset
needs to find its buckets. The script that hands out a place also scores the member after every
earlier one, so bucket order, place order and score order are the same (`listing_append.lua`).

What older versions kept, one sorted set (`ListingKeys.legacy`), is still read: it lists before
every bucket and members are removed from it, but nothing is appended to it any more.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from authsvc.store.core import StoreContext
from authsvc.store.keys.listing import LISTING_BUCKET, ListingKeys
from authsvc.store.scripts import ScriptName

PLACE_FIELD = "listed"
"""The field of a listed object's hash (a user's, a phone's) holding its place; objects listed
by versions before the buckets have none. (A token record keeps it in its JSON, `listed`.)"""

SCAN_BATCH = 64
"""Buckets read in one round trip when a range or a lost place is looked for."""


def _counts_of(reply: Any) -> bytes:
    """The counts string as bytes (the client hands binary replies over surrogate-escaped)."""
    if reply is None:
        return b""
    return reply if isinstance(reply, bytes) else str(reply).encode("utf-8", "surrogateescape")


def bucket_of(place: int) -> int:
    return place // LISTING_BUCKET


class Listing:
    """One creation-ordered listing: append, remove, count, page, ranges by creation time."""

    def __init__(self, ctx: StoreContext, keys: ListingKeys) -> None:
        self._ctx = ctx
        self._keys = keys
        self._next_place = 0  # a guess: another process may have moved on (the script says so)
        self._sizes_seen: tuple[int, bytes] = (0, b"")  # what `page` read last

    async def append(self, member: str, now_ms: int) -> int:
        """List a new member after every other; returns its place (keep it: `remove` needs
        it)."""
        keys = self._keys
        while True:
            number = bucket_of(self._next_place)
            reply = await self._ctx.scripts.run(
                ScriptName.LISTING_APPEND,
                [keys.legacy, keys.meta, keys.counts, keys.bucket(number)],
                [now_ms, number, LISTING_BUCKET, member])
            self._next_place = int(reply[1]) + int(reply[0])
            if reply[0] == 1:
                return int(reply[1])

    async def remove(self, member: str, place: int | None) -> bool:
        """Take `member` out (`place`: what `append` returned; None: in the legacy set, or not
        known, then looked for)."""
        number = bucket_of(place) if place is not None else None
        if number is None and await self._remove_from(None, member):
            return True
        if number is None:
            number = await self._find(member)
        return number is not None and await self._remove_from(number, member)

    async def _remove_from(self, number: int | None, member: str) -> bool:
        keys = self._keys
        reply = await self._ctx.scripts.run(
            ScriptName.LISTING_REMOVE,
            [keys.legacy, keys.counts, keys.legacy if number is None else keys.bucket(number)],
            ["" if number is None else number, member])
        return bool(reply)

    async def _find(self, member: str) -> int | None:
        """The bucket holding `member`, by asking every bucket (a place lost in a crash)."""
        numbers = [number for number, n in enumerate(await self._counts()) if n]
        for start in range(0, len(numbers), SCAN_BATCH):
            batch = numbers[start:start + SCAN_BATCH]
            scores = await self._ctx.redis.pipeline(
                [("ZSCORE", self._keys.bucket(number), member) for number in batch])
            for number, score in zip(batch, scores, strict=True):
                if score is not None:
                    return number
        return None

    async def _counts(self) -> bytes:
        return _counts_of(await self._ctx.redis.execute("GET", self._keys.counts))

    async def _sizes(self) -> tuple[int, bytes]:
        """How many members the legacy set holds, and the bucket counts."""
        legacy, counts = await self._ctx.redis.pipeline(
            [("ZCARD", self._keys.legacy), ("GET", self._keys.counts)])
        return int(legacy), _counts_of(counts)

    async def count(self) -> int:
        legacy, counts = await self._sizes()
        return legacy + sum(counts)

    async def page(self, offset: int, limit: int) -> tuple[list[str], int]:
        """Members `offset` .. `offset + limit - 1` in creation order, and how many there are.
        One round trip while the sizes are those this process read last, else two."""
        sizing: list[tuple[str | int, ...]] = [
            ("ZCARD", self._keys.legacy), ("GET", self._keys.counts)]
        guess = self._page_commands(*self._sizes_seen, offset, limit)
        replies = await self._ctx.redis.pipeline(sizing + guess)
        sizes = int(replies[0]), _counts_of(replies[1])
        self._sizes_seen = sizes
        commands = self._page_commands(*sizes, offset, limit)
        if commands != guess:  # the listing changed since: read the right ranges now
            replies[2:] = await self._ctx.redis.pipeline(commands) if commands else []
        return list(itertools.chain.from_iterable(replies[2:]))[:limit], sizes[0] + sum(sizes[1])

    def _page_commands(self, legacy: int, counts: bytes, offset: int, limit: int
                       ) -> list[tuple[str | int, ...]]:
        """The ZRANGE commands reading one page, given the listing's sizes."""
        if limit <= 0 or offset >= legacy + sum(counts):
            return []
        commands: list[tuple[str | int, ...]] = []
        if offset < legacy:
            commands.append(("ZRANGE", self._keys.legacy, offset, offset + limit - 1))
        return commands + self._bucket_ranges(counts, max(0, offset - legacy),
                                              offset + limit - max(offset, legacy))

    def _bucket_ranges(self, counts: bytes, skip: int, wanted: int
                       ) -> list[tuple[str | int, ...]]:
        """ZRANGE commands for `wanted` bucket members after the first `skip`."""
        commands: list[tuple[str | int, ...]] = []
        for number, size in enumerate(counts):
            if wanted <= 0:
                break
            if skip >= size:
                skip -= size
                continue
            take = min(size - skip, wanted)
            commands.append(("ZRANGE", self._keys.bucket(number), skip, skip + take - 1))
            skip, wanted = 0, wanted - take
        return commands

    async def order(self, places: Mapping[str, int | None]) -> list[str]:
        """`places`' members in creation order, each with the place `append` gave it (None:
        listed in the legacy set, or its place was lost in a crash: then it ranks after its
        bucket's known places; not listed at all: left out)."""
        ranked = [((1, float(place)), member) for member, place in places.items()
                  if place is not None]
        older = sorted(member for member, place in places.items() if place is None)
        for start in range(0, len(older), SCAN_BATCH * 16):
            chunk = older[start:start + SCAN_BATCH * 16]
            scores = await self._ctx.redis.execute("ZMSCORE", self._keys.legacy, *chunk)
            for member, score in zip(chunk, scores, strict=True):
                if score is not None:
                    ranked.append(((0, float(score)), member))
                elif (number := await self._find(member)) is not None:
                    ranked.append(((1, (number + 1) * LISTING_BUCKET - 0.5), member))
        return [member for _, member in sorted(ranked)]

    async def between(self, after_ms: int | None, until_ms: int, *, offset: int,
                      count: int) -> list[str]:
        """Members scored in (after_ms, until_ms] (from the first when None) in creation order:
        `count` of them after the first `offset`."""
        low = "-inf" if after_ms is None else f"({after_ms}"
        legacy_n, counts = await self._ctx.redis.pipeline(
            [("ZCOUNT", self._keys.legacy, low, until_ms), ("GET", self._keys.counts)])
        found: list[str] = []
        if offset < int(legacy_n):
            found = await self._ctx.redis.execute(
                "ZRANGE", self._keys.legacy, low, until_ms, "BYSCORE", "LIMIT", offset, count)
        skip = max(0, offset - int(legacy_n))
        numbers = [number for number, n in enumerate(_counts_of(counts)) if n]
        start = await self._first_after(numbers, after_ms)
        for batch in _batches(numbers[start:], SCAN_BATCH):
            if len(found) >= count:
                break
            replies = await self._ctx.redis.pipeline(list(itertools.chain.from_iterable(
                (("ZRANGE", self._keys.bucket(number), low, until_ms, "BYSCORE"),
                 ("ZRANGE", self._keys.bucket(number), -1, -1, "WITHSCORES")) for number in batch)))
            for members, top in zip(replies[0::2], replies[1::2], strict=True):
                found += members[skip:]
                skip = max(0, skip - len(members))
                if len(found) >= count or (top and float(top[1]) > until_ms):
                    return found[:count]  # scores grow with buckets: nothing later is in range
        return found[:count]

    async def _first_after(self, numbers: Sequence[int], after_ms: int | None) -> int:
        """The index in `numbers` of the first bucket whose highest score is above `after_ms`
        (a binary search: highest scores grow with bucket numbers)."""
        low, high = 0, len(numbers)
        if after_ms is None:
            return 0
        while low < high:
            middle = (low + high) // 2
            top = await self._ctx.redis.execute(
                "ZRANGE", self._keys.bucket(numbers[middle]), -1, -1, "WITHSCORES")
            if top and float(top[1]) > after_ms:
                high = middle
            else:
                low = middle + 1
        return low


def _batches(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    return (items[start:start + size] for start in range(0, len(items), size))
