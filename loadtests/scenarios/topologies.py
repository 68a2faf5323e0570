"""What Redis's shape costs the lean client: one server, a master with a replica (WAIT off and on),
a 3-master + 3-replica Redis Cluster (WAIT off and on), measured in one run.

Each call is what a decision costs Redis-side: EVALSHA of a script that HINCRBYs one hash-tagged
key (the keys spread over every slot), through `authsvc.store.redis_client.Redis` exactly as the
service calls a decision (`execute_waited`: the script, then WAIT on the same connection when
the policy asks for it). `--concurrency` callers in one process, as fast as answers come, for
`--seconds` per shape; the shapes take turns round after round (`--rounds`), so every ratio is
measured within one round on the same machine state. Every redis-server runs as production's
embedded one does (AOF, ``appendfsync always``; ``--appendfsync everysec`` shows what the disk's
fsyncs cost), started on loopback by the test harness's real servers (tests/topologies.py).

``python -m loadtests topologies [--seconds 3] [--rounds 3] [--concurrency 64] [--uvloop]
[--appendfsync always|everysec]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from authsvc.store.redis_client import Redis
from tests.harness import RedisServer
from tests.topologies import RedisCluster, wait_until

SCRIPT = "return redis.call('HINCRBY', KEYS[1], 'n', 1)"
Shape = tuple[str, str, int | None]  # name, URL, wait_replicas (None: auto)


Result = tuple[float, float, float]  # calls/s, median call ms, client CPU us per call


async def _rate(url: str, wait_replicas: int | None, seconds: float, concurrency: int
                ) -> Result:
    """Calls per second through one client, the median call's milliseconds, and the client
    process's CPU time per call (the lean client's own cost, whatever the servers do)."""
    redis = Redis.from_url(url, wait_replicas=wait_replicas)
    try:
        sha = await redis.execute("SCRIPT", "LOAD", SCRIPT)
        took: list[float] = []
        stop = time.monotonic() + seconds

        async def caller(n: int) -> None:
            while (now := time.monotonic()) < stop:
                key = f"{{b:{(n * 7919 + len(took)) % 4096}}}"
                await redis.execute_waited("EVALSHA", sha, 1, key)
                took.append(time.monotonic() - now)

        started, cpu = time.monotonic(), time.process_time()
        await asyncio.gather(*(caller(n) for n in range(concurrency)))
        calls = len(took)
        return (calls / (time.monotonic() - started), statistics.median(took) * 1000,
                (time.process_time() - cpu) / calls * 1e6)
    finally:
        await redis.close()


def _caught_up(master: RedisServer) -> bool:
    """True when every replica of `master` has everything it wrote."""
    info = master.command("INFO", "replication").decode()
    offset = info.split("master_repl_offset:")[1].split()[0]
    replicas = [line for line in info.splitlines() if line.startswith("slave")
                and "offset=" in line]
    return all(f"offset={offset}," in line for line in replicas)


def _settle(masters: Sequence[RedisServer]) -> None:
    """Let the replicas catch up before the next shape (a backlog left by one shape would slow
    the next one's WAITs)."""
    wait_until(lambda: all(_caught_up(master) for master in masters), "the replicas", 60)


def _servers(root: Path, fsync: str
             ) -> tuple[list[Callable[[], None]], list[Shape], list[RedisServer]]:
    durable = ("--appendfsync", fsync)
    lone = RedisServer(root / "lone", cluster=False).start(appendonly=True, extra=durable)
    master = RedisServer(root / "master", cluster=False).start(appendonly=True, extra=durable)
    replica = RedisServer(root / "replica", cluster=False).start(appendonly=True, extra=durable)
    replica.command("REPLICAOF", "127.0.0.1", str(master.port))
    wait_until(lambda: b"state=online" in master.command("INFO", "replication"), "the replica")
    cluster = RedisCluster(root / "cluster", cluster=False).start(appendonly=True, extra=durable)
    stops = [lone.stop, replica.stop, master.stop, cluster.stop]
    masters = [master, *cluster.masters()]
    return stops, [("one server", lone.url, None),
                   ("master + replica, WAIT off", master.url, 0),
                   ("master + replica, WAIT 1", master.url, None),
                   ("3+3 cluster, WAIT off", cluster.url, 0),
                   ("3+3 cluster, WAIT 1", cluster.url, None)], masters


def _report(shapes: Sequence[Shape], rounds: list[list[Result]]) -> None:
    print(f"{'shape':<28} {'calls/s':>9} {'ratio to one server':>20} {'median call ms':>15} "
          f"{'client CPU us/call':>19}")
    for index, (name, _, _) in enumerate(shapes):
        rates = [r[index][0] for r in rounds]
        ratios = [r[index][0] / r[0][0] for r in rounds]
        ms = [r[index][1] for r in rounds]
        cpu = [r[index][2] for r in rounds]
        print(f"{name:<28} {statistics.median(rates):>9,.0f} {statistics.median(ratios):>20.2f}"
              f" {statistics.median(ms):>15.2f} {statistics.median(cpu):>19.1f}")
    for waited, plain in ((2, 1), (4, 3)):  # WAIT 1 against WAIT off, on the same servers
        ratios = [r[waited][0] / r[plain][0] for r in rounds]
        print(f"{shapes[waited][0]} / {shapes[plain][0]}: {statistics.median(ratios):.2f} "
              f"(rounds: {', '.join(f'{ratio:.2f}' for ratio in ratios)})")
    print("(medians of the rounds) rounds, calls/s: " + "; ".join(
        " / ".join(f"{rate:,.0f}" for rate, _, _ in r) for r in rounds))


def main(argv: Sequence[str] | None = None,
         prog: str = "python -m loadtests topologies") -> int:
    """Measure every shape, round after round; print medians and ratios."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--uvloop", action="store_true", help="run the client on uvloop")
    parser.add_argument("--appendfsync", choices=("always", "everysec"), default="always",
                        help="every server's AOF fsync policy (production's: always)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="authsvc-topologies-") as folder:
        stops, shapes, masters = _servers(Path(folder), args.appendfsync)
        try:
            rounds = []
            for _ in range(args.rounds):
                rates: list[Result] = []
                for _, url, wait in shapes:
                    _settle(masters)
                    rates.append(_run(url, wait, args))
                rounds.append(rates)
        finally:
            for stop in stops:
                stop()
    _report(shapes, rounds)
    return 0


def _run(url: str, wait: int | None, args: argparse.Namespace) -> Result:
    coroutine = _rate(url, wait, args.seconds, args.concurrency)
    if args.uvloop:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coroutine)
    return asyncio.run(coroutine)
