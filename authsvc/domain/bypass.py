"""Bypass code issuance: Duo's Admin API rules for count, custom codes, uses and expiry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from authsvc.clock import Clock
from authsvc.crypto import SecretBox, random_digits, random_id
from authsvc.errors import InvalidParameter
from authsvc.factors.bypass import HASH_PURPOSE, is_bypass_shape
from authsvc.model.bypass import BypassCode, NewBypassCode
from authsvc.model.users import User
from authsvc.store import Store

MAX_PER_CALL = 10
DEFAULT_COUNT = 10
MAX_LIVE_PER_USER = 100
RANDOM_CODE_DIGITS = 9
MAX_REUSE_COUNT = 1_000_000
MAX_VALID_SECS = 10 * 365 * 86400


@dataclass(frozen=True, slots=True)
class BypassRequest:
    """`add_user_bypass_codes` parameters (None = not sent: `reuse_count` then means one use,
    `valid_secs` the account's `bypass_default_expiration`)."""

    count: int | None = None
    codes: Sequence[str] | None = None
    reuse_count: int | None = None
    valid_secs: int | None = None
    preserve_existing: bool = False
    admin_email: str = ""

    @property
    def customised(self) -> bool:
        """True when anything but the defaults was asked for (what the Help Desk's ``limit``
        setting forbids)."""
        return any(value is not None for value in (self.count, self.codes, self.reuse_count,
                                                   self.valid_secs))


def _plaintext_codes(request: BypassRequest) -> list[str]:
    if request.codes is not None and request.count is not None:
        raise InvalidParameter("count and codes are mutually exclusive")
    if request.codes is not None:
        codes = [code.strip() for code in request.codes]
        if not codes or len(codes) > MAX_PER_CALL:
            raise InvalidParameter(f"codes (1-{MAX_PER_CALL} codes)")
        if not all(is_bypass_shape(code) for code in codes):
            raise InvalidParameter("codes (each 4-16 digits)")
        if len(set(codes)) != len(codes):
            raise InvalidParameter("codes (the same code twice)")
        return codes
    count = DEFAULT_COUNT if request.count is None else request.count
    if not 1 <= count <= MAX_PER_CALL:
        raise InvalidParameter(f"count (1-{MAX_PER_CALL})")
    codes = []
    while len(codes) < count:
        code = random_digits(RANDOM_CODE_DIGITS)
        if code not in codes:
            codes.append(code)
    return codes


class BypassIssuer:
    """Issue, list and delete bypass codes."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock) -> None:
        self._store = store
        self._box = box
        self._clock = clock

    async def issue(self, user_id: str, request: BypassRequest,
                    default_valid_secs: int = 0) -> list[str]:
        """Store new codes for the user and return them (the only time they are visible).
        `default_valid_secs` is the lifetime when the request names none (0 = never).

        Raises InvalidParameter, NotFound (no user) or Conflict (over the live-code limit, or a
        custom code the user already holds); in those cases nothing changes.
        """
        uses = 1 if request.reuse_count is None else request.reuse_count
        valid_secs = default_valid_secs if request.valid_secs is None else request.valid_secs
        if not 0 <= uses <= MAX_REUSE_COUNT:
            raise InvalidParameter("reuse_count")
        if not 0 <= valid_secs <= MAX_VALID_SECS:
            raise InvalidParameter("valid_secs")
        codes = _plaintext_codes(request)
        now_ms = self._clock.now_ms()
        expires_ms = now_ms + valid_secs * 1000 if valid_secs else 0
        new = [
            NewBypassCode(
                code_hash=self._box.code_hash(HASH_PURPOSE, user_id, code),
                meta=BypassCode(code_id=random_id("DB"), user_id=user_id,
                                created=now_ms // 1000, uses=uses, expires_ms=expires_ms,
                                admin_email=request.admin_email),
            )
            for code in codes
        ]
        await self._store.bypass.add(user_id, new, preserve=request.preserve_existing,
                                     now_ms=now_ms, limit=MAX_LIVE_PER_USER)
        return codes

    async def of_user(self, user_id: str) -> list[BypassCode]:
        """The user's live codes (metadata only)."""
        return await self._store.bypass.of_user(user_id, self._clock.now_ms())

    async def page(self, offset: int, limit: int) -> tuple[list[BypassCode], int]:
        """A page of every live code (metadata only) and the total."""
        return await self._store.bypass.page(offset, limit, self._clock.now_ms())

    async def page_with_owners(self, offset: int, limit: int
                               ) -> tuple[list[BypassCode], dict[str, User], int]:
        """A page of every live code with the users holding them, and the total."""
        codes, total = await self.page(offset, limit)
        owners = await self._store.users.get_many({code.user_id for code in codes})
        return codes, {user.user_id: user for user in owners}, total

    async def delete(self, code_id: str) -> None:
        """Delete one code; raises NotFound."""
        await self._store.bypass.delete(code_id)
