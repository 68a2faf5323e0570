"""The service in the test's own process, on a clock the test moves.

`service` and `tls_service` here stand in for the `authsvc serve` processes of the top-level
conftest (same names, so the top-level `admin_api` and `auth_api` follow them): each test
gets `create_app(...)` built in this process against the session redis-server (flushed for the
test), served on a free loopback port over real HTTP or TLS from a thread of its own (see
`serving.py` for why a thread), on a `FakeClock` the test moves with `clock.advance(...)`.

The clock starts at the current wall time, whole seconds, and does not move unless told:
duo_client and mobile_sim sign with the real time, so the clock must stay within the service's
allowed skew (300 s) of it; advance it by seconds or minutes, not days.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from authsvc.tls import DevCert
from tests.inprocess.serving import InProcessService, ServedClock, WaitCountingClock, settings_for

HERE = Path(__file__).parent
@pytest.fixture
def fake_clock() -> WaitCountingClock:
    """The service's clock (it lives on the service's loop; tests use `clock`)."""
    return WaitCountingClock(start=float(int(time.time())))


@pytest.fixture
def clock(fake_clock: WaitCountingClock) -> ServedClock:
    """The service's clock, read and moved from the test."""
    return ServedClock(fake_clock)


@pytest.fixture
def service(redis_url: str, fake_clock: WaitCountingClock,
            tmp_path: Path) -> Iterator[InProcessService]:
    """The service over plain HTTP, in this process."""
    served = InProcessService(settings_for(redis_url, tmp_path / "service"), fake_clock).start()
    yield served
    served.stop()


@pytest.fixture
def tls_service(redis_url: str, fake_clock: WaitCountingClock, dev_cert: DevCert,
                tmp_path: Path) -> Iterator[InProcessService]:
    """The service over TLS (dev CA), in this process."""
    settings = settings_for(redis_url, tmp_path / "tls-service", tls_cert=dev_cert.cert,
                            tls_key=dev_cert.key)
    served = InProcessService(settings, fake_clock, tls_ca=dev_cert.ca_cert).start()
    yield served
    served.stop()
