"""The domain's value types: users, tokens, bypass codes, integrations, verdicts.

Plain frozen dataclasses and enums, no I/O. `store/records.py` maps them to Redis and
`http/render.py` to Duo's JSON shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

MAX_ALIASES = 8


class UserStatus(StrEnum):
    """Duo's user statuses (``locked out`` is set by the system, never by an admin)."""

    ACTIVE = "active"
    BYPASS = "bypass"
    DISABLED = "disabled"
    LOCKED_OUT = "locked out"


class TokenType(StrEnum):
    """Hardware token types the Admin API creates."""

    HOTP6 = "h6"
    HOTP8 = "h8"
    TOTP6 = "t6"
    TOTP8 = "t8"
    YUBIKEY = "yk"

    @property
    def digits(self) -> int:
        return 8 if self in (TokenType.HOTP8, TokenType.TOTP8) else 6

    @property
    def is_totp(self) -> bool:
        return self in (TokenType.TOTP6, TokenType.TOTP8)

    @property
    def is_hotp(self) -> bool:
        return self in (TokenType.HOTP6, TokenType.HOTP8)


class IntegrationType(StrEnum):
    """Which API an integration key may call."""

    AUTH = "auth"
    ADMIN = "admin"


class Role(StrEnum):
    """Administrator roles (stored now; the role matrix is enforced by a later issue)."""

    OWNER = "owner"
    ADMINISTRATOR = "administrator"
    APPLICATION_MANAGER = "application_manager"
    USER_MANAGER = "user_manager"
    HELP_DESK = "help_desk"
    BILLING = "billing"
    READ_ONLY = "read_only"


@dataclass(frozen=True, slots=True)
class User:
    """A user as stored; `aliases` maps slot number (1..8) to the alias."""

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

    @property
    def names(self) -> set[str]:
        """Every name the user answers to (username and aliases, lowercased)."""
        return {self.username, *self.aliases.values()}


class PhoneType(StrEnum):
    """Duo's phone types."""

    MOBILE = "mobile"
    LANDLINE = "landline"
    UNKNOWN = "unknown"


PLATFORMS = ("unknown", "google android", "apple ios", "windows phone", "rim blackberry",
             "java j2me", "palm webos", "symbian os", "windows mobile", "generic smartphone")


@dataclass(frozen=True, slots=True)
class Phone:
    """A phone; `activated` when a Duo Mobile app holds credentials for it."""

    phone_id: str
    created: int
    number: str = ""
    extension: str = ""
    name: str = ""
    type: PhoneType = PhoneType.UNKNOWN
    platform: str = "unknown"
    predelay: int | None = None
    postdelay: int | None = None
    model: str = ""
    activated: bool = False
    last_seen: int | None = None

    @property
    def capabilities(self) -> list[str]:
        """Everything the phone can do, whatever the factor policy."""
        return self.capabilities_under(sms=True, calls=True)

    def capabilities_under(self, *, sms: bool, calls: bool) -> list[str]:
        """What the phone can do with SMS and calls allowed or not (Duo's capability names)."""
        caps = ["push", "mobile_otp"] if self.activated else []
        if sms and self.number and self.type is PhoneType.MOBILE:
            caps.append("sms")
        if calls and self.number:
            caps.append("phone")
        return ["auto", *caps] if "push" in caps or "phone" in caps else caps


@dataclass(frozen=True, slots=True)
class Token:
    """A hardware OATH token. `sealed_seed` is the AES-GCM-sealed secret, never the secret."""

    token_id: str
    type: TokenType
    serial: str
    sealed_seed: str
    created: int
    counter: int = 0
    totp_step: int = 30
    last_step: int = -1
    owner: str | None = None
    resync_next: int = 0
    resync_count: int = 0


@dataclass(frozen=True, slots=True)
class BypassCode:
    """Metadata of one bypass code; the code itself is only ever stored as a keyed hash."""

    code_id: str
    user_id: str
    created: int
    uses: int = 1
    expires_ms: int = 0
    admin_email: str = ""

    @property
    def reuse_count(self) -> int | None:
        """Duo's `reuse_count`: remaining uses, None for unlimited."""
        return self.uses or None

    @property
    def expiration(self) -> int | None:
        """Duo's `expiration`: unix seconds, None for never."""
        return self.expires_ms // 1000 if self.expires_ms else None


@dataclass(frozen=True, slots=True)
class Integration:
    """An application's credentials: `sealed_skey` is the sealed secret key."""

    ikey: str
    name: str
    type: IntegrationType
    role: Role
    sealed_skey: str
    created: int


class Result(StrEnum):
    """Auth API `result`."""

    ALLOW = "allow"
    DENY = "deny"
    WAITING = "waiting"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to one authentication attempt, plus what the log needs to know about it."""

    result: Result
    status: str
    status_msg: str
    reason: str
    factor: str
    device: str = ""

    @property
    def log_result(self) -> str:
        """The authentication log's `result` (success, denied, fraud)."""
        if self.result is Result.ALLOW:
            return "success"
        return "fraud" if self.reason == "user_marked_fraud" else "denied"
