"""Bulk actions of the Users page (seed 001, Deleting Multiple Users; seed 002, resending
enrollment emails): the permission is checked once before any user is touched, then each user
is done through the same facade call as one at a time, with a report line per user."""

from __future__ import annotations

from dataclasses import dataclass

from authsvc.domain.access import Access
from authsvc.domain.admin.users import UserAdmin
from authsvc.errors import AuthsvcError, Forbidden, InvalidParameter
from authsvc.model.permissions import Action, Actor
from authsvc.store import Store


@dataclass(frozen=True, slots=True)
class BulkLine:
    """What happened to one selected user."""

    user_id: str
    username: str
    ok: bool
    detail: str


class BulkActions:
    """Send users to the Trash, or send them enrollment emails, many at once."""

    def __init__(self, store: Store, access: Access, users: UserAdmin) -> None:
        self._store = store
        self._access = access
        self._users = users

    async def run(self, actor: Actor, action: str, user_ids: list[str]) -> list[BulkLine]:
        """Do `action` ("trash" or "enrollment") to each user; a forbidden action changes
        nothing (403 before the first user)."""
        if action == "trash":
            await self._access.require(actor, Action.DELETE_USERS)
        elif action == "enrollment":
            await self._access.require_enrollment_email(actor, await self._store.account.cached())
        else:
            raise InvalidParameter("action")
        views = {view.user.user_id: view.user
                 for view in await self._store.profiles.load(list(dict.fromkeys(user_ids)))}
        lines = []
        for user_id in dict.fromkeys(user_ids):
            user = views.get(user_id)
            if user is None:
                lines.append(BulkLine(user_id, user_id, False, "no such user"))
                continue
            try:
                detail = await self._one(actor, action, user.user_id, user.username, user.email)
                lines.append(BulkLine(user_id, user.username, True, detail))
            except Forbidden:
                raise
            except AuthsvcError as error:
                lines.append(BulkLine(user_id, user.username, False,
                                      str(error.message_detail or error.message)))
        return lines

    async def _one(self, actor: Actor, action: str, user_id: str, username: str,
                   email: str) -> str:
        if action == "trash":
            await self._users.delete(actor, user_id)
            return "sent to the Trash"
        if not email:
            raise InvalidParameter("email (the user has no email address)")
        await self._users.enroll(actor, username, email, None)
        return f"enrollment email sent to {email}"
