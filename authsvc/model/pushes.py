"""Duo Push transactions (and phone calls, which live the same way): their stored state and the
decision scripts' answers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from authsvc.model.authlog import AttemptFacts


class PushState(StrEnum):
    """Where a push is in its life (push_create.lua and push_resolve.lua move it)."""

    PREPARED = "prepared"
    """Verified Push: announced by preauth with its code, not sent yet."""
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    FRAUD = "fraud"
    TIMEOUT = "timeout"
    UNKNOWN = ""
    """No such push (never created, or expired and gone)."""


class PushKind(StrEnum):
    """A login push, a Help Desk verification push, or a phone call."""

    AUTH = "auth"
    VERIFICATION = "verification"
    CALL = "call"


@dataclass(frozen=True, slots=True)
class Push:
    """One push as stored (`state` UNKNOWN and the other fields empty when there is none)."""

    txid: str
    user_id: str
    state: PushState = PushState.UNKNOWN
    kind: PushKind = PushKind.AUTH
    phone_id: str = ""
    urgid: str = ""
    created_ms: int = 0
    expires_ms: int = 0
    seq: str = ""
    polled_seq: str = ""
    reason: str = ""
    answered: bool = False
    type: str = "login"
    display_username: str = ""
    pushinfo: list[tuple[str, str]] = field(default_factory=list)
    app: str = ""
    ipaddr: str = ""
    confirmation_code: str = ""
    call_token: str = ""
    code_hash: str = ""
    digits: int = 0
    facts: AttemptFacts | None = None

    @property
    def exists(self) -> bool:
        return self.state is not PushState.UNKNOWN

    @property
    def waiting(self) -> bool:
        """Not ended yet (prepared or pending)."""
        return self.state in (PushState.PREPARED, PushState.PENDING)


@dataclass(frozen=True, slots=True)
class PushLimits:
    """What push_create.lua enforces."""

    lockout_expire_ms: int
    max_outstanding: int
    cooldown_after: int
    cooldown_ms: int


class CreateStatus(IntEnum):
    """Reply codes of push_create.lua."""

    CREATED = 1
    LOCKED = 4
    DISABLED = 5
    BYPASS_USER = 6
    NO_USER = 7
    TOO_MANY_OUTSTANDING = 8
    COOLING_DOWN = 9
    NO_PREPARED_TX = 10
    STALE = 11
    """The user's groups changed since they were read: nothing was done (decide again)."""
    OVERDUE = 12
    """Pushes of the user ran out of time and are not ended yet: end them, then create again."""


class ResolveStatus(IntEnum):
    """Reply codes of push_resolve.lua."""

    ENDED = 1
    NOT_PENDING = 2
    WRONG_CODE = 3
    ANSWERED = 4
    REPLAYED = 5


class PushOperation(StrEnum):
    """What push_resolve.lua is asked to do."""

    APPROVE = "approve"
    DENY = "deny"
    FRAUD = "fraud"
    EXPIRE = "expire"
    ANSWERED = "answered"
    """A call was picked up: still pending, but its status changes."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """push_resolve.lua's answer."""

    status: ResolveStatus
    state: str = ""
    tries_left: int = 0
    ended: Push | None = None
    """The push as its end's log record needs it (ENDED only)."""


_URGID_OWNER = re.compile(r"([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9-]{1,64})")


def urgid_of(user_id: str, txid: str) -> str:
    """The urgid a phone answers a push by: it names the push's owner, so the answer needs no
    index (the answer is checked against the urgid stored with the push, from its phone only)."""
    return f"{user_id}.{txid}"


def owner_of_urgid(urgid: str) -> tuple[str, str] | None:
    """(user id, txid) named by an urgid, or None for one that cannot be ours."""
    match = _URGID_OWNER.fullmatch(urgid)
    return (match[1], match[2]) if match else None
