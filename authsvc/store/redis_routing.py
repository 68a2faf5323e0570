"""Which Redis Cluster node a command belongs to, and how a pipeline splits into units.

A command's slot is its first key's (`slots.key_slot`: CRC16 of the hash tag); scripts name their
keys after the key count. Commands without a key go to any master, except those that must reach
every master (`BROADCAST`: loading a script, flushing). A MULTI ... EXEC block is one unit: it
runs whole on the node of its first key (all its keys share that slot, or Redis refuses it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from authsvc.store.redis_conn import Arg
from authsvc.store.slots import SLOTS, key_slot

Node = tuple[str, int]

KEYLESS = frozenset({
    "PING", "ECHO", "INFO", "SCRIPT", "CLIENT", "CONFIG", "ACL", "TIME", "DBSIZE", "FLUSHALL",
    "FLUSHDB", "KEYS", "SCAN", "WAIT", "CLUSTER", "ROLE", "DEBUG", "MULTI", "EXEC", "DISCARD",
    "ASKING", "READONLY", "READWRITE", "COMMAND", "PUBLISH", "SUBSCRIBE", "SAVE", "LASTSAVE",
    "RANDOMKEY", "SELECT", "AUTH", "HELLO", "SWAPDB", "MEMORY", "OBJECT"})
SCRIPTS = frozenset({"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"})
KEY_AFTER_SUBCOMMAND = frozenset({"MEMORY", "OBJECT"})
BROADCAST = frozenset({"SCRIPT", "FLUSHALL", "FLUSHDB"})
REDIRECTS = ("MOVED ", "ASK ")


def _text(arg: Arg) -> str:
    if isinstance(arg, bytes):
        return arg.decode("utf-8", "surrogateescape")
    return str(arg)


def command_name(args: Sequence[Arg]) -> str:
    return _text(args[0]).upper()


def command_slot(args: Sequence[Arg]) -> int | None:
    """The slot of the command's first key; None for a command without keys."""
    name = command_name(args)
    if name in SCRIPTS:
        return key_slot(_text(args[3])) if len(args) > 3 and int(args[2]) > 0 else None
    if name in KEY_AFTER_SUBCOMMAND:
        return key_slot(_text(args[2])) if len(args) > 2 else None
    if name in KEYLESS or len(args) < 2:
        return None
    return key_slot(_text(args[1]))


@dataclass(frozen=True, slots=True)
class Unit:
    """Commands that must run together on one node (one command, or a MULTI ... EXEC block):
    where they start in the pipeline, and their slot (None: no key)."""

    start: int
    commands: tuple[Sequence[Arg], ...]
    slot: int | None

    @property
    def broadcast(self) -> bool:
        return len(self.commands) == 1 and command_name(self.commands[0]) in BROADCAST


def units_of(commands: Sequence[Sequence[Arg]]) -> list[Unit]:
    """The pipeline as units, in order."""
    units: list[Unit] = []
    index = 0
    while index < len(commands):
        end = index + 1
        if command_name(commands[index]) == "MULTI":
            while end < len(commands) and command_name(commands[end - 1]) != "EXEC":
                end += 1
        block = tuple(commands[index:end])
        slot = next((s for s in map(command_slot, block) if s is not None), None)
        units.append(Unit(index, block, slot))
        index = end
    return units


def redirect_of(reply: object) -> tuple[str, int, tuple[str, int]] | None:
    """("MOVED" or "ASK", slot, (host, port)) when a reply is a redirection."""
    if not isinstance(reply, Exception):
        return None
    text = str(reply)
    if not text.startswith(REDIRECTS):
        return None
    kind, slot, where = text.split(" ", 2)
    host, _, port = where.rpartition(":")
    return kind, int(slot), (host, int(port))


def first_redirect(replies: Sequence[object]) -> Exception | None:
    """The first redirection among a unit's replies (which makes EXEC abort, if any)."""
    return next((r for r in replies if isinstance(r, Exception) and redirect_of(r)), None)


class SlotMap:
    """Which master serves each slot, and each master's replicas (from CLUSTER SLOTS, which
    lists only replicas that are not failed)."""

    def __init__(self) -> None:
        self.slots: list[Node | None] = [None] * SLOTS
        self.replicas: dict[Node, list[Node]] = {}

    @property
    def masters(self) -> list[Node]:
        return list(self.replicas)

    def nodes(self) -> list[Node]:
        """Masters first, then their replicas."""
        return [*self.replicas, *(node for nodes in self.replicas.values() for node in nodes)]

    def apply(self, reply: Sequence[Any], asked: Node) -> bool:
        """Take a CLUSTER SLOTS reply (an empty host means the node asked); True if changed."""
        slots: list[Node | None] = [None] * SLOTS
        replicas: dict[Node, list[Node]] = {}
        for start, end, master, *others in reply:
            owner = (str(master[0]) or asked[0], int(master[1]))
            replicas[owner] = [(str(r[0]) or asked[0], int(r[1])) for r in others]
            slots[int(start):int(end) + 1] = [owner] * (int(end) - int(start) + 1)
        changed = slots != self.slots or replicas != self.replicas
        self.slots, self.replicas = slots, replicas
        return changed
