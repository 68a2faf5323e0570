"""The in-process service runs on the test's clock: what it tells and what it waits for move
only when the test moves the clock."""

from __future__ import annotations

import duo_client

from tests.inprocess.serving import ServedClock


def test_the_service_tells_the_time_of_the_clock_the_test_moves(
        auth_api: duo_client.Auth, clock: ServedClock) -> None:
    assert auth_api.check()["time"] == int(clock.now())
    clock.advance(90)
    assert auth_api.check()["time"] == int(clock.now())
    assert auth_api.ping()["time"] == int(clock.now())
