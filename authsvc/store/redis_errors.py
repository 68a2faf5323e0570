"""What a Redis call can fail with: an error reply, a "not now" reply, or no Redis at all.

`RedisUnavailable` (and its `RedisTransientError`) are `StoreUnavailable`s of the error tree, so
layers above the store render them as 503 without importing the store.
"""

from __future__ import annotations

from authsvc.errors import StoreUnavailable


class RedisError(Exception):
    """Redis answered with an error reply (``-ERR ...``, ``-NOSCRIPT ...``)."""


class RedisUnavailable(StoreUnavailable):
    """Redis could not be reached, or did not answer in time (the detail names the address:
    logged, never sent to a client)."""


class RedisTransientError(RedisUnavailable):
    """Redis answered, but with an error reply that means "not now" (`TRANSIENT_REPLIES`): the
    command was refused as a whole (a script that is refused runs none of its writes), so, as
    for an unreachable Redis, the request answers 503 and may be retried."""


# The first word of error replies that a retry may cure: maxmemory with noeviction (OOM), an AOF
# or RDB being loaded after a restart (LOADING), a replica (READONLY), a replica whose master is
# gone with replica-serve-stale-data no (MASTERDOWN), a cluster without quorum or a slot not
# served (CLUSTERDOWN), a slot being migrated (TRYAGAIN), a script or function running past
# busy-reply-threshold (BUSY), too few replicas for min-replicas-to-write (NOREPLICAS), and a
# failed background save with stop-writes-on-bgsave-error (MISCONF).
TRANSIENT_REPLIES = frozenset({"OOM", "LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN",
                               "TRYAGAIN", "BUSY", "NOREPLICAS", "MISCONF"})


def reply_error(text: str) -> RedisError | RedisTransientError:
    """The exception for one error reply, by its first word."""
    if text.split(" ", 1)[0] in TRANSIENT_REPLIES:
        return RedisTransientError(text)
    return RedisError(text)
