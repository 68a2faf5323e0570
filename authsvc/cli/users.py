"""``authsvc users``: bulk enrollment, bulk import, and the user counters' rebuild."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from authsvc.cli.common import actions, add_store_flags, with_store
from authsvc.cli.tools import read_text
from authsvc.domain.invitations import parse_bulk_csv
from authsvc.errors import InvalidParameter
from authsvc.model.permissions import SYSTEM
from authsvc.services import Services
from authsvc.settings import Settings

if TYPE_CHECKING:
    from authsvc.cli.common import Commands


def users_commands(commands: Commands) -> None:
    """The ``users`` subcommands."""
    group = actions(commands, "users", "user administration")
    bulk = group.add_parser("bulk-enroll", help="mail enrollment links to a CSV of users")
    bulk.add_argument("file", type=Path, help="CSV with username,email per line")
    bulk.add_argument("--valid-secs", type=int, help="link lifetime (default 30 days)")
    add_store_flags(bulk)
    importing = group.add_parser(
        "import", help="create, update or delete users from a CSV (docs/api.md, user import)")
    importing.add_argument("file", type=Path, help="the CSV, with a header line")
    importing.add_argument("--dry-run", action="store_true",
                           help="check every row against the users as they are; change nothing")
    add_store_flags(importing)
    add_store_flags(group.add_parser(
        "recount", help="count every user again into the Users page counters (a repair)"))


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Dispatch a ``users`` subcommand."""
    if args.action == "bulk-enroll":
        return bulk_enroll(settings, args.file, args.valid_secs)
    if args.action == "import":
        return import_users(settings, args.file, args.dry_run)
    return recount(settings)


def bulk_enroll(settings: Settings, path: Path, valid_secs: int | None) -> int:
    """Enroll every ``username,email`` row of a CSV: all rows are checked first (a bad row
    changes nothing); then a progress bar on stderr and one report line per row on stdout."""
    try:
        rows = parse_bulk_csv(read_text(path))
    except InvalidParameter as exc:
        print(f"authsvc: error: {exc.message_detail}", file=sys.stderr)
        return 1

    async def enroll_all(svc: Services) -> None:
        for row in tqdm(rows, desc="enrolling", unit="user", file=sys.stderr):
            outcome = await svc.invitations.invite(row.username, row.email, valid_secs)
            what = "mailed" if outcome["mailed"] else outcome["reason"]
            print(f"line {row.line}: {row.username} <{row.email}>: {what}", flush=True)

    with_store(settings, enroll_all, links=True)
    return 0


def import_users(settings: Settings, path: Path, dry_run: bool) -> int:
    """Import a user CSV as the system (Owner): one report line per row on stdout; exit 1 when
    the file is unusable or any row failed (the good rows are imported all the same)."""
    text = read_text(path)

    async def run_import(svc: Services) -> int:
        try:
            report = await svc.admin.users.import_users(SYSTEM, text, dry_run=dry_run)
        except InvalidParameter as exc:
            print(f"authsvc: error: {exc.message_detail}", file=sys.stderr)
            return 1
        for row in report.rows:
            if "error" in row:
                field = f"{row['field']}: " if row["field"] else ""
                print(f"line {row['line']}: error: {field}{row['error']}", flush=True)
            else:
                print(f"line {row['line']}: {row['username']}: {row['result']}", flush=True)
        return 1 if report.errors else 0

    return with_store(settings, run_import)


def recount(settings: Settings) -> int:
    """Count every user again (idempotent; safe while the service runs)."""
    counted = with_store(settings, lambda svc: svc.store.counts.rebuild())
    print(f"counted {counted} user(s)")
    return 0
