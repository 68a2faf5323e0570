"""Waiters hand each registration the news every announcement carried (None: read again)."""

from __future__ import annotations

from authsvc.domain.events import Waiters


async def test_announcements_carry_their_news_to_every_waiter_of_the_topic() -> None:
    waiters = Waiters()
    with waiters.watch_news("phone:P1") as first, waiters.watch_news("phone:P1") as second, \
            waiters.watch_news("phone:P2") as other:
        waiters.announce("phone:P1", "entry 1")
        waiters.announce("phone:P1")
        assert first.event.is_set() and second.event.is_set() and not other.event.is_set()
        assert first.news == second.news == ["entry 1", None]
        assert other.news == []


async def test_a_reconnect_or_a_stop_wakes_everybody_without_news() -> None:
    waiters = Waiters()
    with waiters.watch_news("tx:T1") as waiter:
        waiters.announce_all()
        assert waiter.event.is_set() and waiter.news == [None]
    waiters.close()
    with waiters.watch_news("phone:P1") as late:
        assert late.event.is_set() and late.news == [None]


async def test_a_closed_waiter_hears_nothing_more() -> None:
    waiters = Waiters()
    with waiters.watch_news("phone:P1") as waiter:
        pass
    waiters.announce("phone:P1", "entry")
    assert waiter.news == [] and not waiter.event.is_set()
