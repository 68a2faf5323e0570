"""The authentication log stream against a real Redis: time windows, order, paging with
next_offset, filters, and entries appended by a clock that is behind the stream."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from authsvc.domain.authlog import AuthLog, auth_record
from authsvc.model.authlog import TEXT_LIMIT, AttemptFacts, LogPage, LogQuery
from authsvc.model.factors import LogFactor
from authsvc.model.verdicts import Result, Verdict
from authsvc.store import Redis, Store

# Far enough ahead of any real clock that Redis's automatic ids never run ahead of these times.
BASE_MS = 4_102_444_800_000  # 2100-01-01
END_OF_TIME = 2**63 - 1


def record(n: int, *, user: str = "U1", result: str = "success", factor: str = "passcode",
           app: str = "DI1") -> dict[str, Any]:
    return {"txid": f"tx-{n}", "timestamp": BASE_MS // 1000, "result": result, "factor": factor,
            "event_type": "authentication", "user": {"key": user, "name": user.lower()},
            "application": {"key": app, "name": "app"}}


async def append_at(store: Store, times_ms: list[int], **fields: str) -> None:
    for n, at in enumerate(times_ms):
        await store.authlog.append(record(n, **fields) | {"at": at}, at)


def txids(page: LogPage) -> list[str]:
    return [r["txid"] for r in page.records]


def ats(page: LogPage) -> list[int]:
    return [r["at"] for r in page.records]


async def all_pages(store: Store, query: LogQuery) -> list[LogPage]:
    """Follow next_offset the way a client does (the id half of the cursor goes back in)."""
    pages = [await store.authlog.query(query)]
    while (cursor := pages[-1].next_offset) is not None:
        assert len(pages) < 1000, "paging does not end"
        assert cursor[1].startswith(f"{cursor[0]}-")
        pages.append(await store.authlog.query(
            LogQuery(query.mintime, query.maxtime, query.limit, query.ascending,
                         after=cursor[1], filters=query.filters)))
    return pages


def window(mintime: int = BASE_MS, maxtime: int = END_OF_TIME, *, limit: int = 100,
           ascending: bool = False,
           filters: Mapping[str, frozenset[str]] | None = None) -> LogQuery:
    return LogQuery(mintime, maxtime, limit, ascending, filters=filters or {})


async def test_an_appended_record_is_read_back_unchanged(store: Store) -> None:
    entry = record(1) | {"access_device": {"ip": "10.0.0.1", "location": {"city": None}},
                         "alias": "ünïcode"}
    await store.authlog.append(entry, BASE_MS)

    page = await store.authlog.query(window())

    assert page.records == [entry]
    assert (page.total, page.next_offset) == (1, None)


async def test_the_time_window_is_inclusive_at_both_ends_in_milliseconds(store: Store) -> None:
    await append_at(store, [BASE_MS + 999, BASE_MS + 1000, BASE_MS + 1500, BASE_MS + 2000,
                            BASE_MS + 2001])

    inside = await store.authlog.query(window(BASE_MS + 1000, BASE_MS + 2000, ascending=True))
    single = await store.authlog.query(window(BASE_MS + 1500, BASE_MS + 1500))
    between = await store.authlog.query(window(BASE_MS + 1001, BASE_MS + 1499))

    assert ats(inside) == [BASE_MS + 1000, BASE_MS + 1500, BASE_MS + 2000]
    assert inside.total == 3
    assert ats(single) == [BASE_MS + 1500]
    assert (between.records, between.total) == ([], 0)


async def test_several_records_in_one_millisecond_are_all_in_its_window(store: Store) -> None:
    await append_at(store, [BASE_MS + 5] * 4 + [BASE_MS + 6])

    page = await store.authlog.query(window(BASE_MS + 5, BASE_MS + 5, ascending=True))

    assert txids(page) == ["tx-0", "tx-1", "tx-2", "tx-3"]


async def test_records_come_newest_first_by_default_and_oldest_first_when_ascending(
        store: Store) -> None:
    times = [BASE_MS + n * 10 for n in range(5)]
    await append_at(store, times)

    newest_first = await store.authlog.query(window())
    oldest_first = await store.authlog.query(window(ascending=True))

    assert ats(newest_first) == times[::-1]
    assert ats(oldest_first) == times


@pytest.mark.parametrize("ascending", [False, True])
@pytest.mark.parametrize("limit", [1, 4, 7, 40, 41])
async def test_paging_with_next_offset_visits_every_record_exactly_once(
        store: Store, ascending: bool, limit: int) -> None:
    # 40 records, several sharing a millisecond, so cursors must name entries, not times.
    times = [BASE_MS + (n // 3) * 7 for n in range(40)]
    await append_at(store, times)

    pages = await all_pages(store, window(limit=limit, ascending=ascending))

    seen = [tx for page in pages for tx in txids(page)]
    expected = [f"tx-{n}" for n in range(40)]
    assert seen == (expected if ascending else expected[::-1])
    assert len(pages) == -(-40 // limit)
    assert all(len(page.records) == limit for page in pages[:-1])
    assert pages[0].total == 40
    assert [page.total for page in pages] == [40 - i * limit for i in range(len(pages))]
    assert pages[-1].next_offset is None


@pytest.mark.parametrize("ascending", [False, True])
async def test_paging_stays_inside_the_window(store: Store, ascending: bool) -> None:
    await append_at(store, [BASE_MS + n for n in range(30)])

    pages = await all_pages(store, window(BASE_MS + 10, BASE_MS + 19, limit=3,
                                          ascending=ascending))

    seen = sorted(at for page in pages for at in ats(page))
    assert seen == [BASE_MS + n for n in range(10, 20)]


async def test_paging_through_more_records_than_one_scan_batch(store: Store) -> None:
    # The store reads the stream 500 entries at a time: cross several batches.
    for n in range(1234):
        await store.authlog.append(record(n) | {"at": n}, BASE_MS + n // 2)

    for ascending in (False, True):
        pages = await all_pages(store, window(limit=1000, ascending=ascending))
        seen = [at for page in pages for at in ats(page)]
        assert sorted(seen) == list(range(1234))
        assert seen == sorted(seen, reverse=not ascending)
        assert (len(pages), pages[0].total) == (2, 1234)


async def test_filters_select_records_by_field_path(store: Store) -> None:
    await append_at(store, [BASE_MS + n for n in range(3)], user="U1", result="success")
    await append_at(store, [BASE_MS + 10 + n for n in range(2)], user="U2", result="denied")
    await append_at(store, [BASE_MS + 20], user="U3", result="fraud", app="DI2")

    by_user = await store.authlog.query(window(filters={"user.key": frozenset({"U2", "U3"})}))
    by_result = await store.authlog.query(window(filters={"result": frozenset({"denied"})}))
    combined = await store.authlog.query(window(filters={
        "result": frozenset({"denied", "fraud"}), "application.key": frozenset({"DI2"})}))
    nothing = await store.authlog.query(window(filters={"user.key": frozenset({"U9"})}))
    missing_path = await store.authlog.query(window(filters={"user.nope": frozenset({"x"})}))

    assert [r["user"]["key"] for r in by_user.records] == ["U3", "U2", "U2"]
    assert by_user.total == 3
    assert ats(by_result) == [BASE_MS + 11, BASE_MS + 10]
    assert [r["user"]["key"] for r in combined.records] == ["U3"]
    assert (nothing.records, nothing.total, nothing.next_offset) == ([], 0, None)
    assert missing_path.records == []


@pytest.mark.parametrize("ascending", [False, True])
async def test_filtered_paging_visits_every_match_exactly_once(
        store: Store, ascending: bool) -> None:
    for n in range(30):
        await store.authlog.append(record(n, user=f"U{n % 3}") | {"at": n}, BASE_MS + n)
    filters = {"user.key": frozenset({"U1"})}

    pages = await all_pages(store, window(limit=4, ascending=ascending, filters=filters))

    seen = [at for page in pages for at in ats(page)]
    expected = [n for n in range(30) if n % 3 == 1]
    assert seen == (expected if ascending else expected[::-1])
    assert pages[0].total == 10


async def test_an_entry_from_a_clock_behind_the_newest_entry_still_lands_after_it(
        store: Store) -> None:
    await store.authlog.append(record(1), BASE_MS + 10_000)

    await store.authlog.append(record(2), BASE_MS)  # this process's clock is behind

    newest_first = await store.authlog.query(window(BASE_MS, BASE_MS + 10_000))
    assert txids(newest_first) == ["tx-2", "tx-1"]
    [(entry_id, _)] = await store.redis.execute("XREVRANGE", store.keys.authlog(), "+", "-",
                                                "COUNT", 1)
    assert entry_id.split("-")[0] == str(BASE_MS + 10_000)
    assert await store.redis.execute("XLEN", store.keys.authlog()) == 2


async def test_entries_from_a_lagging_clock_page_correctly(store: Store) -> None:
    await store.authlog.append(record(0), BASE_MS + 50)
    for n in range(1, 6):
        await store.authlog.append(record(n), BASE_MS + n)  # all behind the first

    pages = await all_pages(store, window(limit=2, ascending=True))

    assert [tx for page in pages for tx in txids(page)] == [f"tx-{n}" for n in range(6)]


async def test_the_stream_is_trimmed_near_its_configured_length(redis_url: str) -> None:
    store = Store(Redis.from_url(redis_url), authlog_max_entries=50)
    try:
        await store.start()
        for n in range(2000):
            await store.authlog.append(record(n), BASE_MS + n)
        length = await store.redis.execute("XLEN", store.keys.authlog())
        newest = await store.authlog.query(window(limit=1))
    finally:
        await store.close()

    # MAXLEN ~ trims whole stream nodes (100 entries by default), never below the limit.
    assert 50 <= length < 2000
    assert txids(newest) == ["tx-1999"]


async def test_entries_older_than_the_retention_are_trimmed(redis_url: str) -> None:
    day_ms = 86_400_000
    store = Store(Redis.from_url(redis_url), authlog_retention_ms=2 * day_ms)
    try:
        await store.start()
        for n in range(500):  # five stream nodes, ten days old
            await store.authlog.append(record(n), BASE_MS + n)
        await store.authlog.append(record(500), BASE_MS + 10 * day_ms)
        length = await store.redis.execute("XLEN", store.keys.authlog())
        kept = await store.authlog.query(window(limit=10))
    finally:
        await store.close()

    # MINID ~ trims whole stream nodes: at most one node of old entries may stay a while.
    assert length <= 101
    assert txids(kept)[0] == "tx-500"


def facts(text: str) -> AttemptFacts:
    return AttemptFacts(txid="8c5b0f3e-5a6f-4f0e-9f43-1f3c2b0a9d11", app_key="DIXXXXXXXXXXXXXXXXXX",
                        app_name=text, user_id="DUXXXXXXXXXXXXXXXXXX", username=text,
                        alias=text, email=text, ipaddr="2001:db8::1", hostname=text)


async def test_an_authentication_entry_reads_back_as_duos_record_and_its_size_is_bounded(
        store: Store) -> None:
    verdict = Verdict(Result.ALLOW, "allow", "Success.", "valid_passcode",
                      LogFactor.HARDWARE_TOKEN, device="")
    now = 4_102_444_800.123
    await AuthLog(store).record(facts("pat"), verdict, now)
    await AuthLog(store).record(facts("é" * 100_000), verdict, now + 1)
    page = await store.authlog.query(window(limit=10, ascending=True))
    assert page.records[0] == auth_record(facts("pat"), verdict, now)
    assert page.records[0]["isotimestamp"] == "2100-01-01T00:00:00.123+00:00"
    assert page.records[1]["user"]["name"] == "é" * TEXT_LIMIT
    entries = await store.redis.execute("XRANGE", store.keys.authlog(), "-", "+")
    sizes = [len(fields[1].encode()) for _, fields in entries]
    # Six free-text fields of at most TEXT_LIMIT characters (4 bytes each in UTF-8), plus ids.
    assert sizes[0] < 250 and sizes[1] <= 6 * TEXT_LIMIT * 4 + 250
