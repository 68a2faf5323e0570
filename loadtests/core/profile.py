"""Where the service's CPU goes: py-spy samples, charged to layers by the module of each frame.

`record` runs py-spy (installed separately: ``.venv/bin/pip install py-spy``) on the service
and writes its raw collapsed stacks, one ``frame;frame;... count`` line per distinct stack, with
full file names. `read` charges each sample to the innermost frame whose *module* belongs to a
layer of `LAYERS`, so hashing done by the signature check counts as the signature check and JSON
encoding done for the log counts as the log: standard-library modules other than the event loop,
sockets and TLS belong to no layer and leave the sample to their caller. A module is its file
relative to the directory it was imported from (site-packages, the standard library, the
checkout), which py-spy's own short names already are; nothing looks at function names, which
change whenever the code is refactored. The same table serves every scenario.

A second table (`REQUESTS`) charges each sample to the request handler module on its stack,
for the push bench: the Auth API, the phones' device API, the events subscriber.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.core.processes import ChildFailed, Children

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (  # first match wins: specific before general
    ("TLS (ssl, asyncio sslproto)", ("ssl.py", "asyncio/sslproto.py")),
    ("socket I/O (asyncio transports: send, receive)", ("asyncio/selector_events.py",)),
    ("request signature check", ("authsvc/http/signature.py", "authsvc/wire/")),
    ("authentication log", ("authsvc/domain/authlog.py", "authsvc/store/logstream.py")),
    ("device protocol (the phone's RSA-2048 signature check, key parsing)",
     ("authsvc/domain/device.py",)),
    ("Duo Push (pushes, transactions, their store)",
     ("authsvc/domain/push.py", "authsvc/domain/transactions.py", "authsvc/store/pushes.py",
      "authsvc/store/transactions.py")),
    ("events subscriber and waiters", ("authsvc/store/pubsub.py", "authsvc/domain/events.py")),
    ("WebAuthn: ECDSA P-256 signature check (py_webauthn -> OpenSSL)",
     ("webauthn/helpers/verify_signature.py", "cryptography/hazmat/primitives/asymmetric/")),
    ("WebAuthn: stored COSE key -> public key object (CBOR, point check)",
     ("webauthn/helpers/decode_credential_public_key.py",
      "webauthn/helpers/decoded_public_key_to_cryptography.py", "webauthn/helpers/parse_cbor.py",
      "cbor2/")),
    ("WebAuthn: py_webauthn parsing and checks (JSON, base64url, client/authenticator data)",
     ("webauthn/",)),
    ("WebAuthn: authsvc security-key code (assertion JSON, challenge, credential lookup)",
     ("authsvc/domain/security_keys.py", "authsvc/http/security_keys.py",
      "authsvc/store/security_keys.py")),
    ("passcode factors (AES-GCM seed, HOTP, YubiKey OTP, bypass hash)",
     ("authsvc/factors/", "authsvc/crypto.py")),
    ("lean Redis client (pack, futures, replies)", tuple(
        f"authsvc/store/redis_{name}.py" for name in (
            "client", "conn", "protocol", "cluster", "routing", "sentinel", "url", "errors"))),
    ("Redis store (keys, scripts, records)", ("authsvc/store/",)),
    ("HTTP layer (middleware, handlers, envelope)", ("authsvc/http/",)),
    ("domain (decisions, users, tokens, settings)", ("authsvc/domain/",)),
    ("other authsvc code", ("authsvc/",)),
    ("cryptography (OpenSSL bindings)", ("cryptography/",)),
    ("aiohttp (HTTP parsing, routing, responses)",
     ("aiohttp/", "multidict/", "yarl/", "aiosignal/", "propcache/")),
    ("asyncio event loop", ("asyncio/", "selectors.py")),
)
OTHER = "other (stdlib, interpreter)"
REQUESTS: tuple[tuple[str, str], ...] = (  # handlers before the middleware that calls them
    ("Auth API: auth (push) and auth_status", "authsvc/http/auth_api.py"),
    ("device API: the phone's long poll and its answer", "authsvc/http/device_api.py"),
    ("events subscriber (PUBLISH -> waiters)", "authsvc/store/pubsub.py"),
    ("middleware before the handler (signature check, parameters)", "authsvc/http/middleware.py"),
)
OUTSIDE = "outside a handler (event loop, TLS, HTTP parsing, Redis replies)"
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::-?\d+)?\)$")
_LIB_DIR = re.compile(r"(?<=/)(?:site-packages|dist-packages|lib/python3\.\d+)/")
_ROOTS = tuple(sorted({str(Path(entry or ".").resolve()) + "/" for entry in
                       (str(Path(__file__).resolve().parents[2]), *sys.path)}, key=len))


def record(children: Children, pid: int, seconds: int, out: Path,
           log: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling process `pid` for `seconds` (250 Hz, without pausing it) into `out`."""
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(binary).exists():
        raise ChildFailed("--profile needs py-spy: .venv/bin/pip install py-spy")
    return children.start([binary, "record", "-p", str(pid), "-d", str(seconds), "-r", "250",
                           "--nonblocking", "--full-filenames", "-f", "raw", "-o", str(out)],
                          log=log)


def module_path(file: str) -> str:
    """A frame's file as a module path (``authsvc/http/signature.py``, ``asyncio/events.py``):
    without the directory it was imported from, which py-spy's short names already lack."""
    if not file.startswith("/"):
        return file
    cut = max((len(root) for root in _ROOTS if file.startswith(root)), default=0)
    for found in _LIB_DIR.finditer(file):
        cut = max(cut, found.end())
    return file[cut:]


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of a stack: the function's name (shown, never matched) and its module."""

    function: str
    module: str

    def __str__(self) -> str:
        return f"{self.function} ({self.module})" if self.module else self.function


def parse_frame(text: str) -> Frame:
    """``function (file:line)`` as py-spy writes it; line numbers dropped."""
    found = _FRAME.match(text)
    return Frame(found["function"], module_path(found["file"])) if found else Frame(text, "")


def stacks(lines: Iterable[str]) -> Iterator[tuple[list[Frame], int]]:
    """(frames, samples) per py-spy ``--format raw`` line ``frame;frame;... count``."""
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if stack and count.isdigit():
            yield [parse_frame(frame) for frame in stack.split(";")], int(count)


def layer_of(frames: Sequence[Frame]) -> str:
    """The layer of the innermost frame whose module has one."""
    for frame in reversed(frames):
        for name, modules in LAYERS:
            if frame.module.startswith(modules):
                return name
    return OTHER


def request_of(frames: Sequence[Frame]) -> str:
    """The first entry of `REQUESTS` whose module is anywhere on the stack."""
    for name, module in REQUESTS:
        if any(frame.module == module for frame in frames):
            return name
    return OUTSIDE


@dataclass(frozen=True, slots=True)
class Profile:
    """Samples per layer, per innermost function and per request handler."""

    total: int = 0
    layers: Counter[str] = field(default_factory=Counter)
    functions: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)


def read(lines: Iterable[str]) -> Profile:
    """Charge every sample of a py-spy raw file."""
    profile = Profile()
    total = 0
    for frames, samples in stacks(lines):
        total += samples
        profile.layers[layer_of(frames)] += samples
        profile.functions[str(frames[-1])] += samples
        profile.requests[request_of(frames)] += samples
    return Profile(total, profile.layers, profile.functions, profile.requests)


def _shares(title: str, counts: Iterable[tuple[str, int]], total: int) -> list[str]:
    return [title, *(f"  {count * 100 / total:5.1f}%  {name}" for name, count in counts)]


def render(profile: Profile, top: int, *, requests: bool = False) -> str:
    """The layers and the top functions, and with `requests` the request handlers, as text."""
    if not profile.total:
        return "no samples"
    lines = _shares(f"{profile.total} samples; share of busy CPU per layer:",
                    profile.layers.most_common(), profile.total)
    lines += _shares(f"top {top} functions by own (self) time:",
                     profile.functions.most_common(top), profile.total)
    if requests:
        lines += _shares("share of busy CPU per request served (the handler on the stack):",
                         profile.requests.most_common(), profile.total)
    return "\n".join(lines)
