"""The keys of a creation-ordered listing in buckets (`store/listing.py`): users, tokens,
phones, security keys, bypass codes, groups, integrations."""

from __future__ import annotations

from dataclasses import dataclass

LISTING_BUCKET = 128
"""Places per bucket of a creation-ordered listing: Redis keeps a sorted set of up to 128
members (``zset-max-listpack-entries``) as one listpack, ~41 B a member where one large sorted
set (a skiplist) costs ~128 B."""


@dataclass(frozen=True, slots=True)
class ListingKeys:
    """The keys of one creation-ordered listing. Every one is tagged with the
    name of the single sorted set older versions kept (`legacy`), so all of them share its
    slot and one script may touch them together.

    - `legacy`: ZSET member -> creation ms, as versions before the buckets wrote it; read (it
      lists before every bucket) and removed from, never appended to. No TTL.
    - `meta`: HASH ``seq`` (the last place handed out), ``top`` (the highest score). No TTL.
    - `counts`: STRING, byte n = how many members bucket n holds (BITFIELD u8). No TTL.
    - `bucket(n)`: ZSET member -> creation ms of places n*128 .. n*128+127 (see
      `LISTING_BUCKET`); scores grow with places, across buckets too. No TTL.
    """

    legacy: str

    @property
    def meta(self) -> str:
        return f"{{{self.legacy}}}:meta"

    @property
    def counts(self) -> str:
        return f"{{{self.legacy}}}:counts"

    def bucket(self, number: int) -> str:
        return f"{{{self.legacy}}}:b:{number}"
