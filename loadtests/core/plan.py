"""Pre-computed, pre-signed ``/auth/v2/auth`` requests for wrk to replay (`loadtests/replay.lua`).

The requests form one endless sequence: position ``p`` is user ``p % N`` signing in for the
``p // N``-th time. Users take turns, so one user's consecutive codes are N requests apart and
reach the server in counter order even with many connections in flight (`check_spacing` refuses
fewer than `MIN_USERS_PER_CONNECTION` users per connection). A run replays a slice of the
sequence and reports how far it got; the next run starts there, so no code is sent twice and
the gap a run leaves behind (requests consumed but never answered) stays far inside the HOTP
look-ahead window.

Signing is duo_client's own (`loadtests.core.signing`); the codes come from `tokens.oath` (HOTP)
or `tokens.yubikey` (YubiKey OTP, `YubikeyCodes`), neither of which shares code with the server.
Each file is signed with the Date of the moment it is written, so it must be replayed within the
service's 300 s skew window. `Plan` is what the phases need of a plan; the security-key one is
`loadtests.scenarios.webauthn.WebauthnPlan`.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from loadtests.core.population import Population
from loadtests.core.signing import AUTH_PATH, passcode_params, signed_post
from tokens.oath import oath_code
from tokens.yubikey import YubiKey

MIN_USERS_PER_CONNECTION = 10
MAX_REPLAY_SECONDS = 240  # well inside the service's 300 s date-skew window
HEADROOM = 1.5  # requests written per phase = expected rate x seconds x this, plus slack
WARM_TO_FULL = 1.5  # the full-rate file is sized for this much more than the warm-up's rate


class Plan(Protocol):
    """A request sequence the phases replay: written in slices, each continuing the last."""

    position: int
    headroom: float
    warm_to_full: float
    warm_rate_cap: float  # the warm-up's file is sized for min(ceiling rate, this)

    def write(self, path: Path, count: int) -> None:
        """The next `count` requests (from `position`), one line each, for replay.lua."""

    def write_ceiling(self, path: Path, count: int) -> None:
        """Up to `count` requests of the same shape for the ceiling app (which checks nothing)."""

    def consumed(self, lines: int) -> None:
        """A run took `lines` lines of the last file written: move past them."""

    def service_env(self) -> dict[str, str]:
        """Environment the service needs for these requests (beyond Redis and the key)."""

    def service_started(self, base_url: str) -> None:
        """The service answers at `base_url` (a plan that asks it for challenges needs this)."""


def write_signed(path: Path, *, ikey: str, skey: str, host: str,
                 params: Iterable[dict[str, str]]) -> None:
    """One ``/auth/v2/auth`` POST per `params`, signed with one Date, as replay.lua reads them:
    ``<Authorization>\\t<Date>\\t<JSON body>``."""
    date = email.utils.formatdate()
    with path.open("w") as out:
        for one in params:
            signed = signed_post(ikey=ikey, skey=skey, host=host, path=AUTH_PATH, params=one,
                                 date=date)
            out.write(f"{signed.headers['Authorization']}\t{date}\t{signed.body}\n")


class Codes(Protocol):
    """The `press`-th code of user number `user` (presses of one user come in order)."""

    def code(self, user: int, press: int) -> str: ...


class HotpCodes:
    """h6 codes of each person's first token: press n is counter n."""

    def __init__(self, population: Population) -> None:
        self._secrets = [bytes.fromhex(person.tokens[0].secret_hex) for person in population.people]

    def code(self, user: int, press: int) -> str:
        return oath_code(self._secrets[user], press, 6)


class YubikeyCodes:
    """Each user's YubiKey OTPs in press order, made by `tokens.yubikey` and kept, so that a
    position rewritten by a later slice gets the same OTP (press n is always the n-th press)."""

    def __init__(self, keys: Sequence[YubiKey]) -> None:
        self._keys = list(keys)
        self._pressed: list[list[str]] = [[] for _ in self._keys]

    def code(self, user: int, press: int) -> str:
        pressed, key = self._pressed[user], self._keys[user]
        while len(pressed) <= press:
            pressed.append(key.press())
        return pressed[press]


class RequestPlan:
    """Passcode requests: writes slices of the sequence; remembers where the next one starts."""

    headroom = HEADROOM
    warm_to_full = WARM_TO_FULL
    warm_rate_cap = math.inf

    def __init__(self, population: Population, host: str, codes: Codes | None = None) -> None:
        self.population = population
        self.host = host
        self.position = 0
        self._usernames = [person.username for person in population.people]
        if not self._usernames:
            raise ValueError("the population is empty")
        self._codes = codes if codes is not None else HotpCodes(population)

    def write(self, path: Path, count: int) -> None:
        """Write the next `count` requests (from `position`), one line each, for replay.lua."""
        names, total, codes = self._usernames, len(self._usernames), self._codes
        write_signed(path, ikey=self.population.ikey, skey=self.population.skey, host=self.host,
                     params=(passcode_params(names[position % total],
                                             codes.code(position % total, position // total))
                             for position in range(self.position, self.position + count)))

    def write_ceiling(self, path: Path, count: int) -> None:
        """The ceiling replays real requests (it never checks them, so none are used up)."""
        self.write(path, count)

    def consumed(self, lines: int) -> None:
        """A run took `lines` lines of the last file written: move past them."""
        self.position += lines

    def service_env(self) -> dict[str, str]:
        return {}

    def service_started(self, base_url: str) -> None:
        pass


def check_spacing(users: int, connections: int) -> None:
    """Refuse plans where one user could have two requests in flight at once."""
    if users < MIN_USERS_PER_CONNECTION * connections:
        raise ValueError(f"--users must be at least {MIN_USERS_PER_CONNECTION} x --connections "
                         f"({MIN_USERS_PER_CONNECTION * connections}) so that a user's codes "
                         "arrive in order")
