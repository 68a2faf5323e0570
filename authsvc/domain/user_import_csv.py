"""The CSV of a bulk user import (seed 001 "Creating Users from CSV Import", seed 002 "Import
Users"): parsed and checked row by row before anything is written.

A header line names the columns, in any order and any case:

- ``username`` (required): the user the row is about;
- ``action``: ``create`` | ``update`` | ``delete`` | ``upsert`` (the default: create the user if
  there is none, else update it);
- ``realname``, ``firstname``, ``lastname``, ``email``, ``notes``, ``status`` (active, bypass,
  disabled), ``alias1`` .. ``alias8`` (a blank cell leaves an alias as it is; ``-`` removes it);
- ``groups``: group names separated by ``;`` (each must exist: `user_import.py`);
- ``phone1`` .. ``phone5`` with ``phoneN_platform``, ``phoneN_type`` and ``phoneN_extension``:
  phones to attach (a phone with that number and extension is reused, else created).

A bad row is reported with its line number, the field and why; the other rows go on.
"""

from __future__ import annotations

from dataclasses import dataclass

from authsvc.domain.csv_rows import csv_rows
from authsvc.domain.phones import normalize_number
from authsvc.domain.users import UserChanges, apply_changes, normalize_name
from authsvc.errors import AuthsvcError, InvalidParameter
from authsvc.model.phones import PLATFORMS, PhoneType
from authsvc.model.users import MAX_ALIASES, User

MAX_ROWS = 10_000
MAX_PHONES = 5
ACTIONS = ("upsert", "create", "update", "delete")
REMOVE = "-"
PROFILE = ("realname", "firstname", "lastname", "email", "notes", "status")
ALIASES = tuple(f"alias{slot}" for slot in range(1, MAX_ALIASES + 1))
PHONE_FIELDS = ("", "_platform", "_type", "_extension")
COLUMNS = frozenset({"username", "action", "groups", *PROFILE, *ALIASES, *(
    f"phone{n}{suffix}" for n in range(1, MAX_PHONES + 1) for suffix in PHONE_FIELDS)})


class RowError(Exception):
    """One row cannot be imported: `field` is the column at fault ("" = the whole row)."""

    def __init__(self, line: int, field: str, why: str) -> None:
        super().__init__(f"line {line}: {field + ': ' if field else ''}{why}")
        self.line, self.field, self.why = line, field, why


@dataclass(frozen=True, slots=True)
class PhoneRow:
    """A phone to attach: number in E.164, and what to set when it is created."""

    number: str
    extension: str
    platform: str
    type: str


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One checked row."""

    line: int
    action: str
    username: str
    changes: UserChanges
    groups: tuple[str, ...] = ()
    phones: tuple[PhoneRow, ...] = ()


def _header(fields: list[str]) -> list[str]:
    names = [name.strip().lower() for name in fields]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise InvalidParameter(f"csv: line 1: unknown column {unknown[0]!r} (see docs/api.md)")
    if "username" not in names or len(set(names)) != len(names):
        raise InvalidParameter("csv: line 1: the header needs one username column, and no "
                               "column twice")
    return names


def _phone(line: int, cells: dict[str, str], n: int) -> PhoneRow | None:
    number = cells.get(f"phone{n}", "")
    if not number:
        return None
    try:
        normalized = normalize_number(number)
    except InvalidParameter:
        raise RowError(line, f"phone{n}", "not a phone number") from None
    extension = cells.get(f"phone{n}_extension", "")
    if extension and (not extension.isdigit() or len(extension) > 10):
        raise RowError(line, f"phone{n}_extension", "digits only, at most 10")
    platform = cells.get(f"phone{n}_platform", "").lower() or "generic smartphone"
    if platform not in PLATFORMS:
        raise RowError(line, f"phone{n}_platform", f"one of {', '.join(PLATFORMS)}")
    kind = cells.get(f"phone{n}_type", "").lower() or "mobile"
    if kind not in {member.value for member in PhoneType}:
        raise RowError(line, f"phone{n}_type", "mobile, landline or unknown")
    return PhoneRow(normalized, extension, platform, kind)


def _changes(line: int, cells: dict[str, str], username: str) -> UserChanges:
    aliases = {slot: ("" if cells[name] == REMOVE else cells[name])
               for slot, name in enumerate(ALIASES, start=1) if cells.get(name)}
    def cell(name: str) -> str | None:
        return cells.get(name) or None

    status = cell("status")
    changes = UserChanges(username=username, realname=cell("realname"), email=cell("email"),
                          notes=cell("notes"), firstname=cell("firstname"),
                          lastname=cell("lastname"), status=status.lower() if status else None,
                          aliases=aliases)
    try:  # every field rule of a manual creation, on a blank user
        apply_changes(User(user_id="DU-check", username="", created=0), changes)
    except AuthsvcError as exc:
        detail = exc.message_detail or "invalid"
        field, _, why = detail.partition(" (")
        raise RowError(line, field, why.rstrip(")") or "invalid value") from None
    return changes


def _row(line: int, cells: dict[str, str]) -> ImportRow:
    try:
        username = normalize_name(cells.get("username", ""), "username")
    except InvalidParameter:
        raise RowError(line, "username", "required, 1-255 printable characters") from None
    action = cells.get("action", "").lower() or "upsert"
    if action not in ACTIONS:
        raise RowError(line, "action", f"one of {', '.join(ACTIONS)}")
    if action == "delete":
        return ImportRow(line, action, username, UserChanges())
    groups = tuple(name.strip() for name in cells.get("groups", "").split(";") if name.strip())
    phones = tuple(phone for n in range(1, MAX_PHONES + 1)
                   if (phone := _phone(line, cells, n)) is not None)
    return ImportRow(line, action, username, _changes(line, cells, username), groups, phones)


def parse_import_csv(text: str) -> tuple[list[ImportRow], list[RowError]]:
    """The rows that can be imported and the errors of those that cannot (a username twice:
    every repeat after the first). Raises InvalidParameter when the file itself is unusable
    (no header, an unknown column, no rows, more than MAX_ROWS)."""
    reader = iter(csv_rows(text))
    header = next(reader, None)
    if not header:
        raise InvalidParameter("csv (empty: a header line and at least one row)")
    names, rows, errors, seen = _header(header), [], [], set()
    for line, fields in enumerate(reader, start=2):
        if not "".join(fields).strip():
            continue
        try:
            if len(fields) > len(names):
                raise RowError(line, "", f"{len(fields)} fields for {len(names)} columns")
            row = _row(line, {name: value.strip() for name, value in zip(names, fields,
                                                                           strict=False)})
            if row.username in seen:
                raise RowError(line, "username", "already in an earlier row")
        except RowError as error:
            errors.append(error)
            continue
        seen.add(row.username)
        rows.append(row)
    if not rows and not errors or len(rows) + len(errors) > MAX_ROWS:
        raise InvalidParameter(f"csv (1-{MAX_ROWS} rows after the header)")
    return rows, errors
