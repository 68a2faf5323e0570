"""A user's copy of each token it holds is a field of the user hash (lib/token_copies.lua): no
key of its own; the copies an older version kept in a hash of their own are read where they are
by every reader (decisions, loads, listings, counters) and moved into the user hash by the
first script that writes one."""

from __future__ import annotations

import dataclasses

from authsvc.clock import FakeClock
from authsvc.model.attempts import AttemptStatus
from authsvc.model.tokens import TokenType
from authsvc.store import Store
from authsvc.store.records import token_to_json
from tests.store.conftest import add_token, add_user, hotp_match, lockout_settings, token_record

LENIENT = lockout_settings(threshold=9999)


async def _as_an_older_version_kept_it(store: Store, user_id: str, token_id: str) -> None:
    user_key = store.keys.user(user_id)
    raw = await store.redis.execute("HGET", user_key, f"t:{token_id}")
    assert raw is not None
    await store.redis.pipeline([("HDEL", user_key, f"t:{token_id}"),
                                ("HSET", store.keys.user_tokens(user_id), token_id, raw)])


async def _moved(store: Store, user_id: str, token_id: str) -> bool:
    in_user_hash = await store.redis.execute("HEXISTS", store.keys.user(user_id), f"t:{token_id}")
    return bool(in_user_hash) and not await store.redis.execute(
        "EXISTS", store.keys.user_tokens(user_id))


async def test_a_copy_is_a_field_of_the_user_hash_with_no_key_of_its_own(store: Store) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=7)
    assert (await token_record(store, "U1", "T1"))["counter"] == 7
    assert await _moved(store, "U1", "T1")
    user = await store.users.get("U1")  # the copies' fields do not disturb the record
    assert user is not None and user.username == "u1"


async def test_an_older_copy_is_read_then_accepted_once_and_moved(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=5)
    await _as_an_older_version_kept_it(store, "U1", "T1")

    assert [token.token_id for token in await store.tokens.of_user("U1")] == ["T1"]
    assert [token.token_id for token in (await store.profiles.load(["U1"]))[0].tokens] == ["T1"]
    assert not await store.unenrolled.lock_if_unenrolled("U1", created_by_s=2_000_000_000,
                                                         now_ms=clock.now_ms())
    first = await store.attempts.decide("U1", now_ms=clock.now_ms(), settings=LENIENT,
                                        matches=[hotp_match("T1", counter=5)])
    replay = await store.attempts.decide("U1", now_ms=clock.now_ms(), settings=LENIENT,
                                         matches=[hotp_match("T1", counter=5)])

    assert (first.status, replay.status) == (AttemptStatus.ALLOW, AttemptStatus.INVALID)
    assert await _moved(store, "U1", "T1")
    assert (await token_record(store, "U1", "T1"))["counter"] == 6


async def test_taking_resyncing_or_purging_an_older_copy_finds_it(store: Store) -> None:
    for user_id in ("U1", "U2", "U3"):
        await add_user(store, user_id)
    token = await add_token(store, "T1", "U1")
    for user_id in ("U2", "U3"):
        assert await store.tokens.give(user_id, dataclasses.replace(token, owner=user_id))
        await _as_an_older_version_kept_it(store, user_id, "T1")

    taken = await store.tokens.take("U2", "T1")
    assert taken is not None and taken.token_id == "T1"
    assert not await store.redis.execute("EXISTS", store.keys.user_tokens("U2"))
    assert [t.token_id for t in await store.tokens.of_user("U2")] == []

    holder = await store.tokens.get("T1")
    assert holder is not None and await store.tokens.advance_counter(holder, 10)
    assert await _moved(store, "U3", "T1")
    assert (await token_record(store, "U3", "T1"))["counter"] == 10

    await _as_an_older_version_kept_it(store, "U3", "T1")
    outcome, purged = await store.trash.purge("U3", trashed_by_ms=None)
    assert purged is not None and [copy.token_id for copy in purged.token_copies] == ["T1"]
    assert not await store.redis.execute("EXISTS", store.keys.user_tokens("U3"))


async def test_a_token_record_leaves_out_a_default_step_and_no_last_step(store: Store) -> None:
    hotp = await add_token(store, "T1", None)
    totp = await add_token(store, "T2", None, type_=TokenType.TOTP6, last_step=5)
    totp = dataclasses.replace(totp, totp_step=60)
    await store.redis.execute("HSET", store.keys.token_records(), "T2", token_to_json(totp, 1))

    plain = await token_record(store, None, "T1")
    assert "step" not in plain and "last_step" not in plain
    assert {key: (await token_record(store, None, "T2"))[key] for key in ("step", "last_step")} \
        == {"step": 60, "last_step": 5}
    read = await store.tokens.get_many(["T1", "T2"])
    assert [(token.totp_step, token.last_step) for token in read] == [(30, -1), (60, 5)]
    assert read[0].counter == hotp.counter
    # Manual resync and TOTP folding still write into a record without the fields.
    assert await store.tokens.advance_counter(read[0], 4)
    await store.tokens.fold(dataclasses.replace(read[0], counter=2, last_step=9))
    folded = await token_record(store, None, "T1")
    assert (folded["counter"], folded["last_step"]) == (4, 9)
