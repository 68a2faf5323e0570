"""Summarise a py-spy profile of the service: share of CPU samples per layer, and top functions.

``python -m loadtests.hotspots service.folded`` reads py-spy's raw (collapsed-stack) output, as
``python -m loadtests.bench --profile service.folded`` writes it. Each sample is charged to the
innermost frame that belongs to a known layer, so hashing done for the signature check counts as
"signature", JSON encoding done for the log counts as "authentication log", and so on. The
WebAuthn layers (``--factor webauthn``) split py_webauthn's verification into the ECDSA check
(OpenSSL runs inside ``verify_signature``'s own samples), decoding the stored COSE key, and the
rest of its parsing; "passcode factors" includes the YubiKey OTP check (AES block, CRC).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

LAYERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern)) for name, pattern in (
        ("socket writes (send syscalls)",
         r"^_SelectorSocketTransport\.write \(asyncio/selector_events\.py"),
        ("request signature check",
         r"\(authsvc/wire/|\(authsvc/http/signature\.py|^(verify_request|read_wire) "),
        ("authentication log", r"^(auth_record|AuthLog\.|LogStream\.)"),
        ("WebAuthn: ECDSA P-256 signature check (py_webauthn -> OpenSSL)",
         r"^verify_signature \(webauthn/|\(cryptography/hazmat/primitives/asymmetric/ec\.py"),
        ("WebAuthn: stored COSE key -> public key object (CBOR, point check)",
         r"^(decode_credential_public_key|decoded_public_key_to_cryptography|parse_cbor) "
         r"\(webauthn/"),
        ("WebAuthn: py_webauthn parsing and checks (JSON, base64url, client/authenticator data)",
         r"\(webauthn/"),
        ("WebAuthn: authsvc security-key code (assertion JSON, challenge, credential lookup)",
         r"\(authsvc/(domain|http|store)/security_keys\.py|^(SecurityKeys|SecurityKeyStore)\."
         r"|^_?[a-z_]+ \(security_keys\.py"),
        ("passcode factors (AES-GCM seed, HOTP, bypass hash)",
         r"\(authsvc/factors/|\(authsvc/crypto\.py|^(SecretBox|Hotp|HotpFactor|BypassFactor)\."),
        ("lean Redis client (pack, futures, replies)", r"\(authsvc/store/redis_client\.py"),
        ("other authsvc code (middleware, handlers, domain, store)",
         r"\(authsvc/|^Authenticator\.|^_?[A-Za-z]+ \((auth|authlog)\.py"),
        ("aiohttp (HTTP parsing, routing, responses)", r"\(aiohttp/"),
        ("asyncio event loop", r"\(asyncio/"),
    ))
OTHER = "other (stdlib, interpreter)"
_LINE = re.compile(r":\d+\)$")


@dataclass(frozen=True, slots=True)
class Profile:
    """Samples per layer and per innermost function."""

    total: int
    layers: Counter[str]
    functions: Counter[str]


def layer_of(frames: Sequence[str],
             layers: Sequence[tuple[str, re.Pattern[str]]] = LAYERS) -> str:
    """The layer (of `layers`) of the innermost frame that has one."""
    for frame in reversed(frames):
        for name, pattern in layers:
            if pattern.search(frame):
                return name
    return OTHER


def stacks(lines: Iterable[str]) -> Iterator[tuple[list[str], int]]:
    """(frames, samples) per py-spy ``--format raw`` line ``frame;frame;... count``, line
    numbers dropped so that one function is one frame."""
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if stack and count.isdigit():
            yield [_LINE.sub(")", frame) for frame in stack.split(";")], int(count)


def read(lines: Iterable[str]) -> Profile:
    """Samples per layer and per innermost function."""
    layers: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for frames, samples in stacks(lines):
        total += samples
        layers[layer_of(frames)] += samples
        functions[frames[-1]] += samples
    return Profile(total, layers, functions)


def render(profile: Profile, top: int) -> str:
    """The two tables as text."""
    if not profile.total:
        return "no samples"
    share = 100 / profile.total
    lines = [f"{profile.total} samples; share of busy CPU per layer:"]
    lines += [f"  {count * share:5.1f}%  {name}" for name, count in profile.layers.most_common()]
    lines.append(f"top {top} functions by own (self) time:")
    lines += [f"  {count * share:5.1f}%  {name}"
              for name, count in profile.functions.most_common(top)]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the summary of one profile file."""
    parser = argparse.ArgumentParser(prog="python -m loadtests.hotspots", description=__doc__)
    parser.add_argument("profile", type=Path, help="py-spy raw output")
    parser.add_argument("--top", type=int, default=20, help="functions to list (20)")
    args = parser.parse_args(argv)
    with args.profile.open() as lines:
        print(render(read(lines), args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
