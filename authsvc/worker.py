"""``python -m authsvc.worker``: one worker of `authsvc serve --workers N` (authsvc.supervisor).

It inherits the listen sockets (``--listen-fd``, bound by the supervisor), reads its settings
from the environment the supervisor wrote, serves until SIGTERM (Ctrl-C reaches the supervisor,
which stops the workers in order), and writes one byte to ``--ready-fd`` once it serves. It
does not announce the service: the supervisor does, once.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from collections.abc import Sequence

from authsvc.app import create_app
from authsvc.loops import run
from authsvc.model.authlog import REQUEST_ID
from authsvc.obs import logs
from authsvc.server import ServeError, raise_open_files_limit, serve_app, tls_context
from authsvc.settings import Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m authsvc.worker",
                                     description="One worker of authsvc serve --workers N.")
    parser.add_argument("--listen-fd", type=int, action="append", required=True,
                        help="an inherited listening socket (repeatable)")
    parser.add_argument("--ready-fd", type=int, required=True,
                        help="a pipe to write one byte to once serving")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve on the inherited sockets until SIGTERM."""
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise_open_files_limit()
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"authsvc: error: {exc}", file=sys.stderr)
        return 1
    logs.configure(settings.log_level, settings.log_format, REQUEST_ID.get)
    sockets = [socket.socket(fileno=fd) for fd in args.listen_fd]

    def ready() -> None:
        os.write(args.ready_fd, b"1")
        os.close(args.ready_fd)

    async def serve() -> None:
        await serve_app(create_app(settings, announce=False), settings, tls_context(settings),
                        sockets=sockets, on_ready=ready, stop_signals=(signal.SIGTERM,))

    try:
        run(serve(), settings.event_loop)
    except (ServeError, SettingsError, OSError) as exc:
        print(f"authsvc: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
