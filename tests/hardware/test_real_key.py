"""The real-key bench: the same register + authenticate ceremony against fido2.server.Fido2Server,
run with the soft key always and with the first real key when one is plugged in and readable.

A real key needs a touch (twice) within 30 seconds each. userVerification is "discouraged" because
of python-fido2's UV trap (a factory-fresh key advertises clientPin); a key with a PIN set gets it
from the TOKENS_KEY_PIN environment variable. CI runs ``-m "not hardware"``.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fido2.ctap import CtapDevice
from fido2.server import Fido2Server
from fido2.webauthn import (
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    UserVerificationRequirement,
)

from tokens.fido import SoftAuthenticator
from tokens.hardware import describe, diagnose, find_keys
from tokens.webauthn_client import authenticate, register

RP = PublicKeyCredentialRpEntity(id="example.test", name="Example")
ORIGIN = "https://example.test"
TOUCH_SECONDS = 30.0


def _touch() -> None:
    print("\ntouch the key now...", file=sys.stderr, flush=True)


@pytest.fixture(params=["soft", pytest.param("real", marks=pytest.mark.hardware)])
def key(request: pytest.FixtureRequest) -> Iterator[CtapDevice]:
    if request.param == "soft":
        yield SoftAuthenticator()
        return
    found = find_keys()
    if not found:
        pytest.skip(diagnose())
    for extra in found[1:]:
        extra.close()
    print(f"\nusing {describe(found[0])}", file=sys.stderr)
    yield found[0]
    found[0].close()


@contextmanager
def _deadline() -> Iterator[threading.Event]:
    """An event that cancels the ceremony if nobody touches the key in time."""
    event = threading.Event()
    timer = threading.Timer(TOUCH_SECONDS, event.set)
    timer.start()
    try:
        yield event
    finally:
        timer.cancel()
        timer.join()


def test_register_and_authenticate_against_fido2_server(key: CtapDevice) -> None:
    server = Fido2Server(RP)
    pin = os.environ.get("TOKENS_KEY_PIN")
    options, state = server.register_begin(
        PublicKeyCredentialUserEntity(id=b"bench-user", name="bench"),
        user_verification=UserVerificationRequirement.DISCOURAGED)
    with _deadline() as event:
        response = register(key, dict(options.public_key), ORIGIN, pin=pin, on_touch=_touch,
                            event=event)
    credential = server.register_complete(state, response).credential_data
    assert credential is not None
    request, state = server.authenticate_begin(
        [credential], user_verification=UserVerificationRequirement.DISCOURAGED)
    with _deadline() as event:
        assertion = authenticate(key, dict(request.public_key), ORIGIN, pin=pin, on_touch=_touch,
                                 event=event)
    assert server.authenticate_complete(state, [credential], assertion) == credential
