"""Redis Cluster for the lean client: one pipelined connection per master, routed by slot.

The slot map comes from CLUSTER SLOTS, asked of any node that answers. A command goes to its
slot's master; MOVED updates the map (and a fresh one is loaded in the background), ASK sends
``ASKING`` and the command to the importing node; a pipeline is split into one pipeline per
node, sent concurrently, reassembled in order.

Failover: a master that died refuses connections at once, so its callers fail fast with
`RedisUnavailable` (503) and the map is refreshed (at most every `REFRESH_GAP_S`) until the
cluster names a new master; a call whose connection could not even be made (nothing sent) waits
for that refresh (bounded by `REFRESH_WAIT_S`) and is sent to the new owner if there is one. A
command lost in flight is never sent again: it may have run, and a decision must not run twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from authsvc.store.redis_conn import Arg, Connection, Hooks
from authsvc.store.redis_errors import RedisConnectFailed, RedisError, RedisUnavailable
from authsvc.store.redis_routing import (
    Node,
    SlotMap,
    Unit,
    command_slot,
    first_redirect,
    redirect_of,
    units_of,
)
from authsvc.store.redis_url import RedisAddress

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_REDIRECTS = 5
REFRESH_GAP_S = 0.1
REFRESH_WAIT_S = 0.5


class ClusterRouter:
    """Routes commands over a Redis Cluster's masters (see the module docstring)."""

    def __init__(self, seed: RedisAddress, *, timeout: float,
                 configure: Callable[[Connection, int], None], hooks: Hooks) -> None:
        self._seed, self._hooks, self._timeout = seed, hooks, timeout
        self._configure = configure  # sets a master connection's WAIT from its replica count
        self._map = SlotMap()
        self._nodes: dict[Node, Connection] = {}
        self._refreshing: asyncio.Task[None] | None = None
        self._refreshed_at = float("-inf")
        self._retries: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        """Load the slot map; raises `RedisUnavailable` when no node answers."""
        await self._refresh()

    def nodes(self) -> list[RedisAddress]:
        """Every node known, masters first (for the events subscriber)."""
        return [self._seed.at(*node) for node in self._map.nodes()]

    async def close(self) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refreshing
        for connection in self._nodes.values():
            await connection.close()
        self._nodes.clear()

    async def execute(self, args: Sequence[Arg], timeout: float | None = None) -> Any:
        slot = command_slot(args)
        if slot is not None:
            return await self._routed(slot, lambda c: c.execute(args, timeout))
        if Unit(0, (args,), None).broadcast:
            return await self._broadcast(args, timeout)
        return await self._any_master().execute(args, timeout)

    async def execute_waited(self, args: Sequence[Arg]) -> tuple[Any, bool]:
        slot = command_slot(args)
        if slot is None:
            raise ValueError("a waited command needs a key")
        return await self._routed(slot, lambda c: c.execute_waited(args))

    async def send(self, args: Sequence[Arg]) -> asyncio.Future[Any]:
        """Queue the command on its node now (so a later command of the same caller follows
        it, as on one server); a redirection is followed in the background."""
        slot = command_slot(args)
        if slot is not None:
            with contextlib.suppress(RedisConnectFailed):
                return self._follow(args, await self._connection(self._owner(slot)).send(args))
        return asyncio.get_running_loop().create_task(self.execute(args))

    def _follow(self, args: Sequence[Arg], sent: asyncio.Future[Any]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        outer: asyncio.Future[Any] = loop.create_future()

        def relay(done: asyncio.Future[Any]) -> None:
            error = done.exception() if not done.cancelled() else RedisUnavailable("cancelled")
            if error is not None and redirect_of(error) is not None:
                retry = loop.create_task(self.execute(args))  # follows redirections itself
                self._retries.add(retry)
                retry.add_done_callback(self._retries.discard)
                retry.add_done_callback(relay)
            elif error is not None:
                if isinstance(error, RedisUnavailable):
                    self._refresh_soon()
                outer.set_exception(error)
            else:
                outer.set_result(done.result())

        sent.add_done_callback(relay)
        return outer

    async def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Any]:
        replies: list[Any] = [None] * len(commands)
        groups: dict[Node, list[Unit]] = {}
        later: list[Unit] = []
        for unit in units_of(commands):
            if unit.broadcast or unit.slot is None:
                later.append(unit)
            else:
                groups.setdefault(self._owner(unit.slot), []).append(unit)
        lost: BaseException | None = None
        for units, outcome in zip(groups.values(), await self._per_node(groups), strict=True):
            if isinstance(outcome, RedisConnectFailed):
                later.extend(units)
            elif isinstance(outcome, BaseException):
                lost = lost or outcome
            else:
                later.extend(_place(replies, units, outcome))
        if lost is not None:
            raise lost
        _place(replies, later, await asyncio.gather(*(self._unit(unit) for unit in later)))
        return replies

    async def _per_node(self, groups: dict[Node, list[Unit]]
                        ) -> list[list[list[Any]] | BaseException]:
        """Each node's units as one pipeline, concurrently; a failure as a value."""
        if len(groups) == 1:  # one user's keys: one node, sent now (no task in between)
            node, units = next(iter(groups.items()))
            try:
                return [await self._node_pipeline(node, units)]
            except RedisUnavailable as exc:
                return [exc]
        return await asyncio.gather(
            *(self._node_pipeline(node, units) for node, units in groups.items()),
            return_exceptions=True)

    async def _node_pipeline(self, node: Node, units: Sequence[Unit]) -> list[list[Any]]:
        flat = [command for unit in units for command in unit.commands]
        replies = await self._connection(node).pipeline(flat)
        split, at = [], 0
        for unit in units:
            split.append(replies[at:at + len(unit.commands)])
            at += len(unit.commands)
        return split

    async def _unit(self, unit: Unit) -> list[Any]:
        if unit.broadcast:
            return [await self._broadcast(unit.commands[0], None)]
        if unit.slot is None:
            return await self._any_master().pipeline(unit.commands)

        async def run(connection: Connection) -> list[Any]:
            replies = await connection.pipeline(unit.commands)
            if (redirect := first_redirect(replies)) is not None:
                raise redirect
            return replies

        return await self._routed(unit.slot, run)

    async def _broadcast(self, args: Sequence[Arg], timeout: float | None) -> Any:
        """Run on every master; the first master's reply (a node that cannot be reached is
        skipped: it loads scripts again on its NOSCRIPT)."""
        outcomes = await asyncio.gather(
            *(self._connection(node).execute(args, timeout) for node in self._map.masters),
            return_exceptions=True)
        if errors := [o for o in outcomes if isinstance(o, RedisError)]:
            raise errors[0]
        if answered := [o for o in outcomes if not isinstance(o, BaseException)]:
            return answered[0]
        self._refresh_soon()
        raise next((o for o in outcomes if isinstance(o, RedisUnavailable)),
                   RedisUnavailable("no cluster master answers"))

    async def _routed(self, slot: int, call: Callable[[Connection], Awaitable[T]]) -> T:
        asking: Node | None = None
        for _ in range(MAX_REDIRECTS):
            node = asking or self._owner(slot)
            connection = self._connection(node)
            try:
                if asking is not None:
                    (await connection.send(("ASKING",))).add_done_callback(_ignore)
                return await call(connection)
            except RedisConnectFailed:
                await self._refresh_awaited()
                if self._owner(slot) == node:
                    raise
                asking = None
            except RedisError as exc:
                redirect = redirect_of(exc)
                if redirect is None:
                    raise
                kind, _, target = redirect
                asking = target if kind == "ASK" else None
                if kind == "MOVED":
                    self._map.slots[slot] = target
                    self._refresh_soon()
            except RedisUnavailable:
                self._refresh_soon()
                raise
        raise RedisUnavailable(f"slot {slot}: too many redirections")

    def _owner(self, slot: int) -> Node:
        node = self._map.slots[slot]
        if node is None:
            self._refresh_soon()
            raise RedisUnavailable(f"no cluster node serves slot {slot}")
        return node

    def _any_master(self) -> Connection:
        masters = self._map.masters
        for node in masters:
            if self._connection(node).up:
                return self._connection(node)
        if not masters:
            raise RedisUnavailable("no cluster master known")
        return self._connection(masters[0])

    def _connection(self, node: Node) -> Connection:
        connection = self._nodes.get(node)
        if connection is None:
            connection = Connection(self._seed.at(*node), timeout=self._timeout, hooks=self._hooks)
            self._configure(connection, len(self._map.replicas.get(node, [])))
            self._nodes[node] = connection
        return connection

    def _refresh_soon(self) -> asyncio.Task[None] | None:
        if self._refreshing is not None and not self._refreshing.done():
            return self._refreshing
        if time.monotonic() - self._refreshed_at < REFRESH_GAP_S:
            return None
        self._refreshing = asyncio.get_running_loop().create_task(self.refresh_quietly())
        return self._refreshing

    async def _refresh_awaited(self) -> None:
        task = self._refresh_soon()
        if task is not None:
            await asyncio.wait([task], timeout=REFRESH_WAIT_S)

    async def refresh_quietly(self) -> None:
        """Load the slot map again; keep the old one when no node answers."""
        with contextlib.suppress(RedisUnavailable):
            await self._refresh()

    async def _refresh(self) -> None:
        self._refreshed_at = time.monotonic()
        candidates = list(dict.fromkeys(
            [*self._map.nodes(), (self._seed.host, self._seed.port)]))
        failure: Exception = RedisUnavailable("no cluster node answers")
        for node in candidates:
            try:
                reply = await self._connection(node).execute(
                    ("CLUSTER", "SLOTS"), timeout=min(self._timeout, 1.0))
            except (RedisUnavailable, RedisError) as exc:
                failure = exc
                continue
            self._apply(reply, node)
            return
        raise failure if isinstance(failure, RedisUnavailable) else RedisUnavailable(str(failure))

    def _apply(self, reply: Sequence[Any], asked: Node) -> None:
        if self._map.apply(reply, asked):
            log.info("cluster slot map: masters %s",
                     ", ".join(f"{host}:{port}" for host, port in self._map.masters))
        for node in self._map.masters:
            self._configure(self._connection(node), len(self._map.replicas[node]))


def _place(replies: list[Any], units: Sequence[Unit], outcome: Sequence[list[Any]]
           ) -> list[Unit]:
    """Put each unit's replies in place; the units redirected elsewhere, to send again."""
    redirected = []
    for unit, unit_replies in zip(units, outcome, strict=True):
        if first_redirect(unit_replies) is not None:
            redirected.append(unit)
        else:
            replies[unit.start:unit.start + len(unit.commands)] = unit_replies
    return redirected


def _ignore(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
