"""``mobile-sim sms``, ``mobile-sim mail`` and ``mobile-sim answer-call``: the simulated carrier
and inbox on the command line (scripts can take SMS passcodes and links from here)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from mobile_sim.carrier import Carrier, find_redis_url, links, passcodes, report


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Add the carrier and inbox commands to the ``mobile-sim`` parser."""
    sms = commands.add_parser("sms", help="show the SMS sent to a number")
    sms.add_argument("--number", required=True)
    sms.add_argument("--codes", action="store_true",
                     help="print only the passcodes of the newest batch, one per line")
    sms.add_argument("--links", action="store_true", help="print only the links, one per line")
    sms.add_argument("--last", action="store_true", help="only the newest message")
    _redis_flags(sms)

    mail = commands.add_parser("mail", help="show the email sent to an address")
    mail.add_argument("--to", required=True)
    mail.add_argument("--links", action="store_true", help="print only the links, one per line")
    mail.add_argument("--last", action="store_true", help="only the newest message")
    _redis_flags(mail)

    call = commands.add_parser("answer-call", help="answer the newest call to a number")
    call.add_argument("--number", required=True)
    how = call.add_mutually_exclusive_group(required=True)
    how.add_argument("--press", metavar="KEY", help="answer and press this key")
    how.add_argument("--ignore", action="store_true", help="let it ring out")
    call.add_argument("--wait", type=float, default=30.0, help="seconds to wait for a call (30)")
    call.add_argument("--ca-file", help="CA certificate to trust for the callback")
    _redis_flags(call)


def _redis_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--redis-url", help="the service's Redis (AUTHSVC_REDIS_URL)")
    parser.add_argument("--data-dir", type=Path, default=Path("var"),
                        help="data dir of an authsvc with embedded Redis (default ./var)")
    parser.add_argument("--prefix", default="as", help="Redis key prefix (AUTHSVC_KEY_PREFIX)")


def run(args: argparse.Namespace) -> int:
    carrier = Carrier(find_redis_url(args.redis_url, args.data_dir), args.prefix)
    try:
        if args.command == "answer-call":
            return _answer(carrier, args)
        channel, destination = ("sms", args.number) if args.command == "sms" else ("email", args.to)
        messages = carrier.messages(channel, destination)
        if args.last or getattr(args, "codes", False):
            messages = messages[-1:]
        for message in messages:
            _show(message, args)
        return 0
    finally:
        carrier.close()


def _show(message: dict[str, object], args: argparse.Namespace) -> None:
    if getattr(args, "codes", False):
        print("\n".join(passcodes(message)), flush=True)
    elif args.links:
        print("\n".join(links(message)), flush=True)
    else:
        print(json.dumps(message), flush=True)


def _answer(carrier: Carrier, args: argparse.Namespace) -> int:
    call = carrier.wait_for_call(args.number, max_age_s=120, wait_s=args.wait)
    if call is None:
        print(f"no call to {args.number}", flush=True)
        return 1
    if args.ignore:
        print(f"call {call['extra']['call_id']} rings out", flush=True)
        return 0
    report(call, "answered", ca_file=args.ca_file)
    result = report(call, "keypress", args.press, ca_file=args.ca_file)
    print(f"call {call['extra']['call_id']}: pressed {args.press} -> "
          f"{result['response']['state']}", flush=True)
    return 0
