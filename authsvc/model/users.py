"""Users and their statuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

from authsvc.model.phones import Phone
from authsvc.model.security_keys import SecurityKey
from authsvc.model.tokens import Token

if TYPE_CHECKING:  # model/groups.py imports UserStatus from here
    from authsvc.model.groups import Group

MAX_ALIASES = 8
MAX_SEARCH_TERM = 64


class UserStatus(StrEnum):
    """Duo's user statuses (``locked out`` is set by the system, never by an admin;
    ``pending deletion`` is a user in the Trash, sent there by a delete or inactivity)."""

    ACTIVE = "active"
    BYPASS = "bypass"
    DISABLED = "disabled"
    LOCKED_OUT = "locked out"
    PENDING_DELETION = "pending deletion"


@dataclass(frozen=True, slots=True)
class User:
    """A user as stored; `aliases` maps slot number (1..8) to the alias.

    `fails` (consecutive failures) and `locked_at` (ms; 0 = not locked) are owned by the
    decision scripts: read here, never written by an admin update. `trashed_at` (ms; 0 = not in
    the Trash) and `trash_reason` are owned by the Trash scripts.
    """

    user_id: str
    username: str
    created: int
    status: UserStatus = UserStatus.ACTIVE
    realname: str = ""
    email: str = ""
    notes: str = ""
    firstname: str = ""
    lastname: str = ""
    aliases: dict[int, str] = field(default_factory=dict)
    last_login: int | None = None
    lockout_reason: str = ""
    fails: int = 0
    locked_at: int = 0
    trashed_at: int = 0
    trash_reason: str = ""

    @property
    def in_trash(self) -> bool:
        """True while the user waits in the Trash for permanent deletion."""
        return self.status is UserStatus.PENDING_DELETION

    @property
    def names(self) -> set[str]:
        """Every name the user answers to (username and aliases, lowercased)."""
        return {self.username, *self.aliases.values()}

    def answers_to(self, name: str) -> bool:
        """True if `name` (lowercased) is the username or one of the aliases."""
        return name == self.username or name in self.aliases.values()


@dataclass(frozen=True, slots=True)
class PhoneUsers:
    """A phone with the users it is attached to (the Admin API phone object)."""

    phone: Phone
    users: list[User]


@dataclass(frozen=True, slots=True)
class UserDevices:
    """A user with every device the Admin API shows in the user object."""

    user: User
    tokens: list[Token]
    phones: list[Phone]
    keys: list[SecurityKey]
    groups: list[Group] = field(default_factory=list)

    @property
    def enrolled(self) -> bool:
        """Duo's `is_enrolled`: a token, a security key or an activated phone."""
        return bool(self.tokens or self.keys) or any(phone.activated for phone in self.phones)


@dataclass(frozen=True, slots=True)
class UserCounts:
    """The counts at the top of the Users page (seed 001, Listing Users), exact at the time of
    reading. Every count but `trash` is of users outside the Trash; `locked_out` leaves out
    lockouts that have expired; `inactive` is users who have not authenticated (or, never
    having authenticated, were not created) in the last `INACTIVE_DAYS` days."""

    total: int = 0
    active: int = 0
    bypass: int = 0
    disabled: int = 0
    locked_out: int = 0
    not_enrolled: int = 0
    inactive: int = 0
    trash: int = 0


INACTIVE_DAYS = 30


class TrashOutcome(IntEnum):
    """What the Trash scripts answer (user_trash, user_restore, user_purge)."""

    NO_USER = 0
    DONE = 1
    ALREADY = 2
    """Already in the Trash (send), or not in it (restore, purge)."""
    NOT_DUE = 3
    """Active since the inactivity deadline (send), or sent to the Trash too recently (purge)."""


def search_terms(user: User) -> set[str]:
    """What the Admin Panel's search finds a user by: username, aliases, email, full name and
    each word of it, lowercased (at most MAX_SEARCH_TERM characters each)."""
    words = [user.username, *user.aliases.values(), user.email, user.realname,
             *user.realname.split(), user.firstname, user.lastname]
    return {word.strip().lower()[:MAX_SEARCH_TERM] for word in words if word.strip()}
