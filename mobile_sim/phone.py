"""A simulated phone: answers the pushes of its accounts according to a behaviour."""

from __future__ import annotations

import asyncio
import errno
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from mobile_sim.client import DeviceClient, DeviceError

LONG_POLL_S = 25


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one push: approve, deny, fraud or ignore (and the step-up code)."""

    answer: str
    step_up_code: str | None = None


def attribute(transaction: dict[str, Any], label: str) -> Any:
    """A push attribute by label, wherever the groups nest it."""
    for group in transaction.get("attributes", []):
        for pair in group:
            if isinstance(pair, list) and len(pair) == 2 and pair[0] == label:
                return pair[1]
    return None


def describe(transaction: dict[str, Any]) -> str:
    """One line about a push: urgid, user, application, and what it asks."""
    parts = [transaction["urgid"], f"user={attribute(transaction, 'Username')}",
             f"app={attribute(transaction, 'Application')}"]
    code = attribute(transaction, "Confirmation Code")
    if code:
        parts.append(f"confirmation_code={code}")
    if "step_up_code_info" in transaction:
        parts.append(f"verified_push_digits={transaction['step_up_code_info']['num_digits']}")
    return " ".join(parts)


Decider = Callable[[dict[str, Any]], Awaitable[Decision]]


def fixed(answer: str, code_file: Path | None = None) -> Decider:
    """Always the same answer; Verified Push codes read from `code_file` when given."""
    async def decide(transaction: dict[str, Any]) -> Decision:
        code = None
        if "step_up_code_info" in transaction and code_file is not None and answer == "approve":
            code = await read_code_file(code_file, transaction)
        return Decision(answer, code)
    return decide


async def read_code_file(path: Path, transaction: dict[str, Any]) -> str | None:
    """The code a script wrote into `path` (waits for it until the push expires)."""
    deadline = max(time.time() + 1.0, float(transaction.get("expiration", 0)))
    while time.time() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        await asyncio.sleep(0.1)
    return None


@dataclass
class Mix:
    """A random answer mix with a delay distribution, for fleets."""

    weights: dict[str, float]
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    rng: random.Random = field(default_factory=random.Random)

    async def decide(self, transaction: dict[str, Any]) -> Decision:
        delay = max(0.0, self.rng.gauss(self.delay_ms, self.jitter_ms)) / 1000
        if delay:
            await asyncio.sleep(delay)
        answers, weights = zip(*self.weights.items(), strict=True)
        return Decision(self.rng.choices(answers, weights)[0])


async def answer_one(client: DeviceClient, transaction: dict[str, Any],
                     decision: Decision) -> str:
    """Send the decision; returns what happened, for the log line."""
    if decision.answer == "ignore":
        return "ignored"
    try:
        await client.answer(transaction["urgid"],
                            "approve" if decision.answer == "approve" else "deny",
                            step_up_code=decision.step_up_code, fraud=decision.answer == "fraud")
    except DeviceError as exc:
        return f"refused ({exc.code} {exc.message})"
    return {"approve": "approved", "deny": "denied", "fraud": "reported fraud"}[decision.answer]


def failure_kind(exc: BaseException) -> str:
    """What a failed call counts as: the service's HTTP status, Duo code and message, or the
    class of the transport error (its message names one connection, so it does not group)."""
    if isinstance(exc, DeviceError):
        return str(exc)
    cause = getattr(exc, "os_error", exc)  # aiohttp's connector errors wrap the OSError
    code = cause.errno if isinstance(cause, OSError) else None
    if code is not None and code in errno.errorcode:  # groups: "refused", "no free port", ...
        return f"{type(exc).__name__} ({errno.errorcode[code]})"
    return type(exc).__name__


async def serve_account(session: aiohttp.ClientSession, client: DeviceClient, decide: Decider,
                        report: Callable[[str], None], stop: asyncio.Event,
                        poll_wait: float = LONG_POLL_S,
                        first_poll: Callable[[], None] | None = None,
                        failed: Callable[[BaseException], None] | None = None) -> None:
    """Long-poll the account's pushes (`poll_wait` s each) and answer each once until `stop`;
    the first poll does not wait, and `first_poll` is called once it is answered. A poll that
    fails is reported (and given to `failed`); one cut because the run ends is not: the caller
    cancels the task, which is not a failure."""
    seen: set[str] = set()
    polled = False
    while not stop.is_set():
        try:
            pending = await client.transactions(wait=poll_wait if polled else 0)
        except (aiohttp.ClientError, TimeoutError, DeviceError) as exc:
            report(f"{client.account.pkey} poll failed: {exc}")
            if failed is not None:
                failed(exc)
            await asyncio.sleep(1)
            continue
        if not polled and first_poll is not None:
            first_poll()
        polled = True
        fresh = [t for t in pending if t["urgid"] not in seen]
        for transaction in fresh:
            seen.add(transaction["urgid"])
            outcome = await answer_one(client, transaction, await decide(transaction))
            report(f"{describe(transaction)} -> {outcome}")
        if pending and not fresh:
            await asyncio.sleep(1)  # only ignored pushes wait: the long poll would not block
        seen.intersection_update(t["urgid"] for t in pending)
