"""The smaller scripts against a real Redis: names_claim (unique usernames and aliases),
bypass_add / bypass_delete (limits, duplicates, replace or preserve), token_give / token_take
(each holder of a token its own copy), hotp_set_counter (manual resync never goes backwards),
hash_set_existing."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from typing import Any

import pytest

from authsvc.clock import FakeClock
from authsvc.domain.users import UserChanges, UserDirectory
from authsvc.errors import Conflict, NotFound
from authsvc.model.attempts import AttemptStatus
from authsvc.model.tokens import TokenType
from authsvc.model.users import User, UserStatus
from authsvc.store import Store
from authsvc.store.core import StoreContext
from authsvc.store.listing import Listing
from authsvc.store.scripts import ScriptName
from tests.store.conftest import (
    StoreFactory,
    add_token,
    add_user,
    bypass_code,
    bypass_match,
    bypass_records,
    delete_user,
    hotp_match,
    lockout_settings,
    token_record,
    user_fields,
)

LIMIT = 100


async def name_index(store: Store) -> dict[str, str]:
    flat = await store.redis.execute("HGETALL", store.keys.username_index())
    return dict(zip(flat[0::2], flat[1::2], strict=True))


async def listed_codes(store: Store) -> set[str]:
    """Every code id the listing holds (its buckets and an older version's set)."""
    listing = Listing(StoreContext(store.redis, store.keys, store.scripts),
                      store.keys.bypass_codes_listing())
    ids, total = await listing.page(0, 10_000)
    assert len(ids) == total
    return set(ids)


async def code_owners(store: Store) -> dict[str, str]:
    """Code id -> user id, from the owner index (whose entries also carry a place)."""
    flat = await store.redis.execute("HGETALL", store.keys.bypass_owner_index())
    return {code_id: entry.split(" ")[0]
            for code_id, entry in zip(flat[0::2], flat[1::2], strict=True)}


# --- names_claim --------------------------------------------------------------------------------


async def test_two_users_cannot_claim_one_username(store: Store) -> None:
    await add_user(store, "U1", "alice")

    with pytest.raises(Conflict, match="alice"):
        await add_user(store, "U2", "alice")

    assert await name_index(store) == {"alice": "U1"}
    assert await store.users.get("U2") is None
    assert (await store.users.page_ids(0, 10))[0] == ["U1"]


async def test_usernames_and_aliases_share_one_namespace_whatever_the_case(
        store: Store, clock: FakeClock) -> None:
    directory = UserDirectory(store, clock)
    first = await directory.add(UserChanges(username="Alice", aliases={1: "Ally"}))

    for changes in (UserChanges(username="ALICE"), UserChanges(username="ally"),
                    UserChanges(username="bob", aliases={2: "aLiCe"})):
        with pytest.raises(Conflict):
            await directory.add(changes)

    assert await name_index(store) == {"alice": first.user_id, "ally": first.user_id}
    assert (await store.users.page(0, 10))[1] == 1


async def test_a_rename_releases_the_old_name_for_others(store: Store, clock: FakeClock) -> None:
    directory = UserDirectory(store, clock)
    alice = await directory.add(UserChanges(username="alice", aliases={1: "al"}))

    await directory.update(alice.user_id, UserChanges(username="alicia", aliases={1: ""}))

    assert await name_index(store) == {"alicia": alice.user_id}
    other = await directory.add(UserChanges(username="alice", aliases={1: "al"}))
    assert await name_index(store) == {"alicia": alice.user_id, "alice": other.user_id,
                                       "al": other.user_id}
    found = await directory.by_name("ALICIA")
    assert found is not None and found.user_id == alice.user_id


async def test_a_rename_to_a_taken_name_changes_nothing(store: Store, clock: FakeClock) -> None:
    directory = UserDirectory(store, clock)
    alice = await directory.add(UserChanges(username="alice", aliases={1: "al"}))
    await directory.add(UserChanges(username="bob"))
    index_before = await name_index(store)
    fields_before = await user_fields(store, alice.user_id)

    with pytest.raises(Conflict, match="bob"):
        await directory.update(alice.user_id, UserChanges(username="bob", aliases={2: "new-al"},
                                                          realname="Alice B"))

    assert await name_index(store) == index_before
    assert await user_fields(store, alice.user_id) == fields_before


async def test_a_claim_conflicting_on_any_name_claims_none_of_them(store: Store) -> None:
    await add_user(store, "U1", "taken")
    await add_user(store, "U2", "mine")

    reply = await store.scripts.run(ScriptName.NAMES_CLAIM, [store.keys.username_index()],
                                    ["U2", 1, "mine", "free-1", "taken", "free-2"])

    assert reply == [0, "taken"]
    assert await name_index(store) == {"taken": "U1", "mine": "U2"}


async def test_claiming_a_name_already_held_keeps_it(store: Store) -> None:
    await add_user(store, "U1", "alice")

    reply = await store.scripts.run(ScriptName.NAMES_CLAIM, [store.keys.username_index()],
                                    ["U1", 0, "alice", "al"])

    assert reply == [1]
    assert await name_index(store) == {"alice": "U1", "al": "U1"}


async def test_releasing_a_name_held_by_another_user_leaves_it_alone(store: Store) -> None:
    await add_user(store, "U1", "alice")

    await store.users.forget_stale_name("alice", "U2")

    assert await name_index(store) == {"alice": "U1"}
    await store.users.forget_stale_name("alice", "U1")
    assert await name_index(store) == {}


async def test_a_stale_name_of_a_vanished_user_is_forgotten_on_lookup(
        store: Store, clock: FakeClock) -> None:
    # What a crash between claiming the names and writing the record leaves behind.
    await store.scripts.run(ScriptName.NAMES_CLAIM, [store.keys.username_index()],
                            ["U-ghost", 0, "ghost"])

    assert await UserDirectory(store, clock).by_name("Ghost") is None
    assert await name_index(store) == {}
    await add_user(store, "U2", "ghost")
    assert await name_index(store) == {"ghost": "U2"}


async def test_deleting_a_user_releases_every_name(store: Store) -> None:
    user = await add_user(store, "U1", "alice", aliases={1: "al", 3: "ali"})
    await add_user(store, "U2", "bob")

    await delete_user(store, user)

    assert await name_index(store) == {"bob": "U2"}
    await add_user(store, "U3", "al")


async def test_race_many_users_claiming_one_name_exactly_one_wins(
        store: Store, separate_stores: StoreFactory) -> None:
    stores = await separate_stores(20)

    results = await asyncio.gather(*(add_user(s, f"U{n}", "popular")
                                     for n, s in enumerate(stores)), return_exceptions=True)

    winners = [r for r in results if isinstance(r, User)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, User))
    assert await name_index(store) == {"popular": winners[0].user_id}
    assert (await store.users.page_ids(0, 10))[0] == [winners[0].user_id]


async def test_race_two_renames_to_one_name_leave_exactly_one_holder(
        store: Store, clock: FakeClock, separate_stores: StoreFactory) -> None:
    first, second = await separate_stores(2)
    a = await UserDirectory(store, clock).add(UserChanges(username="a"))
    b = await UserDirectory(store, clock).add(UserChanges(username="b"))

    results = await asyncio.gather(
        UserDirectory(first, clock).update(a.user_id, UserChanges(username="wanted")),
        UserDirectory(second, clock).update(b.user_id, UserChanges(username="wanted")),
        return_exceptions=True)

    assert sorted(type(r).__name__ for r in results) == ["Conflict", "User"]
    index = await name_index(store)
    winner = next(r for r in results if isinstance(r, User))
    loser = b if winner.user_id == a.user_id else a
    assert index["wanted"] == winner.user_id
    assert index[loser.username] == loser.user_id
    assert len(index) == 2


# --- bypass_add ---------------------------------------------------------------------------------


def codes(user_id: str, prefix: str, count: int, **meta: Any) -> list[Any]:
    return [bypass_code(f"{prefix}{n}", user_id, **meta) for n in range(count)]


async def test_ten_batches_of_ten_fill_the_limit_and_the_eleventh_changes_nothing(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    for batch in range(10):
        await store.bypass.add("U1", codes("U1", f"b{batch}-", 10), preserve=True,
                               now_ms=clock.now_ms(), limit=LIMIT)
    assert len(await bypass_records(store, "U1")) == 100
    before = (await bypass_records(store, "U1"), await listed_codes(store),
              await code_owners(store))

    for extra in (codes("U1", "over-", 10), codes("U1", "one-", 1)):
        with pytest.raises(Conflict, match="at most 100"):
            await store.bypass.add("U1", extra, preserve=True, now_ms=clock.now_ms(),
                                   limit=LIMIT)

    after = (await bypass_records(store, "U1"), await listed_codes(store),
             await code_owners(store))
    assert after == before
    assert len(after[1]) == 100


async def test_one_batch_over_the_limit_is_refused_even_when_replacing(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", codes("U1", "old-", 3), preserve=False, now_ms=clock.now_ms(),
                           limit=LIMIT)

    with pytest.raises(Conflict):
        await store.bypass.add("U1", codes("U1", "new-", 5), preserve=False,
                               now_ms=clock.now_ms(), limit=4)

    assert set(await bypass_records(store, "U1")) == {"old-0", "old-1", "old-2"}


async def test_expired_codes_do_not_count_towards_the_limit_and_are_pruned(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    expiring = codes("U1", "exp-", 10, expires_ms=clock.now_ms() + 60_000)
    await store.bypass.add("U1", expiring, preserve=True, now_ms=clock.now_ms(), limit=LIMIT)
    for batch in range(9):
        await store.bypass.add("U1", codes("U1", f"b{batch}-", 10), preserve=True,
                               now_ms=clock.now_ms(), limit=LIMIT)
    with pytest.raises(Conflict):
        await store.bypass.add("U1", codes("U1", "late-", 10), preserve=True,
                               now_ms=clock.now_ms(), limit=LIMIT)
    clock.advance(60)

    await store.bypass.add("U1", codes("U1", "late-", 10), preserve=True, now_ms=clock.now_ms(),
                           limit=LIMIT)

    stored = await bypass_records(store, "U1")
    assert len(stored) == 100
    assert not any(code_hash.startswith("exp-") for code_hash in stored)
    expired_ids = {code.meta.code_id for code in expiring}
    assert not expired_ids & await listed_codes(store)
    assert not expired_ids & set(await code_owners(store))
    assert len(await listed_codes(store)) == 100


async def test_codes_expiring_later_still_count_as_live(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", codes("U1", "a-", 2, expires_ms=clock.now_ms() + 1),
                           preserve=True, now_ms=clock.now_ms(), limit=3)

    with pytest.raises(Conflict, match="has 2"):
        await store.bypass.add("U1", codes("U1", "b-", 2), preserve=True, now_ms=clock.now_ms(),
                               limit=3)


async def test_a_code_repeated_within_one_batch_is_refused_and_nothing_is_stored(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", [bypass_code("keep", "U1")], preserve=False,
                           now_ms=clock.now_ms(), limit=LIMIT)
    batch = [bypass_code("x", "U1", code_id="DB-1"), bypass_code("y", "U1"),
             bypass_code("x", "U1", code_id="DB-2")]

    for preserve in (False, True):
        with pytest.raises(Conflict, match="already in use"):
            await store.bypass.add("U1", batch, preserve=preserve, now_ms=clock.now_ms(),
                                   limit=LIMIT)

    assert set(await bypass_records(store, "U1")) == {"keep"}
    assert await listed_codes(store) == {"DB-keep"}


async def test_a_code_equal_to_a_live_code_is_refused_when_preserving(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", [bypass_code("same", "U1", code_id="DB-old", uses=5)],
                           preserve=False, now_ms=clock.now_ms(), limit=LIMIT)

    with pytest.raises(Conflict):
        await store.bypass.add("U1", [bypass_code("fresh", "U1"),
                                      bypass_code("same", "U1", code_id="DB-new")],
                               preserve=True, now_ms=clock.now_ms(), limit=LIMIT)

    stored = await bypass_records(store, "U1")
    assert set(stored) == {"same"}
    assert (stored["same"]["id"], stored["same"]["uses"]) == ("DB-old", 5)
    assert await listed_codes(store) == {"DB-old"}


async def test_a_code_equal_to_an_expired_code_is_accepted_when_preserving(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", [bypass_code("same", "U1", code_id="DB-old",
                                              expires_ms=clock.now_ms() + 1000)],
                           preserve=False, now_ms=clock.now_ms(), limit=LIMIT)
    clock.advance(1)

    await store.bypass.add("U1", [bypass_code("same", "U1", code_id="DB-new")], preserve=True,
                           now_ms=clock.now_ms(), limit=LIMIT)

    assert (await bypass_records(store, "U1"))["same"]["id"] == "DB-new"
    assert await listed_codes(store) == {"DB-new"}


async def test_replacing_removes_every_old_code_everywhere(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_user(store, "U2")
    await store.bypass.add("U1", codes("U1", "old-", 4), preserve=False, now_ms=clock.now_ms(),
                           limit=LIMIT)
    await store.bypass.add("U2", codes("U2", "other-", 2), preserve=False,
                           now_ms=clock.now_ms(), limit=LIMIT)

    # Replacing may even reuse an old code: the old one is gone.
    await store.bypass.add("U1", [bypass_code("old-0", "U1", code_id="DB-again"),
                                  bypass_code("new", "U1")],
                           preserve=False, now_ms=clock.now_ms(), limit=LIMIT)

    assert {h: m["id"] for h, m in (await bypass_records(store, "U1")).items()} == {
        "old-0": "DB-again", "new": "DB-new"}
    assert await listed_codes(store) == {"DB-again", "DB-new", "DB-other-0", "DB-other-1"}
    assert await code_owners(store) == {"DB-again": "U1", "DB-new": "U1", "DB-other-0": "U2",
                                        "DB-other-1": "U2"}


async def test_preserving_keeps_the_old_codes(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", codes("U1", "old-", 2), preserve=False, now_ms=clock.now_ms(),
                           limit=LIMIT)

    await store.bypass.add("U1", codes("U1", "new-", 2), preserve=True, now_ms=clock.now_ms(),
                           limit=LIMIT)

    assert set(await bypass_records(store, "U1")) == {"old-0", "old-1", "new-0", "new-1"}
    assert [c.code_id for c in await store.bypass.of_user("U1", clock.now_ms())] == [
        "DB-new-0", "DB-new-1", "DB-old-0", "DB-old-1"]


async def test_adding_codes_for_a_missing_user_stores_nothing(
        store: Store, clock: FakeClock) -> None:
    with pytest.raises(NotFound):
        await store.bypass.add("U-nobody", codes("U-nobody", "c-", 2), preserve=False,
                               now_ms=clock.now_ms(), limit=LIMIT)

    assert await store.redis.execute("EXISTS", store.keys.user_bypass("U-nobody")) == 0
    assert await listed_codes(store) == set()


async def test_race_concurrent_preserving_adds_never_exceed_the_limit(
        store: Store, clock: FakeClock, separate_stores: StoreFactory) -> None:
    await add_user(store, "U1")
    stores = await separate_stores(15)

    results = await asyncio.gather(*(
        s.bypass.add("U1", codes("U1", f"r{n}-", 10), preserve=True, now_ms=clock.now_ms(),
                     limit=LIMIT)
        for n, s in enumerate(stores)), return_exceptions=True)

    assert Counter(type(r).__name__ for r in results) == {"NoneType": 10, "Conflict": 5}
    assert len(await bypass_records(store, "U1")) == 100


# --- bypass_delete --------------------------------------------------------------------------------


async def test_a_bypass_code_is_deleted_by_its_id_and_only_that_one(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", codes("U1", "c-", 3), preserve=False, now_ms=clock.now_ms(),
                           limit=LIMIT)

    await store.bypass.delete("DB-c-1")

    assert set(await bypass_records(store, "U1")) == {"c-0", "c-2"}
    assert await listed_codes(store) == {"DB-c-0", "DB-c-2"}
    assert set(await code_owners(store)) == {"DB-c-0", "DB-c-2"}
    with pytest.raises(NotFound):
        await store.bypass.delete("DB-c-1")


async def test_deleting_an_unknown_code_id_is_not_found(store: Store) -> None:
    await add_user(store, "U1")

    with pytest.raises(NotFound):
        await store.bypass.delete("DB-nothing")


async def test_deleting_a_used_up_code_is_not_found_and_prunes_its_listing(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", [bypass_code("once", "U1", code_id="DB-once")], preserve=False,
                           now_ms=clock.now_ms(), limit=LIMIT)
    outcome = await store.attempts.decide("U1", now_ms=clock.now_ms(),
                                          settings=lockout_settings(),
                                          matches=[bypass_match("once")])
    assert outcome.status is AttemptStatus.ALLOW
    assert await listed_codes(store) == {"DB-once"}  # pruned lazily

    with pytest.raises(NotFound):
        await store.bypass.delete("DB-once")

    assert await listed_codes(store) == set()
    assert await code_owners(store) == {}


async def test_listing_every_code_prunes_used_up_and_expired_ones(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", [bypass_code("once", "U1", code_id="DB-1"),
                                  bypass_code("brief", "U1", code_id="DB-2",
                                              expires_ms=clock.now_ms() + 1000),
                                  bypass_code("keep", "U1", code_id="DB-3")],
                           preserve=False, now_ms=clock.now_ms(), limit=LIMIT)
    await store.attempts.decide("U1", now_ms=clock.now_ms(), settings=lockout_settings(),
                                matches=[bypass_match("once")])
    clock.advance(1)

    page, total = await store.bypass.page(0, 10, clock.now_ms())

    assert ([c.code_id for c in page], total) == (["DB-3"], 1)
    assert await listed_codes(store) == {"DB-3"}


# --- token_give / token_take: one copy per holder ------------------------------------------------


async def test_race_two_takes_of_one_copy_give_it_back_exactly_once(
        store: Store, separate_stores: StoreFactory) -> None:
    await add_user(store, "U1")
    for round_ in range(20):
        await add_token(store, f"T{round_}", "U1")
        first, second = await separate_stores(2)

        taken = await asyncio.gather(first.tokens.take("U1", f"T{round_}"),
                                     second.tokens.take("U1", f"T{round_}"))

        assert sorted(token is None for token in taken) == [False, True]
        assert await store.redis.execute("HEXISTS", store.keys.user("U1"),
                                         f"t:T{round_}") == 0


async def test_race_assigning_one_token_to_two_users_gives_each_its_own_copy(
        store: Store, separate_stores: StoreFactory, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_user(store, "U2")
    token = await add_token(store, "T1", None)
    first, second = await separate_stores(2)

    given = await asyncio.gather(
        first.tokens.give("U1", dataclasses.replace(token, owner="U1")),
        second.tokens.give("U2", dataclasses.replace(token, owner="U2")))

    assert list(given) == [True, True]
    stored = await store.tokens.get("T1")
    assert stored is not None and stored.holders == ("U1", "U2")
    for user_id in ("U1", "U2"):  # each holder decides with its own counter
        outcome = await store.attempts.decide(user_id, now_ms=clock.now_ms(),
                                              settings=lockout_settings(),
                                              matches=[hotp_match("T1", 0)])
        assert outcome.status is AttemptStatus.ALLOW


async def test_a_token_taken_from_one_holder_and_given_to_another_starts_past_its_codes(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_user(store, "U2")
    await add_token(store, "T1", "U1", counter=0)
    await store.attempts.decide("U1", now_ms=clock.now_ms(), settings=lockout_settings(),
                                matches=[hotp_match("T1", 4)])

    assert await store.tokens.take("U1", "T1") is not None
    assert await store.tokens.take("U1", "T1") is None
    assert (await token_record(store, None, "T1"))["counter"] == 5  # folded into the record
    token = await store.tokens.get("T1")
    assert token is not None and token.holders == ()
    assert await store.tokens.give("U2", dataclasses.replace(token, owner="U2"))

    replay = await store.attempts.decide(
        "U2", now_ms=clock.now_ms(), settings=lockout_settings(), matches=[hotp_match("T1", 4)])
    assert replay.status is AttemptStatus.INVALID


async def test_a_token_is_not_given_to_a_user_who_does_not_exist(store: Store) -> None:
    token = await add_token(store, "T1", None)

    with pytest.raises(NotFound):
        await store.tokens.give("U-nobody", dataclasses.replace(token, owner="U-nobody"))

    for key in (store.keys.user("U-nobody"), store.keys.user_tokens("U-nobody"),
                store.keys.token_holders("T1")):
        assert await store.redis.execute("EXISTS", key) == 0


# --- hotp_set_counter -----------------------------------------------------------------------------


@pytest.mark.parametrize("owner", ["U1", None])
async def test_manual_resync_moves_the_counter_forward(
        store: Store, clock: FakeClock, owner: str | None) -> None:
    await add_user(store, "U1")
    token = await add_token(store, "T1", owner, counter=10)
    if owner:
        await store.attempts.decide("U1", now_ms=clock.now_ms(), settings=lockout_settings(),
                                    matches=[hotp_match("T1", far=500)])
        assert (await token_record(store, owner, "T1"))["rs_n"] == 1

    assert await store.tokens.advance_counter(token, 50) is True

    record = await token_record(store, owner, "T1")
    assert (record["counter"], record["rs_n"]) == (50, 0)


@pytest.mark.parametrize("target", [10, 9, 0])
async def test_manual_resync_never_moves_the_counter_backwards(
        store: Store, clock: FakeClock, target: int) -> None:
    await add_user(store, "U1")
    token = await add_token(store, "T1", "U1", counter=10)

    assert await store.tokens.advance_counter(token, target) is False

    assert (await token_record(store, "U1", "T1"))["counter"] == 10


async def test_manual_resync_cannot_revive_a_code_already_accepted(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    token = await add_token(store, "T1", "U1", counter=0)
    settings = lockout_settings()
    await store.attempts.decide("U1", now_ms=clock.now_ms(), settings=settings,
                                matches=[hotp_match("T1", 30)])

    await store.tokens.advance_counter(token, 20)  # the token's record moves; the copy not

    assert (await token_record(store, "U1", "T1"))["counter"] == 31
    replay = await store.attempts.decide("U1", now_ms=clock.now_ms(), settings=settings,
                                         matches=[hotp_match("T1", 30)])
    assert replay.status is AttemptStatus.INVALID


async def test_manual_resync_moves_every_holders_copy_and_the_record(store: Store) -> None:
    await add_user(store, "U1")
    await add_user(store, "U2")
    token = await add_token(store, "T1", "U1", counter=0)
    assert await store.tokens.give("U2", dataclasses.replace(token, owner="U2", counter=7))
    token = dataclasses.replace(token, holders=("U1", "U2"))

    assert await store.tokens.advance_counter(token, 5) is True

    counters = [(await token_record(store, holder, "T1"))["counter"]
                for holder in (None, "U1", "U2")]
    assert counters == [5, 5, 7]  # never backwards for the holder already past it


async def test_manual_resync_of_a_token_that_is_gone_is_not_found(store: Store) -> None:
    token = await add_token(store, "T1", None, counter=0)
    await store.tokens.delete(token)

    with pytest.raises(NotFound):
        await store.tokens.advance_counter(token, 5)


# --- hash_set_existing ----------------------------------------------------------------------------


async def test_status_change_of_a_deleted_user_does_not_resurrect_it(store: Store) -> None:
    user = await add_user(store, "U1")
    await delete_user(store, user)

    assert await store.users.set_status("U1", UserStatus.DISABLED) is False

    assert await store.redis.execute("EXISTS", store.keys.user("U1")) == 0


async def test_admin_unlock_clears_the_lockout_fields(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    for _ in range(2):
        await store.attempts.decide("U1", now_ms=clock.now_ms(),
                                    settings=lockout_settings(threshold=2), matches=[])

    assert await store.users.set_status("U1", UserStatus.ACTIVE) is True

    fields = await user_fields(store, "U1")
    assert (fields["status"], fields["fails"], fields["lockout_reason"], fields["locked_at"]) == (
        "active", "0", "", "0")


async def test_token_types_round_trip_through_the_store(store: Store) -> None:
    for n, token_type in enumerate(TokenType):
        await add_token(store, f"T{n}", None, type_=token_type)

    assert [t.type for t in await store.tokens.get_many([f"T{n}" for n in range(len(TokenType))])] == list(
        TokenType)
