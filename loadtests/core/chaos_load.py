"""The chaos run's traffic and its ledger: passcode and push sign-ins spread over every service
process while faults are injected, then a check that no decision was lost.

A decision is *made* when a request gets Duo's answer (allow or deny). It is *lost* when the
service later forgets it:

- a passcode accepted once (an HOTP code, whose counter then moved past it, or a single-use
  bypass code) is accepted again when replayed after every fault;
- a push a phone approved (``auth_status`` said allow) no longer reads as allowed.

A request that got no answer (503 while Redis was away, a refused connection while a process was
down, a timeout) is *failed*: the client cannot know whether it was decided, so it is neither
counted as made nor checked. HOTP codes are never retried: every attempt uses the next counter.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from loadtests.core.population import Person
from loadtests.core.signing import ApiError, DuoApi
from tokens.oath import oath_code

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)
AUTH_PATH, STATUS_PATH = "/auth/v2/auth", "/auth/v2/auth_status"
BYPASS_EVERY = 5  # every fifth passcode attempt of a user spends a bypass code
PAUSE_S = 0.1  # between one user's sign-ins: the point is correctness, not throughput
# After a failed request a user waits before the next one, so that an outage spends only a few
# of its HOTP counters (the look-ahead window is 20) and the failure count says something.
BACKOFF_S = 0.5
LOOKAHEAD = 20  # the account's hotp_lookahead_window (default)


@dataclass
class Ledger:
    """What the clients saw."""

    made: Counter[str] = field(default_factory=Counter)  # "passcode allow", "push deny", ...
    failed: Counter[str] = field(default_factory=Counter)  # by cause
    # (username, code, HOTP counter or None for a bypass code)
    accepted_codes: list[tuple[str, str, int | None]] = field(default_factory=list)
    next_counter: dict[str, int] = field(default_factory=dict)  # each user's first unused
    approved_pushes: list[str] = field(default_factory=list)  # txids
    decided_at: list[tuple[float, float]] = field(default_factory=list)  # (sent, answered)

    def decided(self, kind: str, result: str, sent: float) -> None:
        self.made[f"{kind} {result}"] += 1
        self.decided_at.append((sent, time.monotonic()))

    def fail(self, exc: BaseException) -> None:
        if isinstance(exc, ApiError):
            self.failed[f"HTTP {exc.status}"] += 1
        elif isinstance(exc, TimeoutError):
            self.failed["timeout"] += 1
        else:
            self.failed["connection"] += 1

    def first_decision_after(self, moment: float) -> float | None:
        """When the first request sent after `moment` was answered with a decision."""
        return min((answered for sent, answered in self.decided_at if sent > moment),
                   default=None)


FAILURES = (ApiError, aiohttp.ClientError, TimeoutError, OSError)


class Traffic:
    """Sign-ins of one run, spread round-robin over `apis` (one DuoApi per service process)."""

    def __init__(self, apis: Sequence[DuoApi], ledger: Ledger) -> None:
        self.apis = apis
        self.ledger = ledger
        self._next = itertools.cycle(range(len(apis)))
        self.stop = asyncio.Event()

    def api(self) -> DuoApi:
        return self.apis[next(self._next)]

    async def passcode_user(self, person: Person) -> None:
        """One user's sign-ins, one at a time (its HOTP counter moves one per attempt)."""
        secret, counter, codes = bytes.fromhex(person.tokens[0].secret_hex), 0, \
            list(person.bypass_codes)
        for attempt in itertools.count():
            if self.stop.is_set():
                return
            used: int | None = None
            if attempt % BYPASS_EVERY == BYPASS_EVERY - 1 and codes:
                code = codes.pop()
            else:
                code, used, counter = oath_code(secret, counter), counter, counter + 1
                self.ledger.next_counter[person.username] = counter
            answered = await self._passcode(person.username, code, used)
            await asyncio.sleep(PAUSE_S if answered else BACKOFF_S)

    async def _passcode(self, username: str, code: str, counter: int | None) -> bool:
        params = {"username": username, "factor": "passcode", "passcode": code}
        sent = time.monotonic()
        try:
            answer = await self.api().post(AUTH_PATH, params, REQUEST_TIMEOUT)
        except FAILURES as exc:
            self.ledger.fail(exc)
            return False
        self.ledger.decided("passcode", answer["result"], sent)
        if answer["result"] == "allow":
            self.ledger.accepted_codes.append((username, code, counter))
        return True

    async def push_user(self, username: str) -> None:
        """One user's pushes, one at a time: async auth, then auth_status until it ends."""
        while not self.stop.is_set():
            await self._push(username)
            await asyncio.sleep(PAUSE_S)

    async def _push(self, username: str) -> None:
        params = {"username": username, "factor": "push", "device": "auto", "async": "1"}
        sent = time.monotonic()
        try:
            txid = str((await self.api().post(AUTH_PATH, params, REQUEST_TIMEOUT))["txid"])
        except FAILURES as exc:
            self.ledger.fail(exc)
            await asyncio.sleep(BACKOFF_S)
            return
        while True:
            try:
                status = await self.api().get(STATUS_PATH, {"txid": txid}, REQUEST_TIMEOUT)
            except FAILURES as exc:
                self.ledger.fail(exc)
                if self.stop.is_set():
                    return
                await asyncio.sleep(BACKOFF_S)
                continue  # the push lives in Redis: ask again (maybe another process)
            if status["result"] != "waiting":
                break
        self.ledger.decided("push", status["result"], sent)
        if status["result"] == "allow":
            self.ledger.approved_pushes.append(txid)


def _future_codes(secrets: Mapping[str, bytes], ledger: Ledger) -> dict[str, set[str]]:
    """Per user, the codes the service may still accept: every counter from the first after
    the last accepted one to the client's next unused one plus the look-ahead window. A
    replayed code equal to one of these (one chance in 50,000 per counter) would be accepted
    legitimately, so it is not replayed."""
    last: dict[str, int] = {}
    for username, _, counter in ledger.accepted_codes:
        if counter is not None:
            last[username] = max(counter, last.get(username, -1))
    return {username: {oath_code(secret, k) for k in range(
        last.get(username, -1) + 1, ledger.next_counter.get(username, 0) + LOOKAHEAD)}
        for username, secret in secrets.items()}


async def _replay_user(apis: Sequence[DuoApi], codes: Sequence[tuple[str, str, int | None]],
                       future: set[str], tally: Counter[str], lost: list[str]) -> None:
    """One user's accepted codes, replayed one at a time (users side by side)."""
    for index, (username, code, counter) in enumerate(codes):
        if counter is not None and code in future:
            tally["replays_skipped"] += 1
            continue
        params = {"username": username, "factor": "passcode", "passcode": code}
        try:
            answer = await apis[index % len(apis)].post(AUTH_PATH, params, REQUEST_TIMEOUT)
        except FAILURES:
            tally["checks_unanswered"] += 1
            continue
        tally["codes_replayed"] += 1
        if answer["result"] == "allow":
            tally["replays_accepted"] += 1
            what = "a bypass code" if counter is None else f"HOTP counter {counter}"
            lost.append(f"{username}: {what} accepted again")


async def _replay(apis: Sequence[DuoApi], ledger: Ledger, secrets: Mapping[str, bytes],
                  tally: Counter[str], lost: list[str]) -> None:
    future = _future_codes(secrets, ledger)
    by_user: dict[str, list[tuple[str, str, int | None]]] = {}
    for entry in ledger.accepted_codes:
        by_user.setdefault(entry[0], []).append(entry)
    await asyncio.gather(*(_replay_user(apis, codes, future[username], tally, lost)
                           for username, codes in by_user.items()))


async def _reread(apis: Sequence[DuoApi], ledger: Ledger, tally: Counter[str],
                  lost: list[str]) -> None:
    for index, txid in enumerate(ledger.approved_pushes):
        try:
            status = await apis[index % len(apis)].get(STATUS_PATH, {"txid": txid},
                                                       REQUEST_TIMEOUT)
        except ApiError as exc:  # an unknown txid: the approval is gone
            status = {"result": f"HTTP {exc.status}"}
        except FAILURES:
            tally["checks_unanswered"] += 1
            continue
        tally["pushes_checked"] += 1
        if status["result"] != "allow":
            tally["pushes_missing"] += 1
            lost.append(f"push {txid}: approved, now {status['result']}")


async def check_nothing_lost(apis: Sequence[DuoApi], ledger: Ledger,
                             secrets: Mapping[str, bytes]) -> dict[str, Any]:
    """Replay every accepted code and read every approved push again; what came back."""
    tally: Counter[str] = Counter()
    lost: list[str] = []
    await _replay(apis, ledger, secrets, tally, lost)
    await _reread(apis, ledger, tally, lost)
    return {name: tally[name] for name in ("codes_replayed", "replays_skipped",
                                           "replays_accepted", "pushes_checked",
                                           "pushes_missing", "checks_unanswered")} | {
        "lost": lost[:20]}
