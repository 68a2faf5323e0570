"""The first end-to-end path: duo_client against the service process."""

from __future__ import annotations

import duo_client


def test_ping_and_check_answer_with_the_server_time(auth_api: duo_client.Auth) -> None:
    assert auth_api.ping()["time"] > 1_700_000_000
    assert auth_api.check()["time"] > 1_700_000_000
