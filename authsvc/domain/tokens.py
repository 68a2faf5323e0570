"""Hardware token administration: creation (sealed seeds), assignment to one or several users,
manual resync. How a token with several holders keeps its counters: `store/tokens.py`."""

from __future__ import annotations

import binascii
import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass

from authsvc.clock import Clock
from authsvc.crypto import SecretBox, constant_time_equal, random_id
from authsvc.errors import InvalidParameter, MissingParameter, NotFound
from authsvc.factors._oath import RESYNC_RANGE, Hotp
from authsvc.model.tokens import Token, TokenType
from authsvc.model.users import User
from authsvc.store import Store

MAX_SERIAL_LENGTH = 128
MIN_SEED_BYTES = 10  # 80-bit seeds still ship with some vendors' tokens
MAX_SEED_BYTES = 64
TOTP_STEPS = range(10, 301)
MAX_COUNTER = 2**48  # far below 2**53, where Lua's numbers stop being exact


@dataclass(frozen=True, slots=True)
class NewToken:
    """An admin's request for a token: `secret` is hex, as Duo's API takes it."""

    type: str
    serial: str
    secret: str = ""
    counter: int = 0
    totp_step: int = 30
    private_id: str = ""
    aes_key: str = ""


def parse_type(value: str) -> TokenType:
    """One of the creatable types, or InvalidParameter naming them."""
    try:
        return TokenType(value)
    except ValueError:
        raise InvalidParameter("type (h6, h8, t6, t8 or yk)") from None


def check_serial(serial: str) -> str:
    """Serials are 1-128 printable characters."""
    if not serial or len(serial) > MAX_SERIAL_LENGTH or not serial.isprintable():
        raise InvalidParameter("serial (1-128 printable characters)")
    return serial


def parse_seed(secret_hex: str) -> bytes:
    """The seed bytes of a hex secret."""
    try:
        seed = binascii.unhexlify(secret_hex.strip())
    except (binascii.Error, ValueError):
        raise InvalidParameter("secret (hex)") from None
    if not MIN_SEED_BYTES <= len(seed) <= MAX_SEED_BYTES:
        raise InvalidParameter(f"secret ({MIN_SEED_BYTES}-{MAX_SEED_BYTES} bytes of hex)")
    return seed


def _fixed_hex(value: str, size: int, param: str) -> str:
    cleaned = value.strip().lower()
    try:
        if len(bytes.fromhex(cleaned)) != size:
            raise ValueError
    except ValueError:
        raise InvalidParameter(f"{param} ({size * 2} hex characters)") from None
    return cleaned


def yubikey_secret(request: NewToken) -> bytes:
    """What a yk token keeps sealed: its AES key and private id (as Duo's add_yubikey_token)."""
    if not request.aes_key:
        raise MissingParameter("aes_key")
    if not request.private_id:
        raise MissingParameter("private_id")
    return json.dumps({"aes_key": _fixed_hex(request.aes_key, 16, "aes_key"),
                       "private_id": _fixed_hex(request.private_id, 6, "private_id")}).encode()


class TokenRegistry:
    """Create, find, assign, resync and delete hardware tokens."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock) -> None:
        self._store = store
        self._box = box
        self._clock = clock

    async def add(self, request: NewToken) -> Token:
        """Create an unassigned token; the seed is sealed before it reaches Redis."""
        token_type = parse_type(request.type)
        seed = yubikey_secret(request) if token_type is TokenType.YUBIKEY \
            else parse_seed(request.secret)
        if not 0 <= request.counter <= MAX_COUNTER:
            raise InvalidParameter(f"counter (0-{MAX_COUNTER})")
        if token_type.is_totp and request.totp_step not in TOTP_STEPS:
            raise InvalidParameter("totp_step (10-300 seconds)")
        token_id = random_id("DH")
        now_ms = self._clock.now_ms()
        token = Token(
            token_id=token_id,
            type=token_type,
            serial=check_serial(request.serial),
            sealed_seed=self._box.seal(seed, bound_to=token_id),
            created=now_ms // 1000,
            counter=request.counter,
            totp_step=request.totp_step,
        )
        await self._store.tokens.create(token, order_ms=now_ms)
        return token

    async def get(self, token_id: str) -> Token:
        """The token; raises NotFound."""
        token = await self._store.tokens.get(token_id)
        if token is None:
            raise NotFound("token_id")
        return token

    async def of_user(self, user_id: str) -> list[Token]:
        """The tokens a user holds, oldest first."""
        return await self._store.tokens.of_user(user_id)

    async def by_serial(self, serial: str) -> Token | None:
        """The token with this serial, or None."""
        return await self._store.tokens.by_serial(check_serial(serial))

    async def page(self, offset: int, limit: int) -> tuple[list[Token], int]:
        """One page of tokens in creation order, and the total."""
        return await self._store.tokens.page(offset, limit)

    async def with_owners(self, tokens: Sequence[Token]) -> tuple[list[Token], dict[str, User]]:
        """The tokens and the users holding them, by user id (one round trip more)."""
        owners = {holder for token in tokens for holder in token.holders}
        return list(tokens), {user.user_id: user
                              for user in await self._store.users.get_many(owners)}

    async def page_with_owners(self, offset: int, limit: int
                               ) -> tuple[list[Token], dict[str, User], int]:
        """One page of tokens with their owners, and the total."""
        tokens, total = await self.page(offset, limit)
        return (*await self.with_owners(tokens), total)

    async def find(self, serial: str, token_type: str | None) -> list[Token]:
        """The token with this serial (and type, when given), as a list of at most one."""
        token = await self.by_serial(serial)
        return [token] if token and token_type in (None, token.type.value) else []

    async def delete(self, token_id: str) -> None:
        """Delete a token (nothing happens if already gone)."""
        token = await self._store.tokens.get(token_id)
        if token is not None:
            await self._store.tokens.delete(token)

    async def assign(self, user_id: str, token_id: str) -> None:
        """Give the token to the user too (a token may have several holders). The new holder's
        copy starts at the furthest counter any holder reached; nothing happens if the user
        holds it already. Raises NotFound (user or token)."""
        token = await self.get(token_id)
        copies = await self._store.tokens.copies(token)
        if any(copy.owner == user_id for copy in copies):
            return
        copy = dataclasses.replace(
            token, owner=user_id, holders=(), resync_count=0, resync_next=0,
            counter=max([token.counter, *(c.counter for c in copies)]),
            last_step=max([token.last_step, *(c.last_step for c in copies)]))
        await self._store.tokens.give(user_id, copy)

    async def unassign(self, user_id: str, token_id: str) -> None:
        """Take the token away from this user (other holders keep it); raises NotFound if the
        user does not hold it."""
        if await self._store.tokens.take(user_id, token_id) is None:
            raise NotFound("token_id")

    async def resync(self, token_id: str, codes: tuple[str, str, str]) -> None:
        """Find three consecutive codes within RESYNC_RANGE counters ahead and move past them."""
        token = await self.get(token_id)
        if not token.type.is_hotp:
            raise InvalidParameter("token_id (only HOTP tokens can be resynced)")
        generator = Hotp(self._box.open(token.sealed_seed, bound_to=token_id), token.type.digits)
        base = max([token.counter, *(c.counter for c in await self._store.tokens.copies(token))])
        start = base
        while (first := generator.find(codes[0], start, base + RESYNC_RANGE)) is not None:
            if constant_time_equal(generator.at(first + 1), codes[1]) \
                    and constant_time_equal(generator.at(first + 2), codes[2]):
                await self._store.tokens.advance_counter(token, first + 3)
                return
            start = first + 1
        raise InvalidParameter("code1, code2, code3 (not three consecutive codes of this token)")
