"""Rate limits: what each limiter counts, and how many of it one subject may have per window.

A limit ``N/Ss`` lets one subject (an IP address, an integration, a username) have a burst of N
events at once, then one more every S/N seconds (GCRA: the same as N per S seconds, without the
fixed windows' double burst at a boundary). `docs/configuration.md` has the defaults and why they
never touch honest load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_LIMIT = re.compile(r"(?P<count>[0-9]+)\s*/\s*(?P<seconds>[0-9]+(?:\.[0-9]+)?)\s*s?")


class Limiter(StrEnum):
    """One rate limiter: what it counts, per what."""

    INTEGRATION = "integration"  # signed Auth/Admin API requests, per integration
    IP = "ip"  # signed Auth/Admin API requests, per client IP
    USERNAME = "username"  # preauth and auth requests naming one user, across integrations
    UNKNOWN_USERS = "unknown_users"  # preauths for usernames nobody has, all together
    BAD_SIGNATURES_IP = "bad_signatures_ip"  # requests failing the signature check, per IP
    BAD_SIGNATURES_IKEY = "bad_signatures_ikey"  # the same, per integration key they claim
    FAILED_AUTH_INTEGRATION = "failed_auth_integration"  # wrong codes, per integration
    FAILED_AUTH_IP = "failed_auth_ip"  # wrong codes, per client IP

    @property
    def detail(self) -> str:
        """The 429's ``message_detail``: which limit refused (no subject, no secret)."""
        return _DETAILS[self]

    @classmethod
    def of(cls, kind: str, counter: str) -> Limiter:
        """The limiter of this counter of this kind of subject."""
        return next(limiter for limiter, place in _PLACES.items() if place == (kind, counter))

    @property
    def kind(self) -> str:
        """What the subject is: ``ip``, ``ikey``, ``user`` or ``all``."""
        return _PLACES[self][0]

    @property
    def counter(self) -> str:
        """What is counted of the subject: ``requests``, ``bad_signatures``, ``failed_auth``
        or ``unknown_users``."""
        return _PLACES[self][1]


_DETAILS = {
    Limiter.INTEGRATION: "rate limit: requests of this integration",
    Limiter.IP: "rate limit: requests from this address",
    Limiter.USERNAME: "rate limit: requests for this user",
    Limiter.UNKNOWN_USERS: "rate limit: requests for unknown users",
    Limiter.BAD_SIGNATURES_IP: "rate limit: failed signatures from this address",
    Limiter.BAD_SIGNATURES_IKEY: "rate limit: failed signatures for this integration key",
    Limiter.FAILED_AUTH_INTEGRATION: "rate limit: failed authentications of this integration",
    Limiter.FAILED_AUTH_IP: "rate limit: failed authentications from this address",
}


_PLACES = {
    Limiter.INTEGRATION: ("ikey", "requests"),
    Limiter.IP: ("ip", "requests"),
    Limiter.USERNAME: ("user", "requests"),
    Limiter.UNKNOWN_USERS: ("all", "unknown_users"),
    Limiter.BAD_SIGNATURES_IP: ("ip", "bad_signatures"),
    Limiter.BAD_SIGNATURES_IKEY: ("ikey", "bad_signatures"),
    Limiter.FAILED_AUTH_INTEGRATION: ("ikey", "failed_auth"),
    Limiter.FAILED_AUTH_IP: ("ip", "failed_auth"),
}


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `count` events per `seconds` for one subject (a burst of `count`)."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """``N/S`` or ``N/Ss`` (N events per S seconds); ``0`` or ``off`` turns it off (None).
        Raises ValueError for anything else."""
        cleaned = text.strip().lower()
        if cleaned in ("0", "off"):
            return None
        match = _LIMIT.fullmatch(cleaned)
        if match is None:
            raise ValueError("expected N/S (N events per S seconds, e.g. 100/10s) or off")
        limit = cls(int(match["count"]), float(match["seconds"]))
        if limit.count < 1 or limit.seconds <= 0:
            raise ValueError("N and S must be positive")
        return limit

    @property
    def interval_ms(self) -> float:
        """Time one event occupies: the sustained rate is one per interval."""
        return self.seconds * 1000 / self.count

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds:g}s"
