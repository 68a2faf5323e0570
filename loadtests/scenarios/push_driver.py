"""The push bench's driver: keeps exactly N pushes outstanding for a fixed time.

``python -m loadtests push-driver --population FILE --in-flight N --warmup W --duration D
--out RESULT.json [--ramp S] [--async] [--rate R]`` (also ``python -m loadtests.push_driver``)

``--rate R`` is the open loop: one push started every 1/R s (each to the next user, round robin)
whatever is still out, so the service's latency at that offered rate is measured without the
closed loop's self-throttling; ``--in-flight`` is then ignored.

N slots each loop: take the next idle user, send ``POST /auth/v2/auth factor=push
device=auto`` (signed as duo_client signs it) and wait for the answer (synchronous: the call
returns when the phone has answered; ``--async``: ``async=1`` then ``auth_status`` long polls
until the push ended), then give the user back. A user is handed to at most K slots at once
(K = the users' share of N, rounded up), so no user has more than K pushes waiting: keep K
within the service's ``push_max_outstanding`` (3 by default) or raise that setting first.

The slots start evenly over ``--ramp`` s: started all at once, N pushes (and N TLS
handshakes) arrive together and then keep moving through the service and the phones in step,
one wave, so that each stage alternately idles and queues the whole wave. It warms up for W s,
and at least until every slot has seen its first push end (reported as ``startup_s``), then
measures D s: every push that *ends* in the window counts, with its round trip (request
sent -> final answer received). Then it stops starting pushes and waits (at most ``--drain``
s) for those still out. Markers on stdout (``[driver] measuring`` / ``[driver] measured``) let
the bench sample CPU over the same window; the figures go to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from loadtests.core.population import PushPopulation
from loadtests.core.signing import DuoApi, client_ssl
from loadtests.core.tally import Tally, outcome_of

REQUEST_TIMEOUT_S = 75.0  # the service's push_timeout (60 s) plus a margin
MEASURING = "[driver] measuring"
MEASURED = "[driver] measured"


def user_pool(usernames: Sequence[str], in_flight: int) -> tuple[deque[str], int]:
    """Each user ``ceil(in_flight / users)`` times, round robin; and that multiplicity."""
    per_user = math.ceil(in_flight / len(usernames))
    return deque(name for _ in range(per_user) for name in usernames), per_user


class Driver:
    """N slots pushing in a loop until told to stop."""

    def __init__(self, api: DuoApi, pool: deque[str], *, slots: int, run_async: bool) -> None:
        self._api = api
        self._pool = pool
        self._async = run_async
        self._timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        self.tally = Tally()
        self.stopping = False
        self.started_slots = 0
        self.all_started = asyncio.Event()
        self._slots = slots

    async def _one(self, username: str) -> None:
        began = time.monotonic()
        self.tally.start(began)
        try:
            if self._async:
                answer = await self._api.push_async(username, self._timeout)
            else:
                answer = await self._api.push(username, self._timeout)
        except Exception as exc:  # any failure is counted (by type), and the slot goes on
            self.tally.error(began, time.monotonic(), exc)
            return
        self.tally.record(began, time.monotonic(), outcome_of(answer), str(answer.get("status")))

    async def slot(self, delay: float = 0.0) -> None:
        """After `delay` s, push in a loop; the first push that ends counts this slot as started."""
        await asyncio.sleep(delay)
        first = True
        while not self.stopping:
            username = self._pool.popleft()
            try:
                await self._one(username)
            finally:
                self._pool.append(username)
            if first:
                first = False
                self.started_slots += 1
                if self.started_slots == self._slots:
                    self.all_started.set()


    async def paced(self, rate: float) -> None:
        """The open loop: a push every 1/`rate` s until stopping (late ticks fire at once, so
        the offered rate holds when the loop falls behind); cancelled, it cancels what is out."""
        users, began, number = list(self._pool), time.monotonic(), 0
        out: set[asyncio.Task[None]] = set()
        try:
            while not self.stopping:
                task = asyncio.create_task(self._one(users[number % len(users)]))
                out.add(task)
                task.add_done_callback(out.discard)
                number += 1
                if number == 1:
                    self.all_started.set()
                await asyncio.sleep(max(0.0, began + number / rate - time.monotonic()))
            await asyncio.gather(*out)
        finally:
            for task in out:
                task.cancel()


def _say(line: str) -> None:
    print(line, flush=True)


async def _started(driver: Driver, limit: float) -> float:
    """Seconds until every slot's first push ended (`limit` if that takes longer)."""
    began = time.monotonic()
    try:
        async with asyncio.timeout(limit):
            await driver.all_started.wait()
    except TimeoutError:
        _say(f"[driver] only {driver.started_slots} slots had a push end within {limit:g} s")
    return time.monotonic() - began


async def _drain(driver: Driver, slots: list[asyncio.Task[None]], drain: float) -> int:
    """Stop starting pushes, wait at most `drain` s for those still out; how many were left."""
    driver.stopping = True
    _, pending = await asyncio.wait(slots, timeout=drain)
    for task in pending:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*pending, return_exceptions=True)
    return len(pending)


async def _window(driver: Driver, start: float, warmup: float, duration: float,
                  startup: float) -> float:
    """Measure `duration` s once `warmup` s have passed since `start`; its start."""
    await asyncio.sleep(max(0.0, start + warmup - time.monotonic()))
    window_start = time.monotonic()
    driver.tally.window_start, driver.tally.window_end = window_start, window_start + duration
    _say(f"{MEASURING} {duration:g} s after {window_start - start:.1f} s of warm-up "
         f"(every slot's first push had ended after {startup:.1f} s)")
    await asyncio.sleep(duration)
    _say(MEASURED)
    return window_start


async def drive(population: PushPopulation, *, in_flight: int, warmup: float, duration: float,
                drain: float, run_async: bool, ramp: float = 0.0,
                max_warmup: float = 60.0, rate: float = 0.0) -> dict[str, Any]:
    """Run the slots (or, with `rate`, the open loop) through warm-up, the measured window and
    the drain; the summary."""
    pool, per_user = user_pool(population.usernames, in_flight)
    connector = aiohttp.TCPConnector(limit=0, ssl=client_ssl(population.ca_file))
    async with aiohttp.ClientSession(connector=connector) as session:
        api = DuoApi(session, population.base_url, population.ikey, population.skey,
                     client_ssl(population.ca_file))
        driver = Driver(api, pool, slots=in_flight, run_async=run_async)
        start = time.monotonic()
        if rate > 0:
            slots = [asyncio.create_task(driver.paced(rate))]
            _say(f"[driver] open loop: {rate:g} pushes/s over {len(population.usernames)} users, "
                 f"{'async' if run_async else 'sync'}")
        else:
            slots = [asyncio.create_task(driver.slot(ramp * number / in_flight))
                     for number in range(in_flight)]
            _say(f"[driver] {in_flight} pushes in flight over {len(population.usernames)} users "
                 f"(at most {per_user} per user), {'async' if run_async else 'sync'}, slots "
                 f"started over {ramp:g} s")
        startup = await _started(driver, max_warmup)
        window_start = await _window(driver, start, warmup, duration, startup)
        pending = await _drain(driver, slots, drain)
    summary = driver.tally.summary(duration, pending)
    summary.update(in_flight=in_flight, per_user=per_user, users=len(population.usernames),
                   rate=rate,
                   mode="async" if run_async else "sync", ramp_s=ramp, startup_s=startup,
                   warmup_s=window_start - start)
    _say(f"[driver] done: {summary['ended']} pushes ended in the window, "
         f"{pending} still out after the drain")
    return summary


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--population", type=Path, required=True,
                        help="from python -m loadtests push-seed (or the bench)")
    parser.add_argument("--in-flight", type=int, default=1000, help="pushes outstanding (1000)")
    parser.add_argument("--warmup", type=float, default=5.0,
                        help="at least this many seconds before measuring, and until every slot "
                             "has seen a push end (5)")
    parser.add_argument("--ramp", type=float, default=0.0,
                        help="start the slots evenly over this many seconds (0: all at once); "
                             "started together, the pushes stay in step as one wave")
    parser.add_argument("--max-warmup", type=float, default=60.0,
                        help="measure after this many seconds even if some slot has not (60)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured (15)")
    parser.add_argument("--drain", type=float, default=10.0,
                        help="seconds to wait for the pushes still out at the end (10)")
    parser.add_argument("--async", dest="run_async", action="store_true",
                        help="async=1 + auth_status long polls instead of a blocking auth")
    parser.add_argument("--rate", type=float, default=0.0, metavar="R",
                        help="open loop: start R pushes per second whatever is still out "
                             "(0: the closed loop of --in-flight)")
    parser.add_argument("--out", type=Path, required=True, help="JSON figures to write")
    return parser


def main(argv: Sequence[str] | None = None,
         prog: str = "python -m loadtests push-driver") -> int:
    """Drive, then write the summary to ``--out``."""
    parser = _parser(prog)
    args = parser.parse_args(argv)
    population = PushPopulation.load(args.population)
    if args.in_flight < 1 or not population.usernames:
        parser.error("--in-flight must be positive and the population not empty")
    try:
        summary = asyncio.run(drive(population, in_flight=args.in_flight, warmup=args.warmup,
                                    duration=args.duration, drain=args.drain,
                                    run_async=args.run_async, ramp=args.ramp,
                                    max_warmup=args.max_warmup, rate=args.rate))
    except KeyboardInterrupt:
        return 130
    args.out.write_text(json.dumps(summary, indent=2))
    return 0
