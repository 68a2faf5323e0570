"""The ``mobile-sim`` command: activate, enroll, serve, passcode, fleet, and the carrier's
sms, mail and answer-call (`carrier_cli.py`).

TLS is always verified, as in the real app: ``--ca-file`` (or ``MOBILE_SIM_CA_FILE``) names the
CA to trust, e.g. the one ``authsvc tls dev-cert`` writes.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import aiohttp

from mobile_sim import __version__, carrier_cli
from mobile_sim.carrier import CarrierError
from mobile_sim.client import (
    DeviceClient,
    DeviceError,
    activate,
    enroll_from_link,
    passcode,
    resolve_activation,
)
from mobile_sim.errors import explain
from mobile_sim.fleet import Fleet, parse_mix
from mobile_sim.phone import Decider, Decision, describe, fixed, serve_account
from mobile_sim.protocol import ActivationInputError
from mobile_sim.state import DEFAULT_STATE, Account, StateFile


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2, and an option
    nobody knows is named with the closest one (``--aprove``: "did you mean --approve?")
    instead of whatever argparse noticed first."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self.given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {self._unknown_option() or message} (see --help)\n")

    def _unknown_option(self) -> str | None:
        known = _options(self)
        for word in getattr(self, "given", []):
            name = word.split("=", 1)[0]
            if name.startswith("--") and name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                return f"unknown option {name}" + (f": did you mean {close[0]}?" if close else "")
        return None


def _options(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string of the parser and of its subcommands."""
    names: list[str] = []
    for action in parser._actions:
        names += action.option_strings
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                names += _options(sub)
    return names


def _parser() -> OneLineParser:
    parser = OneLineParser(prog="mobile-sim",
                           description="Simulated Duo Mobile phones over Duo's device protocol.")
    parser.add_argument("--version", action="version", version=f"mobile-sim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    act = commands.add_parser("activate", help="activate an account from a link, value or QR URL")
    act.add_argument("value", help="activation URL, duo:// value, or the QR image URL")
    _common(act)

    enroll = commands.add_parser("enroll", help="complete an enrollment from a mailed link")
    enroll.add_argument("link", help="the enrollment link from the email")
    enroll.add_argument("--platform", default="android", choices=["android", "ios", "other"])
    _common(enroll)

    serve = commands.add_parser("serve", help="answer pushes until stopped")
    how = serve.add_mutually_exclusive_group(required=True)
    for answer in ("approve", "deny", "fraud", "ignore", "ask"):
        how.add_argument(f"--{answer}", dest="answer", action="store_const", const=answer)
    serve.add_argument("--code-file", type=Path,
                       help="Verified Push: read the code to send from this file")
    _common(serve)

    code = commands.add_parser("passcode", help="print the next passcode of an account")
    code.add_argument("--account", help="pkey of the account (default: the first)")
    _common(code)

    _add_fleet(commands.add_parser("fleet", help="many phones in one process, for load tests"))
    carrier_cli.add_commands(commands)
    return parser


def _add_fleet(fleet: argparse.ArgumentParser) -> None:
    fleet.add_argument("--values", type=Path, required=True,
                       help="file with one activation value or URL per line")
    fleet.add_argument("--mix", default="approve=1", help="answer mix, e.g. approve=0.9,deny=0.1")
    fleet.add_argument("--delay-ms", type=float, default=0.0, help="mean answer delay")
    fleet.add_argument("--jitter-ms", type=float, default=0.0, help="answer delay spread")
    fleet.add_argument("--key-pool", type=int, default=0, metavar="N",
                       help="share N RSA keys among the phones (0: a key per phone); for "
                            "fleets of tens of thousands")
    fleet.add_argument("--poll-wait", type=int, default=25, metavar="S",
                       help="seconds each long poll may wait (25; the service allows 60)")
    fleet.add_argument("--duration", type=float, default=0.0,
                       help="seconds (0 = until SIGTERM or Ctrl-C; the summary line is printed "
                            "either way)")
    _common(fleet)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE,
                        help=f"state file of the accounts (MOBILE_SIM_STATE; default "
                             f"{DEFAULT_STATE})")
    parser.add_argument("--ca-file", default=os.environ.get("MOBILE_SIM_CA_FILE"),
                        help="CA certificate to trust (MOBILE_SIM_CA_FILE)")


def _say(line: str) -> None:
    print(line, flush=True)


async def _activate(args: argparse.Namespace) -> int:
    async with aiohttp.ClientSession() as session:
        if args.command == "enroll":
            account = await enroll_from_link(session, args.link, args.ca_file, args.platform)
        else:
            value = await resolve_activation(session, args.value, args.ca_file)
            account = await activate(session, value, args.ca_file)
    StateFile(args.state).add(account)
    _say(json.dumps({"pkey": account.pkey, "host": account.host,
                     "customer_name": account.customer_name}))
    return 0


def _asker(code_file: Path | None) -> Decider:
    async def decide(transaction: dict[str, Any]) -> Decision:
        loop = asyncio.get_running_loop()
        _say(f"push: {describe(transaction)}")
        for group in transaction.get("attributes", []):
            for label, value in group:
                _say(f"  {label}: {value}")
        reply = (await loop.run_in_executor(None, input, "approve? [y]es/[n]o/[f]raud/[i]gnore: "))
        answer = {"y": "approve", "n": "deny", "f": "fraud"}.get(reply.strip()[:1].lower(), "ignore")
        code = None
        if answer == "approve" and "step_up_code_info" in transaction:
            code = (code_file.read_text().strip() if code_file is not None
                    else (await loop.run_in_executor(None, input, "verification code: ")).strip())
        return Decision(answer, code)
    return decide


async def _serve(args: argparse.Namespace) -> int:
    accounts = StateFile(args.state).load()
    if not accounts:
        _say(f"no accounts in {args.state}: run mobile-sim activate first")
        return 1
    decide = _asker(args.code_file) if args.answer == "ask" else fixed(args.answer, args.code_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(serve_account(session, DeviceClient(session, account),
                                                   decide, _say, stop))
                 for account in accounts]
        _say(f"serving {len(accounts)} account(s); answer={args.answer}")
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return 0


def _passcode(args: argparse.Namespace) -> int:
    state = StateFile(args.state)
    accounts: list[Account] = state.load()
    chosen = next((a for a in accounts if args.account in (None, a.pkey)), None)
    if chosen is None:
        _say(f"no such account in {args.state}")
        return 1
    _say(passcode(chosen))
    state.update(chosen)
    return 0


async def _fleet(args: argparse.Namespace) -> int:
    values = [line.strip() for line in args.values.read_text().splitlines() if line.strip()]
    fleet = Fleet(parse_mix(args.mix, args.delay_ms, args.jitter_ms), ca_file=args.ca_file,
                  key_pool=args.key_pool, poll_wait=args.poll_wait)
    async with fleet:
        await fleet.activate_all(values)
        StateFile(args.state).save(fleet.accounts)
        # Once serving, SIGTERM and Ctrl-C end the run as --duration would, so the summary line
        # is still printed (load-test harnesses stop the fleet with SIGTERM when their driver is
        # done); installed before the "serving" line, so a harness that waits for it is covered.
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopped.set)
        _say(f"fleet of {len(fleet.accounts)} phones serving")
        await fleet.run(args.duration or None, stopped, lambda: _say(
            f"all {len(fleet.accounts)} phones polling"))
    _say(json.dumps(fleet.stats.summary()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mobile-sim`` console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command in ("activate", "enroll"):
            return asyncio.run(_activate(args))
        if args.command == "serve":
            return asyncio.run(_serve(args))
        if args.command == "passcode":
            return _passcode(args)
        if args.command in ("sms", "mail", "answer-call"):
            return carrier_cli.run(args)
        return asyncio.run(_fleet(args))
    except BrokenPipeError:  # `mobile-sim sms --codes | head -n1`: the reader has left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (DeviceError, ActivationInputError, aiohttp.ClientError, OSError,
            CarrierError) as exc:
        print(f"mobile-sim: error: {explain(exc)}", file=sys.stderr)
        return 1
