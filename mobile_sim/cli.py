"""The ``mobile-sim`` command. The device protocol arrives with the Duo Mobile issue; until then
the command exists (so scripts and packaging can rely on it) and says what it can do."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from mobile_sim import __version__


class OneLineParser(argparse.ArgumentParser):
    """Usage errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mobile-sim`` console script."""
    parser = OneLineParser(
        prog="mobile-sim",
        description="Simulated Duo Mobile phones, carrier and inbox (device protocol: planned).")
    parser.add_argument("--version", action="version", version=f"mobile-sim {__version__}")
    parser.parse_args(argv)
    parser.print_help()
    return 0
