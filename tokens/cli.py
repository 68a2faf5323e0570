"""The ``tokens`` command: soft OATH/YubiKey tokens for import, and FIDO ceremonies against the
service with the soft key or a real one.

One JSON state file (mode 0600, default ``tokens.json``) keeps the soft tokens' secrets and
counters and the soft FIDO key's secret and counter, so later commands use the same tokens/key.
Exit status: 0 done (``authenticate``: the answer is "allow"), 1 failed or denied, 2 usage error.
The state file is `tokens.state`, the ceremonies against the service `tokens.ceremonies`.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import secrets
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import aiohttp
import duo_client
from fido2.client import ClientError
from fido2.ctap import CtapDevice

from tokens import __version__
from tokens.ceremonies import (
    Service,
    TokensError,
    Touch,
    auth_api_authenticate,
    portal_register,
    service_url,
)
from tokens.fido import CounterMode
from tokens.hardware import NoKeyError, describe, diagnose, first_key, list_keys
from tokens.oath import HotpToken, TotpToken
from tokens.state import DEFAULT_STATE, StateFile
from tokens.webauthn_client import CeremonyError
from tokens.yubikey import YubiKey

TOKEN_TYPES = ("h6", "h8", "t6", "t8", "yk")
INTEGRATION_ENV = "TOKENS_INTEGRATION"


class OneLineParser(argparse.ArgumentParser):
    """Usage errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> OneLineParser:
    parser = OneLineParser(prog="tokens", description="Soft and real authenticators for authsvc.")
    parser.add_argument("--version", action="version", version=f"tokens {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    listing = commands.add_parser("list", help="the soft key and the real keys plugged in")
    _state(listing)
    make = commands.add_parser("csv", help="an import CSV for new soft tokens (stdout)")
    make.add_argument("--type", required=True, choices=TOKEN_TYPES, dest="token_type")
    make.add_argument("--count", required=True, type=_positive)
    make.add_argument("--serial-prefix", help="serials are PREFIX000001... (default TYPE-)")
    make.add_argument("--output", type=Path, help="write the CSV here instead of stdout")
    _state(make)
    otp = commands.add_parser("otp", help="the next code or OTP of a soft token")
    otp.add_argument("--serial", required=True)
    otp.add_argument("--replug", action="store_true", help="yk: unplug and plug in first")
    _state(otp)
    reg = commands.add_parser("register", help="register a key in the self-service portal")
    reg.add_argument("--passcode", required=True, help="a passcode of the user, to log in")
    reg.add_argument("--name", help="name of the key in the portal")
    _ceremony(reg)
    auth = commands.add_parser("authenticate", help="verify the key through the Auth API")
    auth.add_argument("--integration", type=Path, default=os.environ.get(INTEGRATION_ENV),
                      help="the JSON `authsvc integration create` printed, e.g. var/app.json "
                           f"({INTEGRATION_ENV}); or --ikey and --skey")
    auth.add_argument("--ikey")
    auth.add_argument("--skey")
    _ceremony(auth)
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= 100_000:
        raise argparse.ArgumentTypeError(f"expected 1-100000, got {text!r}")
    return int(text)


def _state(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE,
                        help=f"state file of the soft tokens and soft key (TOKENS_STATE; default "
                             f"{DEFAULT_STATE})")


def _ceremony(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service", required=True, type=service_url, help="https://HOST:PORT")
    parser.add_argument("--username", required=True)
    parser.add_argument("--ca-file", help="CA certificate to trust for the service")
    parser.add_argument("--key", choices=("soft", "hid"), default="soft",
                        help="the soft key of the state file, or the first real key")
    parser.add_argument("--pin", help="hid: PIN of the key, if it has one")
    parser.add_argument("--counter-mode", choices=[m.value for m in CounterMode], default="normal",
                        help="soft key: how its signature counter moves")
    _state(parser)


def _say(line: str) -> None:
    print(line, flush=True)


def _touch() -> None:
    print("touch your key...", file=sys.stderr, flush=True)


def _cmd_list(args: argparse.Namespace) -> int:
    state = StateFile(args.state)
    saved = state.data.get("soft_key")
    _say(f"soft key {saved['fingerprint']} (counter {saved['counter']}, {args.state})" if saved
         else f"soft key: none in {args.state} yet ('tokens register --key soft' makes one)")
    kinds = sorted({entry["type"] for entry in state.tokens.values()})
    _say(f"soft tokens: {len(state.tokens)}" + (f" ({', '.join(kinds)})" if kinds else ""))
    keys = list_keys()
    for key in keys:
        _say(f"real key: {key}")
    if not keys:
        _say(diagnose())
    return 0


def _new_serial(state: StateFile, prefix: str, start: int) -> tuple[str, int]:
    number = start
    while f"{prefix}{number:06d}" in state.tokens:
        number += 1
    return f"{prefix}{number:06d}", number + 1


def _new_token(kind: str, serial: str, now: str) -> tuple[dict[str, Any], list[str]]:
    """(state entry, CSV row) of one new soft token of type ``kind``."""
    if kind == "yk":
        key = YubiKey()
        return ({"type": "yk", **key.to_dict()},
                [serial, key.public_id, key.private_id, key.aes_key, "000000000000", now, ""])
    secret = secrets.token_bytes(20).hex()
    if kind.startswith("h"):
        return {"type": kind, "secret_hex": secret, "counter": 0}, [serial, secret, "0"]
    return {"type": kind, "secret_hex": secret}, [serial, secret]


def _cmd_csv(args: argparse.Namespace) -> int:
    state = StateFile(args.state)
    prefix = f"{args.token_type}-" if args.serial_prefix is None else args.serial_prefix
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    rows, number = [], 1
    for _ in range(args.count):
        serial, number = _new_serial(state, prefix, number)
        state.tokens[serial], row = _new_token(args.token_type, serial, now)
        rows.append(row)
    state.save()
    out = args.output.open("w", newline="") if args.output else sys.stdout
    try:
        csv.writer(out, lineterminator="\n").writerows(rows)
    finally:
        if args.output:
            out.close()
    return 0


def _cmd_otp(args: argparse.Namespace) -> int:
    state = StateFile(args.state)
    entry = state.tokens.get(args.serial)
    if entry is None:
        raise TokensError(f"no token {args.serial!r} in {args.state}")
    digits = 8 if entry["type"].endswith("8") else 6
    if entry["type"] == "yk":
        key = YubiKey.from_dict(entry)
        if args.replug:
            key.replug()
        _say(key.press())
        entry.update(key.to_dict())
    elif entry["type"].startswith("h"):
        token = HotpToken(bytes.fromhex(entry["secret_hex"]), args.serial, digits, entry["counter"])
        _say(token.press())
        entry["counter"] = token.counter
    else:
        _say(TotpToken(bytes.fromhex(entry["secret_hex"]), args.serial, digits).code())
    state.save()
    return 0


@contextmanager
def _open_key(args: argparse.Namespace, *, create: bool) -> Iterator[tuple[CtapDevice, Touch]]:
    """The chosen key (and how to ask for a touch); the soft key and its counter go back to the
    state file (a soft key created for a registration that failed is not kept)."""
    if args.key == "hid":
        device = first_key()
        try:
            print(f"using {describe(device)}", file=sys.stderr)
            yield device, _touch
        finally:
            device.close()
        return
    state = StateFile(args.state)
    existed = "soft_key" in state.data
    key = state.soft_key(create=create, counter_mode=args.counter_mode)
    try:
        yield key, None
    except BaseException:
        if existed:  # it may have signed: keep its counter; a new key that failed is dropped
            state.keep_soft_key(key)
        raise
    state.keep_soft_key(key)


def _cmd_register(args: argparse.Namespace) -> int:
    async def run() -> dict[str, Any]:
        with _open_key(args, create=True) as (device, touch):
            name = args.name or ("soft key" if args.key == "soft" else "security key")
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
                return await portal_register(
                    session, args.service, device, username=args.username, passcode=args.passcode,
                    name=name, ca_file=args.ca_file, pin=args.pin, on_touch=touch)
    _say(json.dumps(asyncio.run(run())))
    return 0


def _cmd_authenticate(args: argparse.Namespace) -> int:
    service: Service = args.service
    ikey, skey = _integration(args)
    with _open_key(args, create=False) as (device, touch):
        api = duo_client.Auth(ikey, skey, service.host,
                              ca_certs=(args.ca_file if service.https else "HTTP"), port=service.port)
        answer = auth_api_authenticate(api, service.origin, args.username, device, pin=args.pin,
                                       on_touch=touch)
    _say(json.dumps(answer))
    return 0 if answer.get("result") == "allow" else 1


def _integration(args: argparse.Namespace) -> tuple[str, str]:
    """The auth integration's keys: from --ikey/--skey, else the --integration JSON file."""
    if args.ikey or args.skey or args.integration is None:
        return args.ikey, args.skey  # both given: checked in main
    try:
        keys = json.loads(Path(args.integration).read_text())
        return str(keys["ikey"]), str(keys["skey"])
    except (ValueError, KeyError, TypeError):
        raise TokensError(f"{args.integration} is not what `authsvc integration create` prints "
                          '(a JSON object with "ikey" and "skey")') from None


def _explain(exc: Exception) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port}: {exc.os_error}"
    if isinstance(exc, ClientError):
        return f"the client refused: {exc.code.name}" + (f" ({exc.cause})" if exc.cause else "")
    return str(exc) or type(exc).__name__


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": _cmd_list, "csv": _cmd_csv, "otp": _cmd_otp,
    "register": _cmd_register, "authenticate": _cmd_authenticate,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tokens`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "authenticate" and not (args.ikey and args.skey) and (
            args.ikey or args.skey or args.integration is None):
        parser.error("authenticate needs --integration FILE (or TOKENS_INTEGRATION), "
                     "or both --ikey and --skey")
    try:
        return COMMANDS[args.command](args)
    except (TokensError, CeremonyError, ClientError, NoKeyError, aiohttp.ClientError, OSError,
            RuntimeError, ValueError, KeyError) as exc:
        print(f"tokens: error: {_explain(exc)}", file=sys.stderr)
        return 1
