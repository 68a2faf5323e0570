"""Creation-ordered listings in buckets (store/listing.py) against a real Redis: the order of
every page, exact counts through appends and removals from several processes, the compact
encoding that is the point of the buckets, what an older version's single sorted set becomes,
and the ranges by creation time the "Not enrolled" sweep reads; users, tokens, phones and
security keys, bypass codes, groups, integrations."""

from __future__ import annotations

import asyncio

from authsvc.clock import FakeClock
from authsvc.domain.trash import Trash
from authsvc.model.groups import Group
from authsvc.model.integrations import Integration, IntegrationType, Role
from authsvc.model.phones import Phone
from authsvc.model.security_keys import KeyKind, SecurityKey
from authsvc.store import Store
from authsvc.store.core import StoreContext
from authsvc.store.keys.listing import LISTING_BUCKET, ListingKeys
from authsvc.store.listing import Listing
from authsvc.store.records import bypass_to_json
from authsvc.store.redis_client import Redis
from authsvc.store.security_keys import key_to_json
from tests.store.conftest import add_user, bypass_code

T0 = 1_800_000_000_000


def _listing(store: Store, name: str = "things") -> Listing:
    return Listing(StoreContext(store.redis, store.keys, store.scripts),
                   ListingKeys(f"{store.keys.prefix}:{name}"))


async def _every(listing: Listing) -> list[str]:
    members, total = await listing.page(0, 1_000_000)
    assert len(members) == total
    return members


async def test_pages_list_members_in_the_order_they_were_appended(store: Store) -> None:
    listing = _listing(store)
    members = [f"m{n:03d}" for n in range(300)]
    places = [await listing.append(member, T0) for member in members]  # one millisecond for all
    assert places == list(range(300))
    assert await listing.count() == 300
    for offset, limit in ((0, 10), (120, 20), (250, 300), (299, 5), (300, 5), (0, 0)):
        page, total = await listing.page(offset, limit)
        assert (page, total) == (members[offset:offset + limit], 300), (offset, limit)


async def test_every_bucket_stays_a_listpack(store: Store) -> None:
    listing, keys = _listing(store), ListingKeys(f"{store.keys.prefix}:things")
    for n in range(3 * LISTING_BUCKET):
        await listing.append(f"member-with-an-id-as-long-as-a-user-id-{n:05d}", T0 + n)
    for number in range(3):
        assert await store.redis.execute("OBJECT", "ENCODING", keys.bucket(number)) == "listpack"
        assert await store.redis.execute("ZCARD", keys.bucket(number)) == LISTING_BUCKET


async def test_scores_grow_with_places_even_within_one_millisecond(store: Store) -> None:
    listing, keys = _listing(store), ListingKeys(f"{store.keys.prefix}:things")
    for n in range(200):
        await listing.append(f"m{n}", T0 - n)  # a clock going backwards does not reorder
    scores = [float(score) for number in range(2) for score in (await store.redis.execute(
        "ZRANGE", keys.bucket(number), 0, -1, "WITHSCORES"))[1::2]]
    assert scores == sorted(set(scores)) and len(scores) == 200 and scores[0] == T0


async def test_two_processes_appending_at_once_get_distinct_places_and_exact_counts(
        redis_url: str, store: Store) -> None:
    other = Store(Redis.from_url(redis_url))
    try:
        first, second = _listing(store), _listing(other)
        places = await asyncio.gather(*(
            (first if n % 2 else second).append(f"m{n}", T0) for n in range(400)))
        assert sorted(places) == list(range(400))
        assert await first.count() == await second.count() == 400
        assert sorted(await _every(first)) == sorted(f"m{n}" for n in range(400))
        by_place = dict(zip(places, (f"m{n}" for n in range(400)), strict=True))
        assert await _every(second) == [by_place[place] for place in range(400)]
    finally:
        await other.close()


async def test_removal_is_exact_with_a_place_a_lost_place_or_none(store: Store) -> None:
    listing = _listing(store)
    places = {f"m{n}": await listing.append(f"m{n}", T0 + n) for n in range(200)}
    assert await listing.remove("m5", places["m5"])
    assert not await listing.remove("m5", places["m5"])  # twice: nothing more
    assert await listing.remove("m150", None)  # its place lost: looked for
    assert not await listing.remove("nobody", None)
    assert await listing.count() == 198
    assert await _every(listing) == [f"m{n}" for n in range(200) if n not in (5, 150)]


async def test_an_older_versions_sorted_set_lists_first_and_shrinks(store: Store) -> None:
    legacy = f"{store.keys.prefix}:things"
    await store.redis.execute("ZADD", legacy, T0 + 10, "old1", T0 + 20, "old2", T0 + 30, "old3")
    listing = _listing(store)
    await listing.append("new1", T0)  # an earlier clock still lists after the older set
    await listing.append("new2", T0 + 40)
    assert await _every(listing) == ["old1", "old2", "old3", "new1", "new2"]
    assert (await listing.page(2, 2))[0] == ["old3", "new1"]
    assert await listing.remove("old2", None)
    assert await listing.count() == 4
    assert await listing.order({"new2": 1, "old3": None, "new1": 0, "old1": None,
                                "gone": None}) == ["old1", "old3", "new1", "new2"]
    assert await listing.between(T0 + 10, T0 + 31, offset=0, count=10) == ["old3", "new1"]


async def test_ranges_by_creation_time_page_across_buckets(store: Store) -> None:
    listing = _listing(store)
    for n in range(600):
        await listing.append(f"m{n}", T0 + 10 * n)
    expected = [f"m{n}" for n in range(100, 551)]  # (T0 + 995, T0 + 5,500]
    found, offset = [], 0
    while page := await listing.between(T0 + 995, T0 + 5_500, offset=offset, count=70):
        found += page
        offset += len(page)
    assert found == expected
    assert await listing.between(None, T0 + 15, offset=0, count=10) == ["m0", "m1"]
    assert await listing.between(T0 + 10_000, T0 + 20_000, offset=0, count=10) == []


async def test_phones_are_listed_in_buckets_and_leave_them_when_deleted(store: Store) -> None:
    for n in range(3):
        await store.phones.create(Phone(phone_id=f"DP{n}", created=1_800_000_000,
                                        number=f"+1555000000{n}"), order_ms=T0 + n)
    phones, total = await store.phones.page(0, 10)
    assert ([phone.phone_id for phone in phones], total) == (["DP0", "DP1", "DP2"], 3)
    assert await store.redis.execute("ZCARD", store.keys.phones_listing().bucket(0)) == 3

    await store.phones.delete(phones[1])

    phones, total = await store.phones.page(0, 10)
    assert ([phone.phone_id for phone in phones], total) == (["DP0", "DP2"], 2)


async def test_a_member_whose_place_was_lost_is_found_and_ordered_after_its_bucket(
        store: Store) -> None:
    listing = _listing(store)
    for n in range(LISTING_BUCKET + 3):
        await listing.append(f"m{n}", T0 + n)
    # m1 and m129 lost their places (a crash between the listing and the record): they are
    # still found, each ordered after the known places of its bucket.
    assert await listing.order({"m2": 2, "m1": None, "m130": 130, "m129": None, "m0": 0}) == [
        "m0", "m2", "m1", "m130", "m129"]
    assert await listing.remove("m129", None)
    assert await listing.count() == LISTING_BUCKET + 2


def _key(number: int, kind: KeyKind = KeyKind.WEBAUTHN) -> SecurityKey:
    return SecurityKey(credential_id=f"cred{number}", key=f"WK{number:03d}", kind=kind,
                       name=f"key {number}", public_key="pk", created=1_800_000_000 + number)


async def test_security_keys_are_listed_in_buckets_by_kind_and_leave_them(
        store: Store, clock: FakeClock) -> None:
    for user_id in ("U1", "U2"):
        await add_user(store, user_id)
    for n in range(LISTING_BUCKET + 2):
        await store.security_keys.add("U1" if n % 2 else "U2", _key(n))
    await store.security_keys.add("U1", _key(999, KeyKind.U2F))
    ids, total = await store.security_keys.page(KeyKind.WEBAUTHN, LISTING_BUCKET - 1, 5)
    assert (ids, total) == ([f"WK{n:03d}" for n in range(LISTING_BUCKET - 1,
                                                         LISTING_BUCKET + 2)], LISTING_BUCKET + 2)
    assert await store.security_keys.page(KeyKind.U2F, 0, 5) == (["WK999"], 1)
    assert await store.security_keys.locate("WK005") == ("U1", "cred5")  # the place not shown

    assert await store.security_keys.delete("WK128", KeyKind.WEBAUTHN)
    assert await store.security_keys.page(KeyKind.WEBAUTHN, LISTING_BUCKET - 1, 5) == (
        ["WK127", "WK129"], LISTING_BUCKET + 1)
    user = await store.users.get("U1")
    assert user is not None
    assert await Trash(store, clock).purge(user, trashed_by_ms=None) is not None
    assert (await store.security_keys.page(KeyKind.WEBAUTHN, 0, 500))[0] == [
        f"WK{n:03d}" for n in range(0, LISTING_BUCKET + 2, 2) if n != 128]
    assert await store.security_keys.page(KeyKind.U2F, 0, 5) == ([], 0)
    assert await store.security_keys.locate("WK001") is None


async def test_security_keys_an_older_version_listed_come_first_and_leave(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_user(store, "U2")
    # As an older version wrote them: one sorted set, an index entry without a place.
    for n, user_id in ((1, "U1"), (2, "U2")):
        await store.redis.pipeline([
            ("HSET", store.keys.user_security_keys(user_id), f"cred{n}", key_to_json(_key(n))),
            ("HSET", store.keys.security_key_index(), f"WK{n:03d}", f"{user_id} cred{n}"),
            ("ZADD", store.keys.security_key_listing("webauthn"), n, f"WK{n:03d}")])
    await store.security_keys.add("U1", _key(3))
    assert await store.security_keys.page(KeyKind.WEBAUTHN, 0, 10) == (
        ["WK001", "WK002", "WK003"], 3)
    assert await store.security_keys.locate("WK002") == ("U2", "cred2")

    assert await store.security_keys.delete("WK002", KeyKind.WEBAUTHN)
    user = await store.users.get("U1")
    assert user is not None
    assert await Trash(store, clock).purge(user, trashed_by_ms=None) is not None
    assert await store.security_keys.page(KeyKind.WEBAUTHN, 0, 10) == ([], 0)
    assert await store.redis.execute("EXISTS", store.keys.security_key_listing("webauthn")) == 0


async def test_bypass_codes_are_listed_in_buckets_and_an_older_version_s_first(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_user(store, "U2")
    # As an older version wrote one: one sorted set, an owner entry without a place.
    old = bypass_code("h-old", "U2")
    await store.redis.pipeline([
        ("HSET", store.keys.user_bypass("U2"), "h-old", bypass_to_json(old.meta)),
        ("HSET", store.keys.bypass_owner_index(), old.meta.code_id, "U2"),
        ("ZADD", store.keys.bypass_codes(), 1, old.meta.code_id)])
    for batch in range(3):
        await store.bypass.add("U1", [bypass_code(f"h{batch}-{n}", "U1") for n in range(50)],
                               preserve=True, now_ms=clock.now_ms(), limit=1000)
    codes, total = await store.bypass.page(0, 1000, clock.now_ms())
    assert total == 151 and [code.code_id for code in codes][:2] == [
        old.meta.code_id, bypass_code("h0-0", "U1").meta.code_id]
    assert await store.redis.execute("OBJECT", "ENCODING",
                                     store.keys.bypass_codes_listing().bucket(0)) == "listpack"

    await store.bypass.delete(old.meta.code_id)
    user = await store.users.get("U1")
    assert user is not None
    assert await Trash(store, clock).purge(user, trashed_by_ms=None) is not None
    assert await store.bypass.page(0, 1000, clock.now_ms()) == ([], 0)
    assert await store.redis.execute("HLEN", store.keys.bypass_owner_index()) == 0


async def test_groups_and_integrations_are_listed_in_buckets_after_an_older_version_s(
        store: Store) -> None:
    # As an older version listed one of each: a sorted set, nothing in the record.
    await store.groups.create(Group(group_id="DGOLD", name="old"), order_ms=T0)
    await store.redis.pipeline([
        ("HDEL", store.keys.group("DGOLD"), "listed"),
        ("DEL", *(ListingKeys(store.keys.groups()).bucket(0),
                  ListingKeys(store.keys.groups()).counts)),
        ("ZADD", store.keys.groups(), T0, "DGOLD")])
    for n in range(3):
        await store.groups.create(Group(group_id=f"DG{n}", name=f"g{n}"), order_ms=T0 + n)
    groups, total = await store.groups.page(0, 10)
    assert ([group.group_id for group in groups], total) == (["DGOLD", "DG0", "DG1", "DG2"], 4)
    await store.groups.delete("DGOLD")
    await store.groups.delete("DG1")
    groups, total = await store.groups.page(0, 10)
    assert ([group.group_id for group in groups], total) == (["DG0", "DG2"], 2)

    for n in range(3):
        await store.integrations.create(Integration(
            ikey=f"DI{n}", name=f"app {n}", type=IntegrationType.AUTH, role=Role.READ_ONLY,
            sealed_skey="sealed", created=1_800_000_000), order_ms=T0 + n)
    await store.integrations.delete("DI1")
    assert [app.ikey for app in await store.integrations.all()] == ["DI0", "DI2"]
    assert await store.integrations.count() == 2
    apps, total = await store.integrations.page(1, 5)
    assert ([app.ikey for app in apps], total) == (["DI2"], 2)
