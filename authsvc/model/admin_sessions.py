"""Admin Panel sessions: server-side, in Redis, one per signed-in browser.

A session moves through stages, and gets a new id (and a new CSRF value) at each step, so a
session id seen before a factor is worthless after it (session fixation):

- ``setup``: opened by a one-time setup link; may enroll a second factor and set the password;
- ``password``: the password was right; may only complete a second factor;
- ``full``: both factors; the panel's pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

IDLE_SECONDS = 15 * 60  # NIST SP 800-63B AAL2 asks for at most 30; the panel is privileged
ABSOLUTE_SECONDS = 12 * 3600  # AAL2: reauthenticate at least every 12 hours
PENDING_SECONDS = 10 * 60  # a session between the password and the second factor


class Stage(StrEnum):
    """How far a session has come."""

    SETUP = "setup"
    PASSWORD = "password"  # noqa: S105 - a stage name, not a secret
    FULL = "full"


@dataclass(frozen=True, slots=True)
class AdminSession:
    """A session as stored (under the SHA-256 of its cookie token, never the token)."""

    token_hash: str
    admin_id: str
    stage: Stage
    csrf: str
    created_ms: int
    seen_ms: int
    push_txid: str = ""
    setup_hash: str = ""

    def expired(self, now_ms: int) -> bool:
        """Past the absolute timeout (the idle timeout is the record's TTL)."""
        return now_ms - self.created_ms >= ABSOLUTE_SECONDS * 1000
