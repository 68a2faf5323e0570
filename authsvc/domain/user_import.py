"""Bulk user import: create, update or delete users from a CSV (`user_import_csv.py` reads it),
with a report line per row, each row all or nothing.

A row's changes are, in order: the user (created or updated: one atomic call that claims the
names and writes the record), then its phones (found by number, or created, and attached). If a
step after the first fails, the steps already done for that row are undone: a user this row
created is deleted for good, an updated user gets its fields back, and phones this row attached
are detached (and deleted when this row created them). A delete row sends the user to the
Trash, as any deletion does (seed 001).

Groups a row names must all exist (looked up by name once per import); joining them is the
last step of the row, and the undo takes the user out of the groups this row put it in. An
import never removes a membership.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from authsvc.domain.groups import GroupDirectory
from authsvc.domain.phones import PhoneChanges, PhoneDirectory
from authsvc.domain.trash import Trash
from authsvc.domain.user_import_csv import COLUMNS, ImportRow, RowError, parse_import_csv
from authsvc.domain.users import ADMIN_STATUSES, UserChanges, UserDirectory
from authsvc.errors import AuthsvcError, Conflict, Forbidden
from authsvc.model.groups import Group
from authsvc.model.users import MAX_ALIASES, User

# Called before a row changes anything (the permission conditions of the caller's role).
RowCheck = Callable[[ImportRow, User | None], Awaitable[None]]


@dataclass(slots=True)
class ImportReport:
    """One entry per data row, in file order: ``result`` (created, updated, deleted, unchanged;
    ``would_...`` in a dry run) or ``error`` with ``field``."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for row in self.rows if "error" in row)


@dataclass(slots=True)
class _Undo:
    """What a row did so far, to undo it if a later step fails."""

    created: User | None = None
    before: User | None = None
    attached: list[str] = field(default_factory=list)
    new_phones: list[str] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)


def _restoring(before: User) -> UserChanges:
    """The changes that put an updated user's fields back."""
    aliases = {slot: before.aliases.get(slot, "") for slot in range(1, MAX_ALIASES + 1)}
    status = before.status.value if before.status in ADMIN_STATUSES else None
    return UserChanges(realname=before.realname, email=before.email, notes=before.notes,
                       firstname=before.firstname, lastname=before.lastname, status=status,
                       aliases=aliases, replace_aliases=True)


class UserImporter:
    """Apply an import CSV row by row."""

    def __init__(self, users: UserDirectory, phones: PhoneDirectory, trash: Trash,
                 groups: GroupDirectory) -> None:
        self._users = users
        self._phones = phones
        self._trash = trash
        self._groups = groups

    async def run(self, text: str, *, dry_run: bool = False,
                  check: RowCheck | None = None) -> ImportReport:
        """Import every row; raises InvalidParameter only when the file itself is unusable."""
        rows, errors = parse_import_csv(text)
        entries: dict[int, dict[str, Any]] = {
            error.line: _error_entry(error, "") for error in errors}
        named = await self._groups.by_name() if any(row.groups for row in rows) else {}
        for row in rows:
            try:
                groups = _named_groups(row, named)
                entries[row.line] = await self._one(row, groups, dry_run, check)
            except RowError as error:
                entries[row.line] = _error_entry(error, row.username)
        return ImportReport([entries[line] for line in sorted(entries)])

    async def _one(self, row: ImportRow, groups: list[Group], dry_run: bool,
                   check: RowCheck | None) -> dict[str, Any]:
        existing = await self._users.by_name(row.username)
        _check_action(row, existing)
        if check is not None:
            try:
                await check(row, existing)
            except Forbidden as exc:
                raise RowError(row.line, "", exc.message_detail or "not permitted") from None
        if dry_run:
            result = "delete" if row.action == "delete" else "update" if existing else "create"
            return {"line": row.line, "username": row.username, "result": f"would_{result}",
                    "user_id": existing.user_id if existing else None}
        if row.action == "delete":
            assert existing is not None  # noqa: S101 - _check_action
            sent = await self._trash.send(existing.user_id, why="import")
            return {"line": row.line, "username": row.username, "user_id": existing.user_id,
                    "result": "deleted" if sent else "unchanged"}
        undo = _Undo()
        try:
            user = await self._write_user(row, existing, undo)
            await self._attach_phones(row, user, undo)
            await self._join_groups(groups, user, undo)
        except AuthsvcError as exc:
            await self._undo(undo)
            raise _as_row_error(row, exc) from None
        return {"line": row.line, "username": user.username, "user_id": user.user_id,
                "result": "updated" if existing else "created", "phones": len(undo.attached)}

    async def _write_user(self, row: ImportRow, existing: User | None, undo: _Undo) -> User:
        if existing is None:
            undo.created = await self._users.add(row.changes)
            return undo.created
        updated = await self._users.update(existing.user_id,
                                           dataclasses.replace(row.changes, username=None))
        undo.before = existing
        return updated

    async def _attach_phones(self, row: ImportRow, user: User, undo: _Undo) -> None:
        held = {phone.phone_id for phone in await self._phones.of_user(user.user_id)}
        for wanted in row.phones:
            found = await self._phones.by_number(wanted.number, wanted.extension)
            if found:
                phone_id = found[0].phone_id
            else:
                phone_id = (await self._phones.add(PhoneChanges(
                    number=wanted.number, extension=wanted.extension, type=wanted.type,
                    platform=wanted.platform))).phone_id
                undo.new_phones.append(phone_id)
            if phone_id not in held:
                await self._phones.attach(user.user_id, phone_id)
                held.add(phone_id)
                undo.attached.append(phone_id)

    async def _join_groups(self, groups: list[Group], user: User, undo: _Undo) -> None:
        held = {group.group_id for group in await self._groups.of_user(user)}
        for group in groups:
            if group.group_id not in held:
                await self._groups.add_member(user, group.group_id)
                undo.joined.append(group.group_id)

    async def _undo(self, undo: _Undo) -> None:
        """Put back what the failed row changed (best effort: a second failure is reported by
        the row's error, and leaves at worst a phone or field to fix by hand)."""
        user = undo.created or undo.before
        if user is not None:
            for group_id in undo.joined:
                await self._groups.remove_member(user, group_id)
            for phone_id in undo.attached:
                await self._phones.detach(user.user_id, phone_id)
        for phone_id in undo.new_phones:
            await self._phones.delete(phone_id)
        if undo.created is not None:
            await self._trash.purge(undo.created, trashed_by_ms=None)
        elif undo.before is not None:
            await self._users.update(undo.before.user_id, _restoring(undo.before))


def _check_action(row: ImportRow, existing: User | None) -> None:
    """The row's action against the user as it is now (RowError when it cannot apply)."""
    if row.action in ("update", "delete") and existing is None:
        raise RowError(row.line, "username", "no such user")
    if row.action == "create" and existing is not None:
        raise RowError(row.line, "username", "a user with this name or alias exists")
    if existing is not None and existing.in_trash and row.action != "delete":
        raise RowError(row.line, "username", "the user is in the Trash (restore it first)")


def _named_groups(row: ImportRow, named: dict[str, list[Group]]) -> list[Group]:
    """The groups the row names (RowError naming the first that does not exist, or that two
    groups share)."""
    if row.groups and row.action == "delete":
        raise RowError(row.line, "groups", "not used when deleting")
    found = []
    for name in row.groups:
        matches = named.get(name.lower(), [])
        if len(matches) != 1:
            why = "no group named" if not matches else "more than one group is named"
            raise RowError(row.line, "groups", f"{why} {name!r}")
        found.append(matches[0])
    return found


def _as_row_error(row: ImportRow, exc: AuthsvcError) -> RowError:
    """A refusal of the directory as a row error naming the column when there is one."""
    detail = exc.message_detail or exc.message
    if isinstance(exc, Conflict) and "already in use" in detail:
        return RowError(row.line, "username", detail)  # the name or an alias is taken
    name, _, why = detail.partition(" (")
    if name in COLUMNS:
        return RowError(row.line, name, why.rstrip(")") or "invalid value")
    return RowError(row.line, "", detail)


def _error_entry(error: RowError, username: str) -> dict[str, Any]:
    return {"line": error.line, "username": username or None, "field": error.field or None,
            "error": error.why}
