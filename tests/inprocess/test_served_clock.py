"""The in-process service runs on the test's clock: what it tells and what it waits for move
only when the test moves the clock."""

from __future__ import annotations

import gc
from pathlib import Path

import duo_client

from authsvc.app import FULL_COLLECTION_AFTER, YOUNG_COLLECTION_AFTER
from authsvc.store.slots import slot_tags
from tests.inprocess.serving import (
    InProcessService,
    ServedClock,
    WaitCountingClock,
    settings_for,
)


def test_the_service_tells_the_time_of_the_clock_the_test_moves(
        auth_api: duo_client.Auth, clock: ServedClock) -> None:
    assert auth_api.check()["time"] == int(clock.now())
    clock.advance(90)
    assert auth_api.check()["time"] == int(clock.now())
    assert auth_api.ping()["time"] == int(clock.now())


def test_a_started_service_makes_full_collections_rare(service: InProcessService) -> None:
    """Full passes over every live object (a million with 10,000 phones polling) stop the loop
    for up to 0.8 s and free nothing there: the started app tries one only after
    `FULL_COLLECTION_AFTER` younger passes (docs/performance.md, "The GC pauses")."""
    assert service.app is not None
    assert gc.get_threshold()[2] == FULL_COLLECTION_AFTER > 10


def test_a_started_service_leaves_the_objects_of_requests_in_flight_alone(
        service: InProcessService) -> None:
    """Young passes are for garbage: 2,500 live objects (the requests in flight of a full
    passcode bench passed 700 1,328 times in one run) start none, where CPython's default
    threshold would start three, each walking objects that are all alive (docs/performance.md,
    "Young collections")."""
    assert service.app is not None
    started: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.collect(0)  # the young count starts from zero
    gc.callbacks.append(count)
    try:
        alive: list[list[int]] = [[] for _ in range(2_500)]
    finally:
        gc.callbacks.remove(count)
    assert len(alive) == 2_500
    assert started == []
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_AFTER > len(alive)


def test_a_started_service_has_the_counters_shard_tags_ready(
        redis_url: str, fake_clock: WaitCountingClock, tmp_path: Path) -> None:
    """Finding one tag per hash slot takes ~124,000 CRCs (~34 ms): done at start-up, it does
    not stop the loop in the first sign-in that counts a user."""
    slot_tags.cache_clear()
    served = InProcessService(settings_for(redis_url, tmp_path / "service"), fake_clock).start()
    try:
        assert slot_tags.cache_info().currsize == 1
    finally:
        served.stop()
