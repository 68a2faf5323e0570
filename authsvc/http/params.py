"""Typed readers for request parameters, wherever the client put them.

duo_client sends GET/DELETE parameters in the query string, POST parameters as a form body
(signature v2) or as a JSON object (v4/v5, where some values arrive as raw booleans, numbers,
lists or objects). `Params` hides the difference; every reader raises MissingParameter or
InvalidParameter naming the parameter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from authsvc.errors import InvalidParameter, MissingParameter

MAX_OFFSET = 2**31
_TRUE = ("1", "true")
_FALSE = ("0", "false")


def is_utf8_encodable(text: str) -> bool:
    """False for strings holding lone surrogates (a JSON body can carry them as \\u escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Params:
    """Parameter name -> list of values (str, or JSON scalars/containers from a JSON body)."""

    def __init__(self, values: Mapping[str, list[Any]]) -> None:
        self._values = values

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Params:
        values: dict[str, list[Any]] = {}
        for key, value in pairs:
            values.setdefault(key, []).append(value)
        return cls(values)

    @classmethod
    def from_json(cls, body: bytes) -> Params:
        """A JSON object body (empty body = no parameters)."""
        if not body.strip():
            return cls({})
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise InvalidParameter("body (invalid JSON)") from None
        if not isinstance(data, dict):
            raise InvalidParameter("body (must be a JSON object)")
        return cls({key: [value] for key, value in data.items()})

    def names(self) -> set[str]:
        return set(self._values)

    def raw(self, name: str) -> Any:
        """The first value as sent, or None."""
        values = self._values.get(name)
        return values[0] if values else None

    def text(self, name: str, *, required: bool = False, max_length: int = 4096) -> str | None:
        """A string (JSON numbers are accepted as their text)."""
        value = self.raw(name)
        if value is None:
            if required:
                raise MissingParameter(name)
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidParameter(name)
        text = str(value)
        if len(text) > max_length or "\x00" in text or not is_utf8_encodable(text):
            raise InvalidParameter(name)
        return text

    def required_text(self, name: str, *, max_length: int = 4096) -> str:
        value = self.text(name, required=True, max_length=max_length)
        assert value is not None  # noqa: S101 - required=True raised otherwise
        return value

    def integer(self, name: str, *, default: int | None = None, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
        """An integer within bounds (sent as a string or a JSON number)."""
        value = self.raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise InvalidParameter(name)
        try:
            number = int(value) if isinstance(value, int) else int(str(value).strip(), 10)
        except ValueError:
            raise InvalidParameter(name) from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise InvalidParameter(name)
        return number

    def paging(self, *, default_limit: int, max_limit: int) -> tuple[int, int]:
        """`offset` (0..2**31) and `limit` (1.., capped at `max_limit`) for a paged listing."""
        offset = self.integer("offset", default=0, minimum=0, maximum=MAX_OFFSET) or 0
        limit = self.integer("limit", default=default_limit, minimum=1) or default_limit
        return offset, min(limit, max_limit)

    def flag(self, name: str, *, default: bool = False) -> bool:
        """"1"/"true"/true or "0"/"false"/false."""
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise InvalidParameter(name)

    def items(self, name: str) -> list[str]:
        """Repeated keys, a JSON list, or one comma-separated string."""
        values = self._values.get(name, [])
        items: list[str] = []
        for value in values:
            if isinstance(value, list):
                items.extend(str(item) for item in value)
            elif isinstance(value, str):
                items.extend(part for part in value.split(",") if part)
            else:
                raise InvalidParameter(name)
        return items
