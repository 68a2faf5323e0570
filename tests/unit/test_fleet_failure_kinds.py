"""The fleet groups failed calls by what failed: a refused connection names its errno, so a
load test's "poll errors" say whether the service was down, a port ran out, or a link broke."""

from __future__ import annotations

import socket

import aiohttp

from mobile_sim.phone import failure_kind


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_is_counted_with_its_errno() -> None:
    async with aiohttp.ClientSession() as session:
        try:
            await session.get(f"http://127.0.0.1:{_closed_port()}/push/v2/device/transactions")
        except aiohttp.ClientConnectorError as exc:
            kind = failure_kind(exc)
        else:
            raise AssertionError("a closed port accepted the connection")
    assert kind == "ClientConnectorError (ECONNREFUSED)"


def test_errors_without_an_errno_are_counted_by_class() -> None:
    assert failure_kind(aiohttp.ServerDisconnectedError()) == "ServerDisconnectedError"
    assert failure_kind(TimeoutError()) == "TimeoutError"
