"""Full Duo Prompt sign-ins over HTTP, answered by a running ``mobile-sim fleet``: what a browser
and a duo_universal application do together, without the browser.

The people and their phones are those of ``python -m loadtests.push_seed`` (its population
file); the web integration is one ``authsvc integration create --type web --redirect-uri URL``
printed (its JSON). Then, from the repository root:

    .venv/bin/locust -f loadtests/locust_prompt.py --headless -u 50 -r 10 -t 30s \\
        --host https://localhost:8443 --prompt-population push-pop.json --prompt-web web.json

One sign-in, each step recorded under its own name:

1. ``GET /oauth/v1/authorize`` with duo_universal's request JWT (HS512, built with PyJWT as
   duo_universal does): a prompt session and its cookie, redirect to the prompt;
2. ``GET /frame/prompt/{sid}``: the page, from which the CSRF value and the phone are read;
3. ``POST .../send`` (method push): the wait page;
4. ``GET .../status`` (the page's long poll) until the push has ended;
5. ``GET .../done``: the redirect to the application with ``duo_code`` and ``state``;
6. ``POST /oauth/v1/token`` (params in the query string, a client assertion): the id_token,
   whose ``auth_result.result`` must be ``allow``.

The whole sign-in is also recorded as ``prompt sign-in: round trip``. The host must be the one
the web integration's JWTs name (``https://localhost:PORT`` for a service started with
``--host localhost``).
"""

from __future__ import annotations

import json
import re
import secrets
import ssl
import sys
import time
import warnings
from collections import deque
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # locust puts only this file's folder on sys.path
    sys.path.insert(0, str(ROOT))

import jwt  # noqa: E402
from locust import FastHttpUser, between, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.exception import StopUser  # noqa: E402

from loadtests.core.population import PushPopulation  # noqa: E402

# duo_universal signs HS512 with its 40-character client secret, as the protocol fixes it.
warnings.filterwarnings("ignore", category=jwt.InsecureKeyLengthWarning)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PUSH_TIMEOUT_S = 75.0
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_DEVICE = re.compile(r'name="device" value="([^"]+)"')


class Roster:
    """The web integration, and the enrolled people not yet taken by a locust user."""

    client_id = ""
    client_secret = ""
    redirect_uri = ""
    ca_file = ""
    usernames: deque[str] = deque()


def _options(parser: Any) -> None:
    parser.add_argument("--prompt-population", default="",
                        help="population JSON from `python -m loadtests.push_seed` (required)")
    parser.add_argument("--prompt-web", default="",
                        help="JSON printed by `authsvc integration create --type web` (required)")


def _populate(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options is None or not options.prompt_population or not options.prompt_web:
        raise RuntimeError("give --prompt-population FILE and --prompt-web FILE")
    population = PushPopulation.load(Path(options.prompt_population))
    web = json.loads(Path(options.prompt_web).read_text())
    Roster.client_id, Roster.client_secret = web["client_id"], web["client_secret"]
    Roster.redirect_uri = web["redirect_uris"][0]
    Roster.usernames = deque(population.usernames)
    Roster.ca_file = population.ca_file
    PromptSignIn.insecure = False
    PromptSignIn.ssl_context_factory = TrustOnly(population.ca_file)


class TrustOnly:
    """An SSL context factory trusting only the population's CA (see locust_push.py)."""

    def __init__(self, ca_file: str) -> None:
        self.ca_file = ca_file

    def __call__(self, cafile: str | None = None, **_: Any) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)


# locust's EventHook.add_listener carries no annotations.
events.init_command_line_parser.add_listener(_options)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_populate)  # type: ignore[no-untyped-call]


def _header(reply: Any, name: str) -> str:
    headers = reply.headers or {}
    return str(headers.get(name) or "")


def _jwt(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, Roster.client_secret, algorithm="HS512")


class PromptSignIn(FastHttpUser):
    """One person with one activated phone, signing in to a web application."""

    wait_time = between(1, 3)
    network_timeout = PUSH_TIMEOUT_S
    connection_timeout = 10.0

    def on_start(self) -> None:
        if not Roster.usernames:
            raise StopUser("no enrolled person left (enroll more with push_seed --phones)")
        self.username = Roster.usernames.popleft()

    def _authorize_url(self, state: str) -> str:
        claims = {"scope": "openid", "redirect_uri": Roster.redirect_uri,
                  "client_id": Roster.client_id, "iss": Roster.client_id, "aud": self.host,
                  "exp": time.time() + 300, "state": state, "response_type": "code",
                  "duo_uname": self.username, "use_duo_code_attribute": True}
        query = urlencode({"response_type": "code", "client_id": Roster.client_id,
                           "request": _jwt(claims)})
        return f"/oauth/v1/authorize?{query}"

    def _fail(self, name: str, began: float, why: str) -> None:
        self.environment.events.request.fire(
            request_type="PROMPT", name=name, response=None, context={}, response_length=0,
            response_time=(time.perf_counter() - began) * 1000, exception=AssertionError(why))

    @task
    def sign_in(self) -> None:
        """authorize -> prompt -> push (answered by the fleet) -> code -> id_token."""
        began, state = time.perf_counter(), secrets.token_urlsafe(24)
        reply = self.client.get(self._authorize_url(state), name="authorize",
                                allow_redirects=False)
        location, cookie = _header(reply, "Location"), _header(reply, "Set-Cookie")
        if reply.status_code != 303 or not location.startswith("/frame/prompt/"):
            return self._fail("prompt sign-in: round trip", began, f"authorize: {reply.status_code}")
        headers = {"Cookie": cookie.split(";", 1)[0]}
        page = self.client.get(location, headers=headers, name="prompt page").text or ""
        csrf, device = _CSRF.search(page), _DEVICE.search(page)
        if csrf is None or device is None:
            return self._fail("prompt sign-in: round trip", began, "no push device on the page")
        form = {"csrf": unescape(csrf.group(1)), "device": device.group(1), "method": "push"}
        self.client.post(f"{location}/send", data=form, headers=headers, name="send push")
        result = self._wait(location, headers)
        done = self.client.get(f"{location}/done", headers=headers, name="done",
                               allow_redirects=False)
        code = parse_qs(urlsplit(_header(done, "Location")).query).get("duo_code", [""])[0]
        if result != "allow" or not code:
            return self._fail("prompt sign-in: round trip", began, f"push ended {result}")
        self._token(code, began)

    def _wait(self, location: str, headers: dict[str, str]) -> str:
        while True:
            reply = self.client.get(f"{location}/status", headers=headers, name="status (poll)")
            try:
                result = str(reply.json()["result"])
            except (ValueError, TypeError, KeyError):
                return "error"
            if result != "waiting":
                return result

    def _token(self, code: str, began: float) -> None:
        token_url = f"{self.host}/oauth/v1/token"
        assertion = _jwt({"iss": Roster.client_id, "sub": Roster.client_id, "aud": token_url,
                          "exp": time.time() + 300, "jti": secrets.token_urlsafe(27)})
        params = {"grant_type": "authorization_code", "code": code,
                  "redirect_uri": Roster.redirect_uri, "client_id": Roster.client_id,
                  "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
        reply = self.client.post(f"/oauth/v1/token?{urlencode(params)}", name="token")
        try:
            claims = jwt.decode(reply.json()["id_token"], Roster.client_secret,
                                algorithms=["HS512"], audience=Roster.client_id, leeway=60)
        except (ValueError, TypeError, KeyError, jwt.PyJWTError):
            return self._fail("prompt sign-in: round trip", began, "no valid id_token")
        if claims.get("auth_result", {}).get("result") != "allow":
            return self._fail("prompt sign-in: round trip", began, "auth_result not allow")
        self.environment.events.request.fire(
            request_type="PROMPT", name="prompt sign-in: round trip", response=None, context={},
            response_time=(time.perf_counter() - began) * 1000, response_length=0,
            exception=None)
