"""The Redis key schema: every key name the service uses is built here and nowhere else.

Keys that one Lua script touches together share a hash tag, so every script stays legal on Redis
Cluster: all of one user's keys carry ``{u:<user_id>}``. Each holder of a hardware token keeps
its own copy of the token's counters (a ``t:<token id>`` field of its user hash), because the
passcode script commits the token counter and the user's lockout count in one atomic call; the
token's own record stays in a global hash. The user counters are sharded by hash slot, under a tag
(``{cs<n>}``) that lands in the slot of the users they count (`store/slots.py`), so the scripts
that change a user change its counters in the same call.

Global lookups (username, ikey, serial, token owner, bypass-code id) go through small index keys
with no tag; no script touches them together with a user's keys.

Each builder says the Redis type, what it holds, and its TTL. The builders live in `tagged.py`
(keys under a hash tag) and `shared.py` (global keys).
"""

from __future__ import annotations

from dataclasses import dataclass

from authsvc.store.keys.shared import SharedKeys
from authsvc.store.keys.tagged import TaggedKeys


@dataclass(frozen=True, slots=True)
class Keys(TaggedKeys, SharedKeys):
    """Key builders under one prefix (``AUTHSVC_KEY_PREFIX``, default ``as``)."""

    prefix: str = "as"
