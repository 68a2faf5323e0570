"""Duo Push sign-ins through the Auth API, answered by a running ``mobile-sim fleet``.

From the repository root, once the service runs over TLS, the people are enrolled
(``python -m loadtests push-seed ... --values push-values.txt --out push-pop.json``) and the
fleet answers their phones (``mobile-sim fleet --values push-values.txt ...``); the steps are in
loadtests/README.md. Then one command:

    .venv/bin/locust -f loadtests/locust_push.py --headless -u 100 -r 20 -t 30s \\
        --host https://127.0.0.1:8443 --push-population push-pop.json

Each locust user is one enrolled person (one phone); a person is never shared, so nobody has
more than one push waiting (``push_max_outstanding`` is 3). The scenarios, by weight:

- sign in (10): ``preauth`` lists the person's phone with the ``push`` capability, then
  ``auth factor=push device=auto`` blocks until the phone answers: ``allow``;
- asynchronous push (3): ``auth factor=push async=1`` returns a ``txid``; ``auth_status`` long
  polls until the push has ended: ``allow``.

Requests are signed by duo_client's own functions (`loadtests.core.signing`),
and TLS is verified against the population's CA (``--push-ca-file`` overrides it). A result
other than one of ``--push-expect`` (default ``allow``; e.g. ``allow,deny`` for a fleet started
with ``--mix approve=0.9,deny=0.1``), or any 4xx/5xx, is a failure naming what came back.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.contrib.fasthttp import ResponseContextManager
from locust.env import Environment
from locust.exception import StopUser

from loadtests.core.locust import Signer, answer_of, describe
from loadtests.core.population import PushPopulation
from loadtests.core.signing import AUTH_PATH, AUTH_STATUS_PATH, PREAUTH_PATH, push_params

log = logging.getLogger("loadtests")
PUSH_TIMEOUT_S = 75.0  # the service's push_timeout (60 s) plus a margin


class Roster:
    """The enrolled people not yet taken by a locust user, and the integration to sign with."""

    ikey = ""
    skey = ""
    expect: frozenset[str] = frozenset({"allow"})
    usernames: deque[str] = deque()


def _options(parser: Any) -> None:
    parser.add_argument("--push-population", default="", env_var="LOADTEST_PUSH_POPULATION",
                        help="population JSON from `python -m loadtests push-seed` (required)")
    parser.add_argument("--push-ca-file", default="",
                        help="CA to trust (default: the one named in the population)")
    parser.add_argument("--push-expect", default="allow",
                        help="results that count as success, comma-separated (allow)")


@dataclass(frozen=True, slots=True)
class TrustOnly:
    """An SSL context factory trusting only `ca_file`.

    geventhttpclient calls the factory with ``cafile=`` its own bundle (certifi), which would
    not hold the dev CA; and a plain function stored on the user class would become a method.
    """

    ca_file: str

    def __call__(self, cafile: str | None = None, **_: Any) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)


def _populate(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options is None or not options.push_population:
        raise RuntimeError("give --push-population FILE (python -m loadtests push-seed --out)")
    population = PushPopulation.load(Path(options.push_population))
    Roster.ikey, Roster.skey = population.ikey, population.skey
    Roster.usernames = deque(population.usernames)
    Roster.expect = frozenset(part.strip() for part in options.push_expect.split(","))
    ca_file = options.push_ca_file or population.ca_file
    PushSignIn.insecure = False
    PushSignIn.ssl_context_factory = TrustOnly(ca_file)
    log.info("%d people with a phone (auth integration %s), trusting %s",
             len(population.usernames), population.ikey, ca_file)


# locust's EventHook.add_listener carries no annotations.
events.init_command_line_parser.add_listener(_options)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_populate)  # type: ignore[no-untyped-call]


class PushSignIn(FastHttpUser):
    """One person with one activated phone, signing in with Duo Push."""

    wait_time = between(1, 3)
    network_timeout = PUSH_TIMEOUT_S  # a synchronous push blocks until the phone answers
    connection_timeout = 10.0

    def on_start(self) -> None:
        if not Roster.usernames:
            raise StopUser("no enrolled person left (enroll more with push_seed --phones)")
        self.username = Roster.usernames.popleft()
        self.signer = Signer(Roster.ikey, Roster.skey, self.host or "")

    def _post(self, path: str, params: dict[str, str], name: str) -> ResponseContextManager:
        return self.signer.post(self.client, path, params, name)

    def _get(self, path: str, params: dict[str, str], name: str) -> ResponseContextManager:
        return self.signer.get(self.client, path, params, name)

    def _judge(self, response: Any, answer: dict[str, Any]) -> None:
        result = answer.get("result")
        if result in Roster.expect:
            response.success()
        else:
            response.failure(f"expected {'/'.join(sorted(Roster.expect))}, got "
                             f"{result or describe(response)} {answer.get('status', '')}".strip())

    @task(10)
    def sign_in(self) -> None:
        """Preauth offers the phone for push; the blocking push is answered by the fleet."""
        with self._post(PREAUTH_PATH, {"username": self.username}, "preauth") as response:
            devices = answer_of(response).get("devices", [])
            if any("push" in device.get("capabilities", []) for device in devices):
                response.success()
            else:
                response.failure(f"expected a phone with push, got {describe(response)}")
                return
        with self._post(AUTH_PATH, push_params(self.username), "auth: push") as response:
            self._judge(response, answer_of(response))

    @task(3)
    def push_async(self) -> None:
        """``async=1`` gives a txid; auth_status long polls until the phone has answered.

        The individual polls are recorded as ``auth_status (poll)``; the whole sign-in, from
        the auth request to the final status, as ``push async: round trip``.
        """
        began = time.perf_counter()
        with self._post(AUTH_PATH, push_params(self.username, run_async=True),
                        "auth: push async=1") as response:
            txid = answer_of(response).get("txid")
            if not txid:
                response.failure(f"expected a txid, got {describe(response)}")
                return
            response.success()
        while True:
            with self._get(AUTH_STATUS_PATH, {"txid": str(txid)}, "auth_status (poll)") as poll:
                answer = answer_of(poll)
                if not answer:
                    poll.failure(f"expected a status, got {describe(poll)}")
                    return
                poll.success()
            if answer.get("result") != "waiting":
                break
        self._round_trip(began, answer)

    def _round_trip(self, began: float, answer: dict[str, Any]) -> None:
        result = answer.get("result")
        failed = None if result in Roster.expect else AssertionError(
            f"expected {'/'.join(sorted(Roster.expect))}, got {result} {answer.get('status', '')}")
        self.environment.events.request.fire(
            request_type="PUSH", name="push async: round trip", response=None, context={},
            response_time=(time.perf_counter() - began) * 1000, response_length=0,
            exception=failed)
