"""What every benchmark command shares: complete runs in a temporary directory, with children that
are always stopped, a broken run reported with its logs kept, and the summary as text or JSON.

``--runs R`` complete runs (the summary gives medians), ``--json`` (the figures on stdout, the
summary block on stderr), ``--keep`` (keep the work directory and every child's log) and
``--profile FILE`` (py-spy on the service during the first run's measured phase). A scenario's
``main`` returns 0 with its figures, 1 if the benchmark itself broke (a child that does not
start, Redis refusing), 130 on Ctrl-C or SIGTERM; a target it misses is reported, never raised.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import redis

from authsvc.embedded_redis import EmbeddedRedisError
from loadtests.core.processes import ChildFailed, Children
from loadtests.core.seeding import SEED_ERRORS
from loadtests.core.signing import ApiError

_R = TypeVar("_R")
Log = Callable[[str], None]
OneRun = Callable[[Children, Path, Path | None], _R]  # (children, run directory, profile)
# A benchmark that raises one of these is broken (exit status 1, logs kept), not slow.
BROKEN: tuple[type[Exception], ...] = SEED_ERRORS + (ChildFailed, EmbeddedRedisError, ApiError,
                                                     redis.RedisError, OSError)


def progress(tag: str) -> Log:
    """A logger of ``[tag] message`` lines on stderr."""

    def log(message: str) -> None:
        print(f"[{tag}] {message}", file=sys.stderr, flush=True)

    return log


def add_run_options(parser: argparse.ArgumentParser, profile_help: str) -> None:
    """``--runs``, ``--json``, ``--keep`` and ``--profile``."""
    add = parser.add_argument
    add("--runs", type=int, default=1, help="complete runs; medians reported (1)")
    add("--json", action="store_true",
        help="print the figures as JSON on stdout (the summary goes to stderr)")
    add("--keep", action="store_true", help="keep the work directory and logs")
    add("--profile", type=Path, default=None, metavar="FILE", help=profile_help)


def run_all(args: argparse.Namespace, tag: str, one: OneRun[_R],
            after: Callable[[int, _R], None] | None = None) -> list[_R] | int:
    """`args.runs` complete runs of `one`, each in its own directory of one temporary work
    directory; their results, or the exit status if the benchmark broke or was interrupted."""
    log = progress(tag)
    workdir = Path(tempfile.mkdtemp(prefix=f"authsvc-{tag}-"))
    keep = args.keep
    results: list[_R] = []
    try:
        with Children() as children:
            for number in range(1, args.runs + 1):
                log(f"run {number} of {args.runs}")
                profile = args.profile.resolve() if args.profile and number == 1 else None
                results.append(one(children, workdir / f"run{number}", profile))
                if after is not None:
                    after(number, results[-1])
    except KeyboardInterrupt:
        log("interrupted; child processes stopped")
        return 130
    except BROKEN as exc:
        log(f"error: {exc} (logs kept in {workdir})")
        keep = True
        return 1
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return results


def emit(text: str, figures: Callable[[], str], *, as_json: bool) -> None:
    """The summary on stdout; with `as_json`, the figures on stdout and the summary on stderr."""
    if as_json:
        print(text, file=sys.stderr)
        print(figures())
    else:
        print(text)
