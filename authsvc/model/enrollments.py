"""Enrollment by emailed link, and self-service portal sessions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PendingEnrollment:
    """An emailed enrollment link not used yet. Redis keeps the link's hash (to find it) and the
    link sealed with the master key (`sealed_token`, bound to the enrollment id), so that a
    resend mails the same link again (seeds 001/002); `email` is where it was first sent."""

    enrollment_id: str
    user_id: str
    username: str
    created: int
    expires: int
    token_hash: str = ""
    sealed_token: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class PortalSession:
    """A signed-in self-service portal user."""

    user_id: str
    csrf: str
