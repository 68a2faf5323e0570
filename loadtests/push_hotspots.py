"""Summarise a py-spy profile of the service under Duo Push load: CPU per layer and per request.

``python -m loadtests.push_hotspots service.folded`` reads what
``python -m loadtests.push_bench --profile service.folded`` wrote (py-spy raw, collapsed
stacks). Like `loadtests.hotspots`, each sample is charged to the innermost frame that belongs
to a known layer, with layers for what a push costs beyond a passcode: TLS, the device API's
RSA signature check, the push and device domain. A second table charges each sample to the
request it serves (the handler frame on its stack): the Auth API's push, the phone's long poll,
the phone's answer, the Auth API middleware before its handler; samples outside any of these
(the event loop, TLS records, aiohttp's parsing, Redis replies) are "outside a handler".
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from loadtests.hotspots import Profile, layer_of, render, stacks

LAYERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern)) for name, pattern in (
        ("TLS (ssl, asyncio sslproto)", r"\(ssl\.py|\(asyncio/sslproto\.py"),
        ("socket writes (send syscalls)",
         r"^_SelectorSocketTransport\.write \(asyncio/selector_events\.py"),
        ("device signature check (RSA-2048 verify, key parsing)",
         r"^(DeviceService\._check_signature|_rsa_public_key|DeviceService\.authenticate) "),
        ("Auth API signature check (HMAC)",
         r"\(authsvc/wire/|\(authsvc/http/signature\.py|^(verify_request|read_wire) "),
        ("authentication log", r"^(auth_record|AuthLog\.|LogStream\.|AuthlogStore\.)"),
        ("lean Redis client (pack, futures, replies)", r"\(authsvc/store/redis_client\.py"),
        ("events subscriber and waiters", r"\(authsvc/store/pubsub\.py|\(authsvc/domain/events\.py"),
        ("push and device domain, push store",
         r"\((authsvc/domain/)?(push|device|transactions)\.py|\(authsvc/store/pushes\.py|"
         r"\(authsvc/http/device_api\.py"),
        ("other authsvc code (middleware, handlers, domain, store)",
         r"\(authsvc/|^Authenticator\.|^_?[A-Za-z]+ \((auth|authlog)\.py"),
        ("aiohttp (HTTP parsing, routing, responses)", r"\(aiohttp/"),
        ("asyncio event loop", r"\(asyncio/|\(selectors\.py"),
    ))
REQUESTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern)) for name, pattern in (
        ("POST /auth/v2/auth (push)", r"^auth \(authsvc/http/auth_api\.py"),
        ("GET /auth/v2/auth_status", r"^auth_status \(authsvc/http/auth_api\.py"),
        ("GET /push/v2/device/transactions (the phone's long poll)",
         r"^transactions \(authsvc/http/device_api\.py"),
        ("POST /push/v2/device/transactions/<urgid> (the answer)",
         r"^answer \(authsvc/http/device_api\.py"),
        ("events subscriber (PUBLISH -> waiters)", r"\(authsvc/store/pubsub\.py"),
        ("Auth API middleware before the handler (signature check, parameters)",
         r"^signature_middleware \("),
    ))
OUTSIDE = "outside a handler (event loop, TLS, HTTP parsing, Redis replies)"


def _request(frames: Sequence[str]) -> str:
    """The first entry of REQUESTS found anywhere on the stack (handlers before middleware)."""
    for name, pattern in REQUESTS:
        if any(pattern.search(frame) for frame in frames):
            return name
    return OUTSIDE


def read(lines: Iterable[str]) -> tuple[Profile, Counter[str]]:
    """Samples per layer, per innermost function, and per request served."""
    layers: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    requests: Counter[str] = Counter()
    total = 0
    for frames, samples in stacks(lines):
        total += samples
        layers[layer_of(frames, LAYERS)] += samples
        functions[frames[-1]] += samples
        requests[_request(frames)] += samples
    return Profile(total, layers, functions), requests


def render_requests(total: int, requests: Counter[str]) -> str:
    """The per-request table as text."""
    if not total:
        return ""
    lines = ["share of busy CPU per request served (the handler on the stack):"]
    lines += [f"  {count * 100 / total:5.1f}%  {name}" for name, count in requests.most_common()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the summary of one profile file."""
    parser = argparse.ArgumentParser(prog="python -m loadtests.push_hotspots",
                                     description=__doc__)
    parser.add_argument("profile", type=Path, help="py-spy raw output")
    parser.add_argument("--top", type=int, default=20, help="functions to list (20)")
    args = parser.parse_args(argv)
    with args.profile.open() as lines:
        profile, requests = read(lines)
    print(render(profile, args.top))
    print(render_requests(profile.total, requests))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
