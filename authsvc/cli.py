"""The ``authsvc`` command: serve, integration create/list, users, tokens, tls dev-cert.

Flags override ``AUTHSVC_*`` variables (docs/configuration.md lists them all). Bad flags print
one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tqdm import tqdm

from authsvc import __version__, cli_admin
from authsvc.app import secret_box
from authsvc.cli_tools import NotText, OneLineParser, read_text
from authsvc.clock import SystemClock
from authsvc.domain.invitations import parse_bulk_csv
from authsvc.embedded_redis import EmbeddedRedis, EmbeddedRedisError, running_url
from authsvc.errors import InvalidParameter
from authsvc.integration_cli import integration_create, integration_list
from authsvc.model.integrations import Role
from authsvc.server import ServeError, serve
from authsvc.services import Services, public_base_url
from authsvc.settings import Settings, SettingsError
from authsvc.store import Redis, RedisUnavailable, Store
from authsvc.tls import write_dev_cert

T = TypeVar("T")
log = logging.getLogger("authsvc")


def _parser() -> OneLineParser:
    parser = OneLineParser(prog="authsvc", description="Duo-compatible two-factor service.")
    parser.add_argument("--version", action="version", version=f"authsvc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for add in (_serve_command, _integration_commands, _users_commands, _tokens_commands,
                _tls_commands):
        add(commands)
    cli_admin.add_commands(commands, _add_store_flags, OneLineParser)
    return parser


if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[OneLineParser]


def _actions(commands: Commands, name: str, help_text: str) -> Commands:
    group = commands.add_parser(name, help=help_text)
    return group.add_subparsers(dest="action", required=True, parser_class=OneLineParser)


def _serve_command(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="run the service",
                                description="Run the service (plain HTTP unless TLS files are given).")
    serve.add_argument("--host", help="listen address (AUTHSVC_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (AUTHSVC_PORT, default 8080)")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate (AUTHSVC_TLS_CERT)")
    serve.add_argument("--tls-key", type=Path, help="PEM private key (AUTHSVC_TLS_KEY)")
    serve.add_argument("--public-host", metavar="NAME[:PORT]",
                       help="host written into links and codes (AUTHSVC_PUBLIC_HOST)")
    _add_store_flags(serve)


def _integration_commands(commands: Commands) -> None:
    actions = _actions(commands, "integration", "manage integrations (ikey/skey)")
    create = actions.add_parser("create", help="create an integration; prints JSON with the skey")
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
    _add_store_flags(create)
    _add_store_flags(actions.add_parser("list", help="list integrations (no secrets)"))


def _users_commands(commands: Commands) -> None:
    actions = _actions(commands, "users", "user administration")
    bulk = actions.add_parser("bulk-enroll", help="mail enrollment links to a CSV of users")
    bulk.add_argument("file", type=Path, help="CSV with username,email per line")
    bulk.add_argument("--valid-secs", type=int, help="link lifetime (default 30 days)")
    _add_store_flags(bulk)


def _tokens_commands(commands: Commands) -> None:
    actions = _actions(commands, "tokens", "hardware tokens")
    importing = actions.add_parser("import", help="import a vendor's token CSV")
    importing.add_argument("file", type=Path, help="the CSV (see docs/api.md, token import)")
    importing.add_argument("--type", required=True, choices=["h6", "h8", "t6", "t8", "yk"])
    importing.add_argument("--partial", action="store_true",
                           help="import the good rows even if some are bad")
    _add_store_flags(importing)


def _tls_commands(commands: Commands) -> None:
    actions = _actions(commands, "tls", "TLS helpers")
    dev = actions.add_parser("dev-cert", help="write a development CA and server certificate")
    dev.add_argument("--out", type=Path, help="output directory (default DATA_DIR/tls)")
    dev.add_argument("--name", action="append", default=[],
                     help="extra DNS name or IP for the certificate (repeatable)")
    dev.add_argument("--days", type=int, default=825, help="validity in days (default 825)")
    _add_store_flags(dev, redis=False)


def _add_store_flags(parser: argparse.ArgumentParser, *, redis: bool = True) -> None:
    parser.add_argument("--data-dir", type=Path, help="data directory (AUTHSVC_DATA_DIR, ./var)")
    if redis:
        parser.add_argument("--redis-url", help="external Redis (AUTHSVC_REDIS_URL)")


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {name: getattr(args, name, None)
                 for name in ("host", "port", "tls_cert", "tls_key", "public_host", "data_dir",
                              "redis_url")}
    return Settings.from_env(os.environ, **overrides)


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


async def _with_services(settings: Settings, action: Callable[[Services], Awaitable[T]],
                         links: bool) -> T:
    assert settings.redis_url is not None  # noqa: S101 - set by _with_store
    redis = Redis.from_url(settings.redis_url, timeout=settings.redis_timeout)
    store = Store(redis, prefix=settings.key_prefix)
    clock = SystemClock()
    announced = None if settings.public_host else await store.announced_base_url(clock.now_ms())
    if announced is None and not settings.public_host and links:
        print(f"authsvc: note: no running service announced its address; links use "
              f"{public_base_url(settings)} (start the service first, or set "
              "AUTHSVC_PUBLIC_HOST)", file=sys.stderr)
    services = Services.build(settings, store, secret_box(settings), clock, announced)
    if services.webhook is not None:
        await services.webhook.start()
    try:
        return await action(services)
    finally:
        if services.webhook is not None:
            await services.webhook.close()
        await store.close()


def _with_store(settings: Settings, action: Callable[[Services], Awaitable[T]], *,
                links: bool = False) -> T:
    """Run against the configured Redis, the running embedded one, or a temporary one;
    `links`: the action mails links (a note says when no running service gives their base)."""
    if settings.redis_url:
        return asyncio.run(_with_services(settings, action, links))
    url = running_url(settings.data_dir)
    if url is not None:
        return asyncio.run(_with_services(settings.replace(redis_url=url), action, links))
    embedded = EmbeddedRedis(settings.data_dir, settings.redis_server)
    try:
        return asyncio.run(_with_services(settings.replace(redis_url=embedded.start()), action,
                                          links))
    finally:
        embedded.stop()


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

    _with_store(settings, enroll_all, links=True)
    return 0


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

    return _with_store(settings, run)


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
        _configure_logging(settings.log_level)
        if args.command == "serve":
            return serve(settings)
        if args.command == "integration" and args.action == "create":
            return integration_create(settings, args, _with_store)
        if args.command == "integration":
            return integration_list(settings, _with_store)
        if args.command == "users":
            return bulk_enroll(settings, args.file, args.valid_secs)
        if args.command == "tokens":
            return import_tokens(settings, args.file, args.type, args.partial)
        if args.command == "admin":
            return cli_admin.run(settings, args, _with_store)
        return tls_dev_cert(settings, args.out, args.name, args.days)
    except BrokenPipeError:  # `authsvc integration list | head -n1`: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (SettingsError, EmbeddedRedisError, RedisUnavailable, ServeError, NotText,
            OSError) as exc:
        print(f"authsvc: error: {exc}", file=sys.stderr)
        return 1
