"""Pre-computed, pre-signed ``/auth/v2/auth`` passcode requests for wrk to replay.

The requests form one endless sequence: position ``p`` is user ``p % N`` pressing their token for
the ``p // N``-th time. Users take turns, so one user's consecutive codes are N requests apart
and reach the server in counter order even with many connections in flight (the plan refuses
fewer than `MIN_USERS_PER_CONNECTION` users per connection). A run replays a slice of the
sequence and reports how far it got; the next run starts there, so no code is sent twice and
the gap a run leaves behind (requests consumed but never answered) stays far inside the HOTP
look-ahead window.

Signing is duo_client's own (`loadtests.signing`); the codes come from `tokens.oath`, which does
not share code with the server. Each file is signed with the Date of the moment it is written,
so it must be replayed within the service's 300 s skew window.
"""

from __future__ import annotations

import email.utils
from pathlib import Path

from loadtests.seed import Population
from loadtests.signing import AUTH_PATH, passcode_params, signed_post
from tokens.oath import oath_code

MIN_USERS_PER_CONNECTION = 10
MAX_REPLAY_SECONDS = 240  # well inside the service's 300 s date-skew window


class RequestPlan:
    """Writes slices of the request sequence; remembers where the next slice starts."""

    def __init__(self, population: Population, host: str) -> None:
        self.population = population
        self.host = host
        self.position = 0
        self._people = [(person.username, bytes.fromhex(person.tokens[0].secret_hex))
                        for person in population.people]
        if not self._people:
            raise ValueError("the population is empty")

    def write(self, path: Path, count: int) -> None:
        """Write the next `count` requests (from `position`), one line each, for replay.lua."""
        date = email.utils.formatdate()
        people, total = self._people, len(self._people)
        ikey, skey = self.population.ikey, self.population.skey
        with path.open("w") as out:
            for position in range(self.position, self.position + count):
                username, secret = people[position % total]
                code = oath_code(secret, position // total, 6)
                signed = signed_post(ikey=ikey, skey=skey, host=self.host, path=AUTH_PATH,
                                     params=passcode_params(username, code), date=date)
                out.write(f"{signed.headers['Authorization']}\t{date}\t{signed.body}\n")

    def consumed(self, lines: int) -> None:
        """A run took `lines` lines of the last file written: move past them."""
        self.position += lines


def check_spacing(users: int, connections: int) -> None:
    """Refuse plans where one user could have two requests in flight at once."""
    if users < MIN_USERS_PER_CONNECTION * connections:
        raise ValueError(f"--users must be at least {MIN_USERS_PER_CONNECTION} x --connections "
                         f"({MIN_USERS_PER_CONNECTION * connections}) so that a user's codes "
                         "arrive in order")
