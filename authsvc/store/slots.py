"""Redis Cluster hash slots, and one hash tag per slot for the user counters.

A script may only touch keys of one slot, and each user's keys live in the slot of its own tag
``{u:<user_id>}``. The user counters (`store/counts.py`) must change in the same script as the
user, so they are sharded by slot: the shard of a user lives under a tag that hashes to the
user's slot. `slot_tags` finds one such tag per slot (``cs<n>``, the smallest n that lands
there); the table is the same in every process because the search is deterministic.
"""

from __future__ import annotations

import binascii
import functools

SLOTS = 16_384


def tag_slot(tag: str) -> int:
    """The slot of a hash tag: CRC16/XMODEM of its bytes modulo 16,384 (as Redis Cluster)."""
    return binascii.crc_hqx(tag.encode(), 0) % SLOTS


def key_slot(key: str) -> int:
    """The slot Redis Cluster gives `key`: its hash tag's when it has a non-empty one."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            return tag_slot(key[start + 1:end])
    return tag_slot(key)


@functools.cache
def slot_tags() -> tuple[str, ...]:
    """One tag per slot (index = slot), found once per process (about 124,000 CRCs)."""
    tags: list[str] = [""] * SLOTS
    missing, n = SLOTS, 0
    while missing:
        tag = f"cs{n}"
        slot = tag_slot(tag)
        if not tags[slot]:
            tags[slot] = tag
            missing -= 1
        n += 1
    return tuple(tags)


def shard_tag(slot: int) -> str:
    """The counter shard's tag for `slot`."""
    return slot_tags()[slot]
