"""Prometheus metrics of the service (prometheus-client), and their exposition.

Every metric is labelled, so its values are created on first use: a process forked after
`prepare_workers` still writes to its own multiprocess file. Label values are bounded sets
(route templates, never raw paths; factor and result names; limiter names), so a caller
cannot grow the series.

One process: the default registry. ``serve --workers N``: the supervisor calls
`prepare_workers(data_dir)` once before starting the workers (a fresh directory, set in
``PROMETHEUS_MULTIPROC_DIR`` for them), and `worker_exited(pid)` when one ends; any worker's
``/metrics`` then answers the sum over all of them (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_DIR_NAME = "metrics"
CONTENT_TYPE = CONTENT_TYPE_LATEST
UNMATCHED = "unmatched"  # the route label of a request no route matched (404s, bad paths)

REQUESTS = Counter(
    "authsvc_http_requests_total", "HTTP requests answered, by route template and status",
    ["route", "method", "status"])
LATENCY = Histogram(
    "authsvc_http_request_duration_seconds", "Time to answer an HTTP request, by route",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
             30.0, 60.0))
DECISIONS = Counter(
    "authsvc_decisions_total",
    "Authentication decisions written to the authentication log, by factor and result",
    ["factor", "result"])
REDIS_ROUND_TRIPS = Counter(
    "authsvc_redis_round_trips_total",
    "Writes to the Redis connection (one command, or one pipeline of several)", ["kind"])
REDIS_ERRORS = Counter(
    "authsvc_redis_errors_total",
    "Redis failures that reached a request: unavailable (503), transient reply (503), "
    "other error reply (500)", ["kind"])
WAITING = Gauge(
    "authsvc_pushes_waiting",
    "Requests held open waiting for a push or call to be answered (sync auth, auth_status "
    "long polls), by topic", ["topic"], multiprocess_mode="livesum")
RATE_LIMITED = Counter(
    "authsvc_rate_limited_total", "Requests refused with 429 by a rate limit", ["limit"])

ALL = (REQUESTS, LATENCY, DECISIONS, REDIS_ROUND_TRIPS, REDIS_ERRORS, WAITING, RATE_LIMITED)


def metric_names() -> set[str]:
    """Every series name the service can expose (for the alert rules' test)."""
    names = set()
    for metric in ALL:
        for family in metric.describe():
            names.add(family.name)
            for suffix in ("_total", "_bucket", "_count", "_sum", "_created"):
                names.add(family.name + suffix)
    return names


def prepare_workers(data_dir: Path) -> Path:
    """Before starting worker processes: an empty ``DATA_DIR/metrics`` (stale files of an
    earlier run would add their counts to this one) set as ``PROMETHEUS_MULTIPROC_DIR`` in
    this process's environment, which the workers inherit. Returns the directory."""
    directory = data_dir / METRICS_DIR_NAME
    shutil.rmtree(directory, ignore_errors=True)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private, as the embedded Redis's
    directory.mkdir(mode=0o700, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    # prometheus_client chose its value class when it was imported; choose again, for
    # workers forked from this process.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    return directory


def worker_exited(pid: int) -> None:
    """A worker ended: drop its live gauges (its counters keep counting in the sum)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def exposition() -> bytes:
    """The metrics in Prometheus's text format: this process's, or with workers, all of
    theirs summed."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


# The series a request touches, by label values. `labels()` validates and looks its child up
# under a lock on every call (1.8% of a passcode verification's CPU in the profile, with `inc`
# 0.8%); the label sets are bounded (see the module docstring), so their children are kept,
# each made on first use in the process that uses it (as `labels()` alone would).
_SERIES_KEPT = 4096


@functools.lru_cache(maxsize=_SERIES_KEPT)
def _request_series(route: str, method: str, status: int) -> tuple[Counter, Histogram]:
    return REQUESTS.labels(route, method, str(status)), LATENCY.labels(route, method)


@functools.lru_cache(maxsize=_SERIES_KEPT)
def _decision_series(factor: str, result: str) -> Counter:
    return DECISIONS.labels(factor, result)


@functools.lru_cache(maxsize=2)
def _round_trip_series(pipelined: bool) -> Counter:
    # Created on first use, not at import: a worker forked after `prepare_workers` must make
    # its own (multiprocess) values.
    return REDIS_ROUND_TRIPS.labels("pipeline" if pipelined else "command")


def count_request(route: str, method: str, status: int, seconds: float) -> None:
    """One HTTP answer: counted by route template, method and status, and timed."""
    answered, latency = _request_series(route, method, status)
    answered.inc()
    latency.observe(seconds)


def count_decision(factor: str, result: str) -> None:
    """One authentication decision written to the log."""
    _decision_series(factor, result).inc()


def count_round_trip(commands: int) -> None:
    """The Redis client's `on_round_trip` hook: one write of `commands` commands."""
    _round_trip_series(commands > 1).inc()
