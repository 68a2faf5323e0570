"""``python -m loadtests SCENARIO [options]``: every load-test scenario from one place.

The scenarios are the literal `SCENARIOS` table: a name, the function that runs it and one line
about it. Each is imported only when it runs (the WebAuthn and locust dependencies load only
for the scenarios that need them). The documented commands (``python -m loadtests.bench``,
``python -m loadtests.push_bench``, ...) are thin modules that call the same functions.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

SCENARIOS: dict[str, tuple[str, str]] = {
    "passcode": ("loadtests.scenarios.passcode:main",
                 "verifications/s, --factor hotp|yubikey|webauthn, --cluster (wrk)"),
    "push": ("loadtests.scenarios.push:main", "Duo Push end to end with a mobile-sim fleet"),
    "hotspots": ("loadtests.scenarios.hotspots:main", "CPU per layer of a --profile FILE"),
    "seed": ("loadtests.scenarios.seed:main", "people with h6 tokens, for the locustfile"),
    "push-seed": ("loadtests.scenarios.seed:main_push",
                  "people with a phone (Admin API), for the fleet"),
    "push-driver": ("loadtests.scenarios.push_driver:main",
                    "N pushes in flight against a running service"),
    "ceiling": ("loadtests.scenarios.ceiling:main",
                "bare aiohttp + N EVALSHAs: the machine's ceiling"),
    "topologies": ("loadtests.scenarios.topologies:main",
                   "decision calls/s: one server, replica (WAIT off/on), 3+3 cluster"),
    "memory": ("loadtests.scenarios.memory:main",
               "Redis bytes per user and per authentication-log entry, by key kind"),
    "instructions": ("loadtests.scenarios.instructions:main",
                     "instructions per verification under callgrind: A/B on a noisy machine"),
    "chaos": ("loadtests.scenarios.chaos:main",
              "sign-ins while Redis and a process are killed: decisions lost must be 0"),
}
SHIMS = ("the documented commands run the same scenarios: python -m loadtests.bench (passcode),\n"
         "loadtests.push_bench (push), .hotspots, .push_hotspots, .seed, .push_seed,\n"
         ".push_driver, .ceiling; locust runs loadtests/locustfile.py (passcode sign-ins)\n"
         "and loadtests/locust_push.py (Duo Push sign-ins) against a running service")
Main = Callable[..., int]


def scenario(name: str) -> Main:
    """The function that runs scenario `name`."""
    module, _, function = SCENARIOS[name][0].partition(":")
    run: Main = getattr(importlib.import_module(module), function)
    return run


def _parser() -> argparse.ArgumentParser:
    width = max(len(name) for name in SCENARIOS)
    listing = "\n".join(f"  {name:<{width}}  {about}" for name, (_, about) in SCENARIOS.items())
    parser = argparse.ArgumentParser(
        prog="python -m loadtests", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Load tests of authsvc (loadtests/README.md). "
                    "`python -m loadtests SCENARIO --help` for a scenario's options.",
        epilog=f"scenarios:\n{listing}\n\n{SHIMS}")
    parser.add_argument("scenario", choices=list(SCENARIOS), metavar="SCENARIO",
                        help="one of: " + ", ".join(SCENARIOS))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenario named first, with the arguments after it."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SCENARIOS:
        return scenario(args[0])(args[1:], prog=f"python -m loadtests {args[0]}")
    _parser().parse_args(args)  # --help, or an error naming the scenarios
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
