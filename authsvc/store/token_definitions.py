"""Token definitions (type, serial, sealed seed, creation, TOTP step), kept per process.

A token's definition never changes (a new seed is a new token), and it is stored once, in the
token's own record (`Keys.token_records`); each holder's copy in the holder's slot keeps only
the counters the decision script moves. Readers of copies merge them with the definition: from
this cache, or read with one HMGET for the tokens it does not know yet (a token created by
another process, or after a restart). Sealed seeds only: nothing here is opened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from authsvc.model.tokens import Token
from authsvc.store.core import StoreContext
from authsvc.store.records import copy_of, token_from_json

CACHE_SIZE = 200_000


class TokenDefinitions:
    """token id -> definition (a `Token` whose counters mean nothing), bounded."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._known: dict[str, Token] = {}

    def remember(self, token: Token) -> None:
        """A token record just written or read."""
        if len(self._known) >= CACHE_SIZE:
            self._known.clear()
        self._known[token.token_id] = token

    def missing(self, token_ids: Iterable[str]) -> list[str]:
        """The ids among `token_ids` whose definition is not known here."""
        return [token_id for token_id in token_ids if token_id not in self._known]

    async def fetch(self, token_ids: Iterable[str]) -> None:
        """Read the definitions this process does not know yet (one HMGET, none if all are)."""
        wanted = self.missing(token_ids)
        if not wanted:
            return
        raws = await self._ctx.redis.execute("HMGET", self._ctx.keys.token_records(), *wanted)
        for token_id, raw in zip(wanted, raws, strict=True):
            if raw:
                self.remember(token_from_json(raw, None, token_id))

    def copy(self, raw: str, token_id: str, owner: str) -> Token | None:
        """A holder's copy with its definition (None: the token no longer exists)."""
        return copy_of(raw, token_id, owner, self._known.get(token_id))

    def copies(self, stored: Mapping[str, str], owner: str) -> list[Token]:
        """Every copy of a user's token hash (token id -> copy) with its definition."""
        found = (self.copy(raw, token_id, owner) for token_id, raw in stored.items())
        return [token for token in found if token is not None]

    async def read(self, stored: Mapping[str, str], owner: str) -> list[Token]:
        """`copies`, after fetching the definitions not known yet."""
        await self.fetch(token_id for token_id, raw in stored.items() if '"seed"' not in raw)
        return self.copies(stored, owner)
