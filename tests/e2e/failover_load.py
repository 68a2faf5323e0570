"""Passcode load across a Redis failover, and what it must prove.

Many concurrent duo_client.Auth callers submit bypass codes over HTTP: every single-use code
twice at once, every 3-use code five times. A request answered 503 (Redis failing over) is sent
again until it gets a decision. Meanwhile the test kills a master. Afterwards:

- no code is accepted more often than it may be (a single-use code once, a 3-use code three
  times), even counting a second round of every code after the failover (a code accepted before
  the kill and lost with its master would be accepted again);
- no use disappears silently: a code admits fewer than it may only if some of its requests
  were answered 503 (a use consumed while its answer was lost or refused);
- the service answers again within a bounded time of the kill, and no request waits long.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import duo_client

from tests.conftest import IntegrationPair

MULTI_USES = 3
SINGLE_CODES = 4


@dataclass
class Population:
    user_ids: dict[str, str] = field(default_factory=dict)  # name -> user id
    single: dict[str, list[str]] = field(default_factory=dict)  # name -> single-use codes
    multi: dict[str, str] = field(default_factory=dict)  # name -> its 3-use code


def populate(admin: duo_client.Admin, users: int) -> Population:
    admin.update_settings(lockout_threshold=9999)
    people = Population()
    for n in range(users):
        name = f"fo{n}"
        user_id = admin.add_user(name)["user_id"]
        people.user_ids[name] = user_id
        people.single[name] = admin.add_user_bypass_codes(user_id, count=SINGLE_CODES,
                                                          remaining_uses=1)
        people.multi[name] = admin.add_user_bypass_codes(
            user_id, count=1, remaining_uses=MULTI_USES, preserve_existing=True)[0]
    return people


@dataclass
class Outcome:
    allows: Counter[str] = field(default_factory=Counter)
    unavailable: Counter[str] = field(default_factory=Counter)
    answered: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: defaultdict(list))  # name -> (sent, answered) of decisions
    slowest_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _submit(client: duo_client.Auth, name: str, code: str, outcome: Outcome,
            deadline: float) -> str:
    """One decision for (name, code), sending again after each 503."""
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            result = str(client.auth("passcode", username=name, passcode=code)["result"])
        except RuntimeError as exc:
            assert getattr(exc, "status", None) == 503, exc  # never a 500
            with outcome.lock:
                outcome.unavailable[code] += 1
                outcome.slowest_s = max(outcome.slowest_s, time.monotonic() - started)
            time.sleep(0.05)
            continue
        with outcome.lock:
            outcome.slowest_s = max(outcome.slowest_s, time.monotonic() - started)
            outcome.answered[name].append((started, time.monotonic()))
            if result == "allow":
                outcome.allows[code] += 1
        return result
    raise AssertionError(f"no decision for {name} before the deadline")


def run_load(port: int, keys: IntegrationPair, people: Population, *, workers: int,
             on_progress: Callable[[float], None], timeout: float = 90.0) -> Outcome:
    """Every task once (tasks of one code released together); `on_progress(fraction done)`
    is called after each task."""
    tasks = [(name, code) for name, codes in people.single.items() for code in codes
             for _ in range(2)]
    tasks += [(name, code) for name, code in people.multi.items() for _ in range(MULTI_USES + 2)]
    random.Random(7).shuffle(tasks)
    outcome, done, deadline = Outcome(), [0], time.monotonic() + timeout
    local = threading.local()

    def one(task: tuple[str, str]) -> None:
        if not hasattr(local, "client"):
            local.client = duo_client.Auth(keys.auth.ikey, keys.auth.skey, "127.0.0.1",
                                           ca_certs="HTTP", port=port)
        _submit(local.client, *task, outcome, deadline)
        with outcome.lock:
            done[0] += 1
            fraction = done[0] / len(tasks)
        on_progress(fraction)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, tasks))
    return outcome


def check_decisions(port: int, keys: IntegrationPair, people: Population,
                    outcome: Outcome) -> None:
    """No code admitted beyond its uses, before or after the failover; none lost silently."""
    client = duo_client.Auth(keys.auth.ikey, keys.auth.skey, "127.0.0.1", ca_certs="HTTP",
                             port=port)
    replay = Outcome()
    for name, codes in people.single.items():
        for code in [*codes, people.multi[name]]:
            _submit(client, name, code, replay, time.monotonic() + 30)
    for name, codes in people.single.items():
        for code in codes:
            total = outcome.allows[code] + replay.allows[code]
            assert total <= 1, f"single-use code of {name} accepted {total} times"
            assert total == 1 or outcome.unavailable[code] > 0, \
                f"a single-use code of {name} was used up without any answer saying so"
        multi = people.multi[name]
        total = outcome.allows[multi] + replay.allows[multi]
        assert total <= MULTI_USES, f"{MULTI_USES}-use code of {name} accepted {total} times"
        assert total >= MULTI_USES - outcome.unavailable[multi], \
            f"{MULTI_USES}-use code of {name}: uses lost without an answer saying so"


def recovery_s(outcome: Outcome, victims: set[str], killed_at: float) -> float:
    """Seconds from the kill to the first decision, asked after the kill, for a user whose
    keys lived on the killed master."""
    after = [answered for name in victims for sent, answered in outcome.answered[name]
             if sent > killed_at]
    assert after, "no user of the killed master was served after the kill"
    return min(after) - killed_at
