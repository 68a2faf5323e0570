"""``authsvc admin``: the administrators commands of the host (the first Owner is made here).

``authsvc admin create --email E --name N --role R`` prints the new administrator as one JSON
object with its one-time ``setup_link`` (open it to choose a password and add the second
factor); ``authsvc admin reset --email E`` lifts a sign-in lockout (the way back in when the
only Owner locked themselves out). Both act as the host's operator (`SYSTEM`), and both are
written to the administrator log.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from authsvc.errors import AuthsvcError
from authsvc.model.admins import DUO_ROLE_NAMES, role_from_text
from authsvc.model.permissions import SYSTEM
from authsvc.model.roles import Role
from authsvc.services import Services
from authsvc.settings import Settings

if TYPE_CHECKING:
    from authsvc.cli.tools import OneLineParser

    Commands = argparse._SubParsersAction[OneLineParser]


def add_commands(commands: Commands, add_store_flags: Callable[[argparse.ArgumentParser], None],
                 parser_class: type[OneLineParser]) -> None:
    """Add ``admin create`` and ``admin reset`` to the ``authsvc`` parser."""
    group = commands.add_parser("admin", help="administrators of the Admin Panel")
    actions = group.add_subparsers(dest="action", required=True, parser_class=parser_class)
    create = actions.add_parser("create", help="create an administrator; prints a setup link")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", default="owner",
                        help="one of: " + ", ".join(role.value for role in Role)
                             + " (or Duo's names, e.g. 'Help Desk'; default owner)")
    add_store_flags(create)
    reset = actions.add_parser("reset", help="lift an administrator's sign-in lockout")
    reset.add_argument("--email", required=True)
    add_store_flags(reset)


def run(settings: Settings, args: argparse.Namespace,
        with_store: Callable[[Settings, Callable[[Services], Any]], Any]) -> int:
    """Run ``admin create`` or ``admin reset``; print JSON, or an error line and exit 1."""
    try:
        if args.action == "create":
            result = with_store(settings, lambda svc: _create(svc, args))
        else:
            result = with_store(settings, lambda svc: _reset(svc, args.email))
    except AuthsvcError as exc:
        print(f"authsvc: error: {exc.message_detail or exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


async def _create(svc: Services, args: argparse.Namespace) -> dict[str, Any]:
    role = role_from_text(args.role)
    if role is None:
        raise AuthsvcError("role (" + ", ".join(r.value for r in Role) + ")")
    admin, link, expires = await svc.admin.admins.create(SYSTEM, args.email, args.name, role,
                                                         mail=False)
    return {"admin_id": admin.admin_id, "email": admin.email, "name": admin.name,
            "role": DUO_ROLE_NAMES[admin.role], "setup_link": link, "expires": expires}


async def _reset(svc: Services, email: str) -> dict[str, Any]:
    found = await svc.store.admins.by_email(email)
    if found is None:
        raise AuthsvcError("email (no administrator has this email)")
    admin = await svc.admin.admins.reset(SYSTEM, found[0].admin_id)
    return {"admin_id": admin.admin_id, "email": admin.email, "status": admin.status.duo_name}
