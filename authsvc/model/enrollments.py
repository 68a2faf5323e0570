"""Enrollment by emailed link, and self-service portal sessions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PendingEnrollment:
    """An emailed enrollment link not used yet; `token_hash` is all Redis keeps of the link."""

    enrollment_id: str
    user_id: str
    username: str
    created: int
    expires: int
    token_hash: str = ""


@dataclass(frozen=True, slots=True)
class PortalSession:
    """A signed-in self-service portal user."""

    user_id: str
    csrf: str
