"""The settings' value types: the error a bad variable raises, and a secret that never shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network

IPNetwork = IPv4Network | IPv6Network


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A string whose repr never shows the value."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('**********')"
