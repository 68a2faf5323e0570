"""Phones: what an admin sees of them, and what an activated Duo Mobile app holds."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
class AppCredentials:
    """What the service keeps for a phone's Duo Mobile app: the credentials of the activated
    app (akey, RSA public key, sealed passcode seed, the host its code named, credential
    version), the hash of the live activation code, if any, and the hash of the code that
    activated the app (`crypto.secret_hash`: never the codes). Never shown to administrators."""

    akey: str = ""
    pubkey: str = ""
    host: str = ""
    cred: int = 0
    sealed_hotp_secret: str = ""
    activation_hash: str = ""
    activated_hash: str = ""
    push_token: str = ""


@dataclass(frozen=True, slots=True)
class PhoneRecord:
    """A phone with its app's credentials (the device protocol's view of it)."""

    phone: Phone
    app: AppCredentials

    @property
    def phone_id(self) -> str:
        return self.phone.phone_id
