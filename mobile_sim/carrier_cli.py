"""``mobile-sim sms``, ``mobile-sim mail`` and ``mobile-sim answer-call``: the simulated carrier
and inbox on the command line (scripts can take SMS passcodes and links from here).

They fetch messages from the service's outbox endpoint (`mobile_sim.carrier`), found through
``--data-dir`` (the service's ``outbox.json``) or given with ``--service`` and ``--outbox-token``
(``MOBILE_SIM_OUTBOX_TOKEN``). ``--redis-url`` and ``--prefix`` are still accepted so that old
scripts run, but mean nothing any more: a note on stderr says they are ignored.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from mobile_sim.carrier import Carrier, find_endpoint, links, passcodes, report

OUTBOX_ENV = "MOBILE_SIM_OUTBOX_TOKEN"
DEPRECATED = ("redis_url", "prefix")


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Add the carrier and inbox commands to the ``mobile-sim`` parser."""
    sms = commands.add_parser("sms", help="show the SMS sent to a number")
    sms.add_argument("--number", required=True)
    sms.add_argument("--codes", action="store_true",
                     help="print only the passcodes of the newest batch, one per line")
    sms.add_argument("--links", action="store_true", help="print only the links, one per line")
    sms.add_argument("--last", action="store_true", help="only the newest message")
    _service_flags(sms)

    mail = commands.add_parser("mail", help="show the email sent to an address")
    mail.add_argument("--to", required=True)
    mail.add_argument("--links", action="store_true", help="print only the links, one per line")
    mail.add_argument("--last", action="store_true", help="only the newest message")
    _service_flags(mail)

    call = commands.add_parser("answer-call", help="answer the newest call to a number")
    call.add_argument("--number", required=True)
    how = call.add_mutually_exclusive_group(required=True)
    how.add_argument("--press", metavar="KEY", help="answer and press this key")
    how.add_argument("--ignore", action="store_true", help="let it ring out")
    call.add_argument("--wait", type=float, default=30.0, help="seconds to wait for a call (30)")
    _service_flags(call)


def _service_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=Path("var"),
                        help="data dir of the running authsvc, whose outbox.json names the "
                             "endpoint and its token (default ./var)")
    parser.add_argument("--service", metavar="URL",
                        help="the service's base URL (default: from DATA_DIR/outbox.json)")
    parser.add_argument("--outbox-token", default=os.environ.get(OUTBOX_ENV),
                        help=f"the outbox bearer token ({OUTBOX_ENV}; default: from "
                             "DATA_DIR/outbox.json)")
    parser.add_argument("--ca-file", default=os.environ.get("MOBILE_SIM_CA_FILE"),
                        help="CA certificate to trust for the service and the call callback "
                             "(MOBILE_SIM_CA_FILE)")
    parser.add_argument("--redis-url", help="deprecated and ignored (messages come over HTTP)")
    parser.add_argument("--prefix", help="deprecated and ignored (messages come over HTTP)")


def _warn_deprecated(args: argparse.Namespace) -> None:
    for name in DEPRECATED:
        if getattr(args, name, None) is not None:
            flag = "--" + name.replace("_", "-")
            print(f"mobile-sim: {flag} is deprecated and ignored: the carrier fetches messages "
                  "from the service over HTTP (--data-dir, or --service and --outbox-token)",
                  file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run ``sms``, ``mail`` or ``answer-call``."""
    _warn_deprecated(args)
    carrier = Carrier(find_endpoint(args.service, args.outbox_token, args.data_dir),
                      ca_file=args.ca_file)
    if args.command == "answer-call":
        return _answer(carrier, args)
    channel, destination = ("sms", args.number) if args.command == "sms" else ("email", args.to)
    messages = carrier.messages(channel, destination)
    if args.last or getattr(args, "codes", False):
        messages = messages[-1:]
    for message in messages:
        _show(message, args)
    return 0


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
    print(f"call {call['extra']['call_id']}: pressed {args.press} -> {result['state']}", flush=True)
    return 0
