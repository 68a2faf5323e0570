"""The service built in the test's process: `create_app` served on a real loopback port from a
thread with its own event loop, on a fake clock the test moves.

Why a thread: duo_client is synchronous. Called from the loop that serves the app, it would block
that loop and never get its answer. With the app on a loop of its own, tests call duo_client
(and mobile_sim, on the test's loop) exactly as they call `authsvc serve`: over real HTTP (or
TLS) on 127.0.0.1, against the real test Redis, with no change to the test bodies.

The clock's waits are asyncio events of the app's loop, so the test moves the clock through
`ServedClock`, which runs each change on that loop and returns once it is done.

The app's start-up runs `gc.collect(); gc.freeze()`, which is process-wide: here it freezes the
test run's objects too. That is left alone on purpose. Unfreezing at each stop made every next
start-up collect the whole test process (tests/inprocess took 34 s instead of 21 s), while what
stays frozen is small (peak RSS 121 MB against 116 MB over the 322 in-process tests). Its
rarer full collections (`FULL_COLLECTION_AFTER`) apply to the test process too, harmlessly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ssl
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from authsvc.app import create_app
from authsvc.clock import FakeClock
from authsvc.settings import Secret, Settings
from tests.harness import TEST_SECRET_KEY, free_port

T = TypeVar("T")
START_TIMEOUT_S = 20.0
CALL_TIMEOUT_S = 30.0
# Requests still running at teardown get this long before they are cancelled (stopping wakes
# every wait on the clock, so they end at once unless something is wrong).
SHUTDOWN_TIMEOUT_S = 5.0


class WaitCountingClock(FakeClock):
    """A `FakeClock` that knows its loop and how many waits are pending on it.

    A wait's deadline is the clock's time when the wait starts plus its timeout, so moving the
    clock before the service starts waiting would move the deadline along with it: tests first
    wait for the service to be waiting (`until_waiting`), then advance.
    """

    def __init__(self, start: float) -> None:
        super().__init__(start)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pending = 0
        self._began = asyncio.Event()

    async def wait(self, event: asyncio.Event, timeout: float) -> bool:
        self.pending += 1
        began, self._began = self._began, asyncio.Event()
        began.set()
        try:
            return await super().wait(event, timeout)
        finally:
            self.pending -= 1

    async def until_waiting(self, count: int) -> None:
        """Return once at least `count` waits are pending."""
        while self.pending < count:
            await self._began.wait()


def run_on(loop: asyncio.AbstractEventLoop | None, coroutine: Coroutine[Any, Any, T],
           timeout: float = CALL_TIMEOUT_S) -> T:
    """Run `coroutine` on `loop` (running in another thread) and wait for its result."""
    assert loop is not None, "the service is not running"
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise


class ServedClock:
    """The service's clock as the test's thread sees it: reads are plain, changes run on the
    service's loop (`run_coroutine_threadsafe`) and are done when the call returns."""

    def __init__(self, clock: WaitCountingClock) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock.now()

    def now_ms(self) -> int:
        return self._clock.now_ms()

    def advance(self, seconds: float) -> None:
        """Move the clock on; waits whose deadline it passes end."""

        async def advance() -> None:
            self._clock.advance(seconds)

        run_on(self._clock.loop, advance())

    def advance_into_step(self, step: int, into: float = 1.0) -> None:
        """Move the clock to `into` seconds past the start of the next `step`-second period."""
        self.advance(step - self._clock.now() % step + into)

    def until_waiting(self, count: int = 1, timeout: float = 10.0) -> None:
        """Block until the service has `count` waits pending on the clock (say, a request
        holding for a push to be answered)."""
        run_on(self._clock.loop, self._clock.until_waiting(count), timeout)

    async def waiting(self, count: int = 1, timeout: float = 10.0) -> None:
        """`until_waiting` for async tests (without blocking the test's loop)."""
        assert self._clock.loop is not None, "the service is not running"
        future = asyncio.run_coroutine_threadsafe(self._clock.until_waiting(count),
                                                  self._clock.loop)
        await asyncio.wait_for(asyncio.wrap_future(future), timeout)


def settings_for(redis_url: str, data_dir: Path, **changes: Any) -> Settings:
    """Settings as the subprocess harness gives `authsvc serve` (`service_env`), on a free port."""
    settings = Settings(redis_url=redis_url, data_dir=data_dir, port=free_port(),
                        secret_key=Secret(TEST_SECRET_KEY), log_level="warning").replace(**changes)
    settings.check()
    return settings


@dataclass
class InProcessService:
    """`create_app(settings, clock=...)` behind AppRunner + TCPSite on 127.0.0.1."""

    settings: Settings
    clock: WaitCountingClock
    tls_ca: Path | None = None
    app: web.Application | None = None
    _stop: asyncio.Event | None = None
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _failed: BaseException | None = None

    @property
    def port(self) -> int:
        return self.settings.port

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def scheme(self) -> str:
        return "https" if self.settings.tls else "http"

    def start(self) -> InProcessService:
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),),
                                        name=f"authsvc-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise RuntimeError("the in-process service did not start")
        if self._failed is not None:
            self._thread.join()
            raise RuntimeError("the in-process service failed to start") from self._failed
        return self

    def _ssl_context(self) -> ssl.SSLContext | None:
        """As `authsvc serve --tls-cert --tls-key` builds it."""
        if self.settings.tls_cert is None or self.settings.tls_key is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.settings.tls_cert, self.settings.tls_key)
        return context

    async def _serve(self) -> None:
        assert self.clock.loop is None, "a clock drives one service"
        self.clock.loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        runner: web.AppRunner | None = None
        try:
            self.app = create_app(self.settings, clock=self.clock)
            runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port,
                              ssl_context=self._ssl_context()).start()
        except Exception as exc:  # reported by start(), in the test's thread
            self._failed = exc
        self._ready.set()
        try:
            if self._failed is None:
                await self._stop.wait()
        finally:
            if runner is not None:
                await runner.cleanup()

    def stop(self) -> None:
        if self._thread is None:
            return
        loop, stop = self.clock.loop, self._stop
        if loop is not None and stop is not None and self._thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
        self._thread.join(SHUTDOWN_TIMEOUT_S + 10)
        assert not self._thread.is_alive(), "the in-process service did not stop"
        self._thread = None
