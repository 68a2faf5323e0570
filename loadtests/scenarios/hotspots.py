"""Summarise a py-spy profile of the service: share of CPU samples per layer, and top functions.

``python -m loadtests hotspots service.folded`` reads py-spy's raw (collapsed-stack) output, as
``--profile service.folded`` of the passcode or the push bench writes it. Each sample is charged
to the innermost frame whose module belongs to a known layer (`loadtests.core.profile.LAYERS`,
one table for every scenario), so hashing done for the signature check counts as "request
signature check", JSON encoding done for the log as "authentication log", and so on. The
WebAuthn layers split py_webauthn's verification into the ECDSA check, decoding the stored COSE
key, and the rest of its parsing; "passcode factors" includes the YubiKey OTP check. With
``--requests`` (the push bench's ``push_hotspots``), a third table charges each sample to the
request handler module on its stack: the Auth API, the phones' device API, the events
subscriber, the middleware before a handler.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from loadtests.core.profile import read, render


def main(argv: Sequence[str] | None = None, prog: str = "python -m loadtests hotspots", *,
         requests: bool = False) -> int:
    """Print the summary of one profile file."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path, help="py-spy raw output")
    parser.add_argument("--top", type=int, default=20, help="functions to list (20)")
    parser.add_argument("--requests", action="store_true", default=requests,
                        help="also the share per request handler (the push bench's profiles)")
    args = parser.parse_args(argv)
    with args.profile.open() as lines:
        print(render(read(lines), args.top, requests=args.requests))
    return 0
