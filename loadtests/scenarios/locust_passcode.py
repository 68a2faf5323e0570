"""Realistic sign-ins: people press their HOTP tokens in order, mistype, replay a code, or use a
bypass code; every request is signed exactly as duo_client signs it (`loadtests.core.signing`).

From the repository root, against a running service (one command):

    .venv/bin/locust -f loadtests/locustfile.py --headless -u 50 -r 10 -t 30s \\
        --host http://127.0.0.1:8080

On test start this scenario seeds its own population with ``python -m loadtests seed`` (a fresh
username prefix each time, so runs never share codes), in the service's Redis found the way
``authsvc integration create`` finds it: ``AUTHSVC_REDIS_URL`` or the Redis serving
``AUTHSVC_DATA_DIR`` (default ``./var``), and ``AUTHSVC_SECRET_KEY`` or ``DATA_DIR/secret.key``.
``--population FILE`` uses a file written by ``python -m loadtests seed`` instead (once: codes
are single use). Each locust user is one person; a person is never shared, so their codes reach
the service in the order they pressed them.

What counts as a success: an ``allow`` for a fresh code or an unused bypass code, a ``deny`` for
a mistyped or replayed code, ``auth`` (with the person's tokens listed) for preauth. Anything else,
including 4xx/5xx, is a failure naming what came back.
"""

from __future__ import annotations

import logging
import os
import random
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner

from loadtests.core.locust import Signer, answer_of, describe
from loadtests.core.population import Person, Population
from loadtests.core.service import ROOT
from loadtests.core.signing import AUTH_PATH, PREAUTH_PATH, passcode_params
from tokens.oath import HotpToken, oath_code

log = logging.getLogger("loadtests")
HOTP_WINDOW = 20  # the service's default look-ahead; a typo must not land inside it


class Roster:
    """The seeded people not yet taken by a locust user, and the integration to sign with."""

    ikey = ""
    skey = ""
    people: deque[Person] = deque()

    @classmethod
    def fill(cls, population: Population) -> None:
        cls.ikey, cls.skey = population.ikey, population.skey
        cls.people = deque(population.people)


def _options(parser: Any) -> None:
    parser.add_argument("--population", default="", env_var="LOADTEST_POPULATION",
                        help="population JSON from `python -m loadtests seed` (default: seed now)")
    parser.add_argument("--seed-users", type=int, default=0,
                        help="people to seed (default: the number of locust users)")
    parser.add_argument("--tokens-per-user", type=int, default=2, help="h6 tokens per person (2)")
    parser.add_argument("--bypass-codes", type=int, default=3, help="bypass codes per person (3)")


def _seed(options: Any) -> Population:
    count = max(options.seed_users, options.num_users or 1)
    with tempfile.TemporaryDirectory(prefix="authsvc-locust-") as folder:
        out = Path(folder) / "population.json"
        subprocess.run([sys.executable, "-m", "loadtests", "seed", "--users", str(count),
                        "--tokens-per-user", str(options.tokens_per_user),
                        "--bypass-codes", str(options.bypass_codes), "--out", str(out)],
                       cwd=ROOT, check=True, env=dict(os.environ))
        return Population.load(out)


def _populate(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        return  # each worker seeds its own people
    options = environment.parsed_options
    if options is None:
        raise RuntimeError("run through the locust command (its options configure seeding)")
    population = Population.load(Path(options.population)) if options.population \
        else _seed(options)
    Roster.fill(population)
    log.info("%d people ready (auth integration %s)", len(population.people), population.ikey)


# locust's EventHook.add_listener carries no annotations.
events.init_command_line_parser.add_listener(_options)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_populate)  # type: ignore[no-untyped-call]


class TokenHolder(FastHttpUser):
    """One person with HOTP tokens (pressed in turn) and a few bypass codes."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        if not Roster.people:
            raise StopUser("no seeded person left (seed more with --seed-users)")
        self.person = Roster.people.popleft()
        self.tokens = [HotpToken(bytes.fromhex(token.secret_hex), token.serial)
                       for token in self.person.tokens]
        self.bypass_codes = list(self.person.bypass_codes)
        self.presses = 0
        self.last_accepted = ""
        self.signer = Signer(Roster.ikey, Roster.skey, self.host or "")

    def _passcode(self, name: str, code: str, expect: str) -> None:
        params = passcode_params(self.person.username, code)
        with self.signer.post(self.client, AUTH_PATH, params, name) as response:
            result = answer_of(response).get("result")
            if result == expect:
                response.success()
            else:
                response.failure(f"expected {expect}, got {result or describe(response)}")
        if result == "allow":
            self.last_accepted = code

    def _press(self) -> str:
        token = self.tokens[self.presses % len(self.tokens)]
        self.presses += 1
        return token.press()

    def _typo(self) -> str:
        live = {oath_code(token.secret, token.counter + ahead)
                for token in self.tokens for ahead in range(HOTP_WINDOW)}
        while (code := f"{random.randrange(10**6):06d}") in live:
            pass
        return code

    @task(10)
    def sign_in(self) -> None:
        """Preauth lists the person's tokens, then the next code of one of them is allowed."""
        params = {"username": self.person.username}
        with self.signer.post(self.client, PREAUTH_PATH, params, "preauth") as response:
            answer = answer_of(response)
            if answer.get("result") == "auth" and len(answer.get("devices", [])) == len(self.tokens):
                response.success()
            else:
                response.failure(f"expected auth with {len(self.tokens)} devices, got "
                                 f"{answer.get('result') or describe(response)}")
                return
        self._passcode("auth: token code", self._press(), "allow")

    @task(2)
    def typo_then_retry(self) -> None:
        """A mistyped code is denied; the retry with the real code is allowed."""
        self._passcode("auth: mistyped code", self._typo(), "deny")
        self._passcode("auth: token code", self._press(), "allow")

    @task(1)
    def replayed_code(self) -> None:
        """A code that was already accepted (a phishing proxy replaying it) is denied."""
        if self.last_accepted:
            self._passcode("auth: replayed code", self.last_accepted, "deny")

    @task(1)
    def bypass_code(self) -> None:
        """Each bypass code works once (until the person has none left)."""
        if self.bypass_codes:
            self._passcode("auth: bypass code", self.bypass_codes.pop(), "allow")
