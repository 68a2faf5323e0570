"""What the `authsvc` command's parts share: a parser whose usage errors are one line (and
name the closest option), and reading a user's text file with a clear message when it is not
UTF-8."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any, NoReturn


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
        known = option_names(self)
        for word in getattr(self, "given", []):
            name = word.split("=", 1)[0]
            if name.startswith("--") and name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                return f"unknown option {name}" + (f": did you mean {close[0]}?" if close else "")
        return None


def option_names(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string of the parser and of its subcommands."""
    names: list[str] = []
    for action in parser._actions:
        names += action.option_strings
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                names += option_names(sub)
    return names


class NotText(ValueError):
    """A file the command reads is not UTF-8 text; the message says where and what to do."""


def read_text(path: Path) -> str:
    """The file as UTF-8 text (a byte-order mark is allowed); raises NotText saying where."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise NotText(f"{path} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}): "
                      "save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)") from None
