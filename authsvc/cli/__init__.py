"""The ``authsvc`` command: serve, integration create/list, users (cli/users.py), admin
(cli/admins.py), tokens import, tls dev-cert.

Flags override ``AUTHSVC_*`` variables (docs/configuration.md lists them all). Bad flags print
one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from authsvc import __version__
from authsvc.cli import admins, users
from authsvc.cli.common import actions, add_store_flags, with_store
from authsvc.cli.integrations import integration_create, integration_list
from authsvc.cli.tools import NotText, OneLineParser, read_text
from authsvc.embedded_redis import EmbeddedRedisError
from authsvc.errors import InvalidParameter
from authsvc.model.authlog import REQUEST_ID
from authsvc.model.integrations import Role
from authsvc.obs import logs
from authsvc.server import ServeError, serve
from authsvc.services import Services
from authsvc.settings import Settings, SettingsError
from authsvc.store import RedisUnavailable
from authsvc.tls import write_dev_cert

if TYPE_CHECKING:
    from authsvc.cli.common import Commands

log = logging.getLogger("authsvc")


def _parser() -> OneLineParser:
    parser = OneLineParser(prog="authsvc", description="Duo-compatible two-factor service.")
    parser.add_argument("--version", action="version", version=f"authsvc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for add in (_serve_command, _integration_commands, users.users_commands, _tokens_commands,
                _tls_commands):
        add(commands)
    admins.add_commands(commands, add_store_flags, OneLineParser)
    return parser


def _serve_command(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="run the service",
                                description="Run the service (plain HTTP unless TLS files are given).")
    serve.add_argument("--host", help="listen address (AUTHSVC_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (AUTHSVC_PORT, default 8080)")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate (AUTHSVC_TLS_CERT)")
    serve.add_argument("--tls-key", type=Path, help="PEM private key (AUTHSVC_TLS_KEY)")
    serve.add_argument("--public-host", metavar="NAME[:PORT]",
                       help="host written into links and codes (AUTHSVC_PUBLIC_HOST)")
    serve.add_argument("--workers", type=int, metavar="N",
                       help="processes serving the port (AUTHSVC_WORKERS, default: one per "
                            "CPU core; 1 = a single process)")
    add_store_flags(serve)


def _integration_commands(commands: Commands) -> None:
    group = actions(commands, "integration", "manage integrations (ikey/skey)")
    create = group.add_parser("create", help="create an integration; prints JSON with the skey")
    create.add_argument("--type", required=True, choices=["auth", "admin", "web"])
    create.add_argument("--name", required=True)
    create.add_argument("--role", default=Role.OWNER.value, choices=[role.value for role in Role])
    web = create.add_argument_group("web integrations (the Duo Prompt, duo_universal)")
    web.add_argument("--redirect-uri", action="append", default=[], metavar="URL",
                     help="an allowed redirect URI, matched exactly (repeatable)")
    web.add_argument("--enroll-policy", default="enroll", choices=["enroll", "allow", "deny"],
                     help="users with no device: enroll inline (default), allow, or deny")
    web.add_argument("--remember-days", type=int, default=0, metavar="N",
                     help="offer 'remember me for N days' (default 0: never)")
    web.add_argument("--no-self-service", action="store_true",
                     help="no 'Manage devices' in the prompt")
    add_store_flags(create)
    add_store_flags(group.add_parser("list", help="list integrations (no secrets)"))


def _tokens_commands(commands: Commands) -> None:
    group = actions(commands, "tokens", "hardware tokens")
    importing = group.add_parser("import", help="import a vendor's token CSV")
    importing.add_argument("file", type=Path, help="the CSV (see docs/api.md, token import)")
    importing.add_argument("--type", required=True, choices=["h6", "h8", "t6", "t8", "yk"])
    importing.add_argument("--partial", action="store_true",
                           help="import the good rows even if some are bad")
    add_store_flags(importing)


def _tls_commands(commands: Commands) -> None:
    group = actions(commands, "tls", "TLS helpers")
    dev = group.add_parser("dev-cert", help="write a development CA and server certificate")
    dev.add_argument("--out", type=Path, help="output directory (default DATA_DIR/tls)")
    dev.add_argument("--name", action="append", default=[],
                     help="extra DNS name or IP for the certificate (repeatable)")
    dev.add_argument("--days", type=int, default=825, help="validity in days (default 825)")
    add_store_flags(dev, redis=False)


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {name: getattr(args, name, None)
                 for name in ("host", "port", "tls_cert", "tls_key", "public_host", "data_dir",
                              "redis_url", "workers")}
    return Settings.from_env(os.environ, **overrides)


def _configure_logging(level: str, log_format: str = "text") -> None:
    logs.configure(level, log_format, REQUEST_ID.get)


def import_tokens(settings: Settings, path: Path, token_type: str, partial: bool) -> int:
    """Import a token CSV: progress bar on stderr, one report line per row on stdout; a bad
    row fails the whole import (exit 1, nothing imported) unless --partial."""
    text = read_text(path)
    lines = sum(1 for line in text.splitlines() if line.strip())

    async def run(svc: Services) -> int:
        with tqdm(total=lines, desc="importing", unit="token", file=sys.stderr) as bar:
            async def step() -> None:
                bar.update()
            try:
                report = await svc.token_import.run(text, token_type, partial=partial,
                                                    progress=step)
            except InvalidParameter as exc:
                print(f"authsvc: error: {exc.message_detail}", file=sys.stderr)
                return 1
        for row in report.rows:
            if "error" in row:
                print(f"line {row['line']}: error: {row['error']}", flush=True)
            else:
                owner = f" -> {row['user']}" if row["user"] else ""
                print(f"line {row['line']}: {row['serial']} imported as {row['token_id']}{owner}",
                      flush=True)
        return 1 if report.errors else 0

    return with_store(settings, run)


def tls_dev_cert(settings: Settings, out: Path | None, names: Sequence[str], days: int) -> int:
    """Write the development CA and server certificate; print the paths as JSON."""
    written = write_dev_cert(out or settings.data_dir / "tls", names, days)
    print(json.dumps({"ca_cert": str(written.ca_cert), "ca_key": str(written.ca_key),
                      "cert": str(written.cert), "key": str(written.key)}))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``authsvc`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(args)
        _configure_logging(settings.log_level, settings.log_format)
        if args.command == "serve":
            return serve(settings)
        if args.command == "integration" and args.action == "create":
            return integration_create(settings, args, with_store)
        if args.command == "integration":
            return integration_list(settings, with_store)
        if args.command == "users":
            return users.run(settings, args)
        if args.command == "tokens":
            return import_tokens(settings, args.file, args.type, args.partial)
        if args.command == "admin":
            return admins.run(settings, args, with_store)
        return tls_dev_cert(settings, args.out, args.name, args.days)
    except BrokenPipeError:  # `authsvc integration list | head -n1`: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (SettingsError, EmbeddedRedisError, RedisUnavailable, ServeError, NotText,
            OSError) as exc:
        print(f"authsvc: error: {exc}", file=sys.stderr)
        return 1
