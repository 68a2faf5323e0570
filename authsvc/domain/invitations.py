"""Enrollment by email: an admin invites a user (`enroll_user`, or a CSV in bulk), the user opens
the mailed link in the enrollment portal and adds Duo Mobile or a phone for SMS.

A user who already has a device gets no mail. Links expire (default 30 days) and work once; a
resend mails another copy of the same link (kept sealed with the master key, so it can be
rebuilt) with its expiry unchanged, to the user's current email (seed 002; seed 001 says the
original address: docs/api.md explains the choice); deleting a pending enrollment kills its
link. A link of a user in the Trash, or deleted, does not open.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from authsvc.clock import Clock
from authsvc.crypto import SecretBox, random_id, secret_hash
from authsvc.domain.csv_rows import csv_rows
from authsvc.domain.links import Links
from authsvc.domain.messages import Message, Messenger
from authsvc.domain.users import UserChanges, UserDirectory, check_email, normalize_name
from authsvc.errors import Conflict, InvalidParameter, MissingParameter, NotFound
from authsvc.model.enrollments import PendingEnrollment
from authsvc.store import Store

DEFAULT_VALID_SECS = 30 * 86_400
MAX_VALID_SECS = 365 * 86_400
MAX_BULK_ROWS = 10_000


def token_hash(token: str) -> str:
    """What Redis keeps of a link or session token."""
    return secret_hash(token)


@dataclass(frozen=True, slots=True)
class BulkRow:
    """One line of a bulk-enrollment CSV."""

    line: int
    username: str
    email: str


HEADER = ["username", "email"]


def _bulk_row(line: int, fields: list[str], seen: set[str]) -> BulkRow:
    if len(fields) != 2:
        raise InvalidParameter(f"{len(fields)} fields, expected two: username,email")
    username = normalize_name(fields[0], "username")
    if username in seen:
        raise InvalidParameter(f"username {username} repeated")
    return BulkRow(line, username, check_email(fields[1]))


def parse_bulk_csv(text: str) -> list[BulkRow]:
    """``username,email`` lines, optionally after the header ``username,email``. Every row is
    checked before anything happens; raises InvalidParameter listing each bad row and why.

    A first line that is neither the header nor a good row is refused as a wrong header (it is
    never taken for data): ``name,mail`` must not become a user called "name".
    """
    rows: list[BulkRow] = []
    errors: list[str] = []
    seen: set[str] = set()
    first = True
    for line, fields in enumerate(csv_rows(text), start=1):
        if not fields or not "".join(fields).strip():
            continue
        is_first, first = first, False
        if is_first and [f.strip().lower() for f in fields] == HEADER:
            continue
        try:
            row = _bulk_row(line, fields, seen)
        except InvalidParameter as exc:
            if is_first:
                raise InvalidParameter(
                    f"csv: line {line}: the first line must be the header username,email "
                    f"or a username,email row ({exc.message_detail})") from None
            errors.append(f"line {line}: {exc.message_detail}")
            continue
        seen.add(row.username)
        rows.append(row)
    if errors:
        raise InvalidParameter("csv: " + "; ".join(errors[:20]))
    if not rows or len(rows) > MAX_BULK_ROWS:
        raise InvalidParameter(f"csv (1-{MAX_BULK_ROWS} rows)")
    return rows


class Invitations:
    """Enrollment invitations and their links."""

    def __init__(self, store: Store, clock: Clock, users: UserDirectory, links: Links,
                 messenger: Messenger, box: SecretBox) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._users = users
        self._links = links
        self._messenger = messenger

    async def enrolled(self, user_id: str) -> bool:
        """True if the user has any device (phone, token, security key)."""
        loaded = await self._store.attempts.load(user_id)
        if loaded is None:
            return False
        return bool(loaded.tokens or loaded.phone_ids
                    or await self._store.security_keys.of_user(user_id))

    async def invite(self, username: str, email: str, valid_secs: int | None = None, *,
                     even_if_enrolled: bool = False) -> dict[str, Any]:
        """Create the user if needed and mail an enrollment link (not to enrolled users, unless
        `even_if_enrolled`: an admin's security-key enrollment link)."""
        email = check_email(email)
        valid = DEFAULT_VALID_SECS if valid_secs is None else valid_secs
        if not 1 <= valid <= MAX_VALID_SECS:
            raise InvalidParameter(f"valid_secs (1-{MAX_VALID_SECS})")
        user = await self._users.by_name(username)
        if user is not None and user.in_trash:
            raise Conflict("username (the user is in the Trash: restore it first)")
        if user is None:
            user = await self._users.add(UserChanges(username=username, email=email))
        elif user.email != email:
            user = await self._users.update(user.user_id, UserChanges(email=email))
        if not even_if_enrolled and await self.enrolled(user.user_id):
            return {"user_id": user.user_id, "username": user.username, "mailed": False,
                    "reason": "already enrolled"}
        now, token, enrollment_id = int(self._clock.now()), secrets.token_urlsafe(24), \
            random_id("DE")
        record = PendingEnrollment(enrollment_id=enrollment_id, user_id=user.user_id,
                                   username=user.username, created=now, expires=now + valid,
                                   token_hash=token_hash(token), email=email,
                                   sealed_token=self._seal(enrollment_id, token))
        await self._store.enrollments.put(record)
        await self._mail(email, token)
        return {"user_id": user.user_id, "username": user.username, "mailed": True,
                "enrollment_id": record.enrollment_id, "expires": record.expires}

    async def invite_bulk(self, csv_text: str, valid_secs: int | None) -> list[dict[str, Any]]:
        """Invite every row of a ``username,email`` CSV; every row is checked before anything
        happens (a bad row raises InvalidParameter). One report entry per row."""
        report = []
        for row in parse_bulk_csv(csv_text):
            outcome = await self.invite(row.username, row.email, valid_secs)
            report.append({"line": row.line, **outcome})
        return report

    async def invite_for_key(self, user_id: str, email: str | None,
                             valid_secs: int | None) -> dict[str, Any]:
        """Mail an enrolled user a link on which they register a security key themselves."""
        user = await self._users.get(user_id)
        address = email or user.email
        if not address:
            raise MissingParameter("email (the user has no email address)")
        return await self.invite(user.username, address, valid_secs, even_if_enrolled=True)

    async def _mail(self, email: str, token: str) -> None:
        link = f"{self._links.base_url}/portal/enroll/{token}"
        body = (f"Set up two-factor authentication for your account: open {link} and add "
                "Duo Mobile or a phone that receives SMS.")
        await self._messenger.send(Message("email", email, body, "enrollment",
                                           context="enrollment",
                                           subject="Set up two-factor authentication"))

    def _seal(self, enrollment_id: str, token: str) -> str:
        return self._box.seal(token.encode(), bound_to=f"enrollment:{enrollment_id}")

    async def pending(self) -> list[dict[str, Any]]:
        """Every pending enrollment with the user's email address and the link's expiry
        (seed 001, Pending Enrollments), soonest to expire first."""
        records = await self._store.enrollments.pending(int(self._clock.now()))
        users = {user.user_id: user for user in await self._users.get_many(
            {record.user_id for record in records})}
        return [{"enrollment_id": r.enrollment_id, "user_id": r.user_id,
                 "username": users[r.user_id].username, "email": users[r.user_id].email,
                 "sent_to": r.email or None, "created": r.created, "expires": r.expires}
                for r in records if r.user_id in users]

    async def resend(self, enrollment_id: str) -> dict[str, Any]:
        """Mail another copy of the same link (same expiry; the link keeps working) to the
        user's current email."""
        record = await self._store.enrollments.get(enrollment_id)
        if record is None:
            raise NotFound("enrollment_id")
        user = await self._users.get(record.user_id)
        if not user.email:
            raise MissingParameter("email (the user has no email address)")
        if record.sealed_token:
            token = self._box.open(record.sealed_token,
                                   bound_to=f"enrollment:{enrollment_id}").decode()
        else:  # stored before links were kept sealed: a new link, same expiry
            token = secrets.token_urlsafe(24)
            await self._store.enrollments.retoken(record, token_hash(token),
                                                  self._seal(enrollment_id, token))
        await self._mail(user.email, token)
        return {"enrollment_id": enrollment_id, "email": user.email, "expires": record.expires}

    async def delete(self, enrollment_id: str) -> None:
        if await self._store.enrollments.get(enrollment_id) is None:
            raise NotFound("enrollment_id")
        await self._store.enrollments.drop(enrollment_id)

    async def opened(self, token: str) -> PendingEnrollment:
        """The enrollment behind a link, if still valid; raises NotFound."""
        record = await self._store.enrollments.by_token(token_hash(token))
        if record is None or not await self._user_may_enroll(record.user_id):
            raise NotFound("enrollment link (unknown, expired or used)")
        return record

    async def _user_may_enroll(self, user_id: str) -> bool:
        user = await self._users.find(user_id)
        return user is not None and not user.in_trash

    async def consume(self, token: str) -> PendingEnrollment:
        """Use the link up (once); raises NotFound."""
        await self.opened(token)  # raises for a link of a user in the Trash or deleted
        record = await self._store.enrollments.take(token_hash(token))
        if record is None:
            raise NotFound("enrollment link (unknown, expired or used)")
        return record
