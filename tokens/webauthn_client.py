"""Browser-side ceremonies on a key (soft or real): WebAuthn through `fido2.client.Fido2Client`,
the ``appid`` extension retry that Fido2Client 2.x does not do, and raw U2F messages.

Options and responses are WebAuthn JSON dicts (camelCase keys, base64url values): options as
py_webauthn's ``options_to_json`` writes them (a JSON string is accepted too), responses as
``dict(RegistrationResponse)`` / ``dict(AuthenticationResponse)`` give them, which py_webauthn's
``verify_*_response`` and ``fido2.server.Fido2Server`` accept unchanged.

Errors: the origin/RP ID check and the key's refusals surface as `fido2.client.ClientError`
(BAD_REQUEST, DEVICE_INELIGIBLE, TIMEOUT ...); the UV trap and U2F status words become the
`CeremonyError` tree below, with a message a person can act on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from threading import Event
from typing import Any, Literal, TypeVar
from urllib.parse import urlparse

from fido2.client import ClientError, DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap import CtapDevice, CtapError
from fido2.ctap1 import APDU, ApduError, Ctap1
from fido2.ctap2.base import AssertionResponse, Ctap2
from fido2.ctap2.pin import ClientPin
from fido2.hid import CAPABILITY
from fido2.rpid import verify_rp_id
from fido2.utils import sha256, websafe_decode, websafe_encode
from fido2.webauthn import (
    AuthenticationExtensionsClientOutputs,
    AuthenticationResponse,
    AuthenticatorAssertionResponse,
    AuthenticatorAttachment,
    CollectedClientData,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialType,
)

_T = TypeVar("_T")
AppidVia = Literal["auto", "ctap1", "ctap2"]
U2F_POLL_SECONDS = 0.1


class CeremonyError(Exception):
    """Root: the key could not produce a response for these options."""


class UvTrapError(CeremonyError):
    """python-fido2 demands user verification the key cannot give (see the message)."""


class NoCredentialError(CeremonyError):
    """The key owns none of the allowed credentials, neither under the RP ID nor the appid."""


class U2fError(CeremonyError):
    """A U2F message answered with a status word other than 9000 (``.status``)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"U2F status {status:04X}" + (" (key handle not for this key/AppID)"
                                                        if status == APDU.WRONG_DATA else ""))
        self.status = status


class KeyInteraction(UserInteraction):
    """Tells the person to touch the key (``on_touch``) and answers a PIN request with ``pin``."""

    def __init__(self, pin: str | None = None, on_touch: Callable[[], None] | None = None) -> None:
        self._pin = pin
        self._on_touch = on_touch

    def prompt_up(self) -> None:
        if self._on_touch is not None:
            self._on_touch()

    def request_pin(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> str | None:
        return self._pin


def parse_options(options: Mapping[str, Any] | str | bytes) -> dict[str, Any]:
    """WebAuthn-JSON options as a dict: from a dict or a JSON string of one, and unwrapped from
    ``{"publicKey": ...}`` (the CredentialCreationOptions/RequestOptions shape) if given that."""
    parsed = json.loads(options) if isinstance(options, str | bytes) else dict(options)
    if not isinstance(parsed, dict):
        raise ValueError("WebAuthn options must be a JSON object")
    if set(parsed) == {"publicKey"} and isinstance(parsed["publicKey"], dict):
        return dict(parsed["publicKey"])
    return parsed


def _client(device: CtapDevice, origin: str, pin: str | None,
            on_touch: Callable[[], None] | None) -> Fido2Client:
    return Fido2Client(device, DefaultClientDataCollector(origin), KeyInteraction(pin, on_touch))


def _uv_trap(exc: ClientError) -> UvTrapError | None:
    if exc.code == ClientError.ERR.CONFIGURATION_UNSUPPORTED and "verification" in str(exc.cause):
        return UvTrapError(
            "the key advertises uv/clientPin, so python-fido2 treats userVerification 'preferred' "
            "(or absent) as 'required', and the key has no PIN/UV set up: the server should send "
            "userVerification 'discouraged', or set a PIN on the key and pass it")
    if exc.code == ClientError.ERR.BAD_REQUEST and "PIN required" in str(exc.cause):
        return UvTrapError("the key has a PIN and the ceremony needs it: pass the PIN")
    return None


def register(device: CtapDevice, options: Mapping[str, Any] | str, origin: str, *,
             pin: str | None = None, on_touch: Callable[[], None] | None = None,
             event: Event | None = None) -> dict[str, Any]:
    """navigator.credentials.create() at ``origin``: the RegistrationResponse as WebAuthn JSON.

    Raises: ClientError (origin/RP ID mismatch, excluded credential, refusal, timeout),
    UvTrapError.
    """
    try:
        response = _client(device, origin, pin, on_touch).make_credential(
            PublicKeyCredentialCreationOptions.from_dict(parse_options(options)), event)
    except ClientError as exc:
        raise _uv_trap(exc) or exc from exc
    return dict(response)


def authenticate(device: CtapDevice, options: Mapping[str, Any] | str, origin: str, *,
                 pin: str | None = None, on_touch: Callable[[], None] | None = None,
                 event: Event | None = None, appid_via: AppidVia = "auto") -> dict[str, Any]:
    """navigator.credentials.get() at ``origin``: the AuthenticationResponse as WebAuthn JSON.

    If the key owns none of the credentials under the RP ID and the options carry
    ``extensions.appid``, retries with rpIdHash = SHA-256(appid) (CTAP1 appParam, or CTAP2
    rpId = appid; ``appid_via`` picks, "auto" = CTAP2 when the key speaks it) and reports
    ``clientExtensionResults {"appid": true}``, as browsers do.

    Raises: ClientError, UvTrapError, NoCredentialError (not even under the appid).
    """
    parsed = parse_options(options)
    request = PublicKeyCredentialRequestOptions.from_dict(parsed)
    try:
        selection = _client(device, origin, pin, on_touch).get_assertion(request, event)
        return dict(selection.get_response(0))
    except ClientError as exc:
        appid = (parsed.get("extensions") or {}).get("appid")
        if exc.code != ClientError.ERR.DEVICE_INELIGIBLE or not isinstance(appid, str):
            raise _uv_trap(exc) or exc from exc
    return _appid_assertion(device, request, origin, appid, appid_via, event or Event(), on_touch)


def appid_allowed(appid: str, origin: str) -> bool:
    """FIDO AppID rule, simplified as browsers apply it: same origin, or the AppID's host is the
    origin's host or a parent domain of it (and not a public suffix)."""
    host = urlparse(appid).hostname
    return appid == origin or (appid.startswith("https://") and bool(host)
                               and verify_rp_id(host or "", origin))


def _appid_assertion(device: CtapDevice, request: PublicKeyCredentialRequestOptions, origin: str,
                     appid: str, via: AppidVia, event: Event,
                     on_touch: Callable[[], None] | None) -> dict[str, Any]:
    if not appid_allowed(appid, origin):
        raise ClientError.ERR.BAD_REQUEST(f"appid {appid!r} is not valid for origin {origin}")
    client_data = CollectedClientData.create(type=CollectedClientData.TYPE.GET,
                                             challenge=request.challenge, origin=origin)
    credentials = list(request.allow_credentials or [])
    use_ctap2 = via == "ctap2" or (via == "auto" and bool(device.capabilities & CAPABILITY.CBOR))
    timeout = (request.timeout or 60_000) / 1000
    if use_ctap2:
        assertion = _appid_ctap2(device, appid, client_data.hash, credentials, event, on_touch)
    else:
        assertion = _appid_ctap1(device, appid, client_data.hash, credentials, event, on_touch,
                                 timeout)
    response = AuthenticationResponse(
        raw_id=assertion.credential["id"],
        response=AuthenticatorAssertionResponse(
            client_data=client_data, authenticator_data=assertion.auth_data,
            signature=assertion.signature, user_handle=None),
        authenticator_attachment=AuthenticatorAttachment.CROSS_PLATFORM,
        client_extension_results=AuthenticationExtensionsClientOutputs({"appid": True}),
        type=PublicKeyCredentialType.PUBLIC_KEY)
    return dict(response)


def _appid_ctap2(device: CtapDevice, appid: str, client_data_hash: bytes,
                 credentials: Sequence[PublicKeyCredentialDescriptor], event: Event,
                 on_touch: Callable[[], None] | None) -> AssertionResponse:
    ctap2 = Ctap2(device)
    for credential in credentials:
        allow: list[Mapping[str, Any]] = [{"type": "public-key", "id": credential.id}]
        try:  # pre-flight, as the client does for the RP ID: no touch, dummy client data
            ctap2.get_assertion(appid, bytes(32), allow, options={"up": False}, event=event)
        except CtapError as exc:
            if exc.code == CtapError.ERR.NO_CREDENTIALS:
                continue
            raise
        return ctap2.get_assertion(appid, client_data_hash, allow, event=event,
                                   on_keepalive=lambda _status: on_touch() if on_touch else None)
    raise NoCredentialError("the key owns none of the allowed credentials, also not under the appid")


def _appid_ctap1(device: CtapDevice, appid: str, client_data_hash: bytes,
                 credentials: Sequence[PublicKeyCredentialDescriptor], event: Event,
                 on_touch: Callable[[], None] | None, timeout: float) -> AssertionResponse:
    ctap1 = Ctap1(device)
    app_param = sha256(appid.encode())
    for credential in credentials:
        try:  # check-only: 6985 means "mine", 6A80 "not mine"
            ctap1.authenticate(client_data_hash, app_param, credential.id, check_only=True)
        except ApduError as exc:
            if exc.code != APDU.USE_NOT_SATISFIED:
                continue
        signed = _poll_u2f(partial(ctap1.authenticate, client_data_hash, app_param, credential.id),
                           event, timeout, on_touch)
        return AssertionResponse.from_ctap1(app_param, {"type": "public-key", "id": credential.id},
                                            signed)
    raise NoCredentialError("the key owns none of the allowed credentials, also not under the appid")


def _poll_u2f(call: Callable[[], _T], event: Event | None, timeout: float,
              on_touch: Callable[[], None] | None) -> _T:
    """Repeat a U2F request while the key answers 6985 (waiting for a touch)."""
    deadline = time.monotonic() + timeout
    waiter = event or Event()
    prompted = False
    while True:
        try:
            return call()
        except ApduError as exc:
            if exc.code != APDU.USE_NOT_SATISFIED:
                raise U2fError(exc.code) from exc
        if on_touch is not None and not prompted:
            on_touch()
            prompted = True
        if waiter.wait(U2F_POLL_SECONDS) or time.monotonic() >= deadline:
            raise ClientError.ERR.TIMEOUT("no touch")


def u2f_client_data(typ: str, challenge_b64: str, facet: str) -> bytes:
    """U2F ClientData JSON (``typ`` navigator.id.finishEnrollment or navigator.id.getAssertion)."""
    return json.dumps({"typ": typ, "challenge": challenge_b64, "origin": facet},
                      separators=(",", ":")).encode()


def u2f_register(device: CtapDevice, app_id: str, challenge_b64: str, facet: str, *,
                 timeout: float = 30.0, on_touch: Callable[[], None] | None = None) -> dict[str, str]:
    """U2F register (FIDO U2F JS API ``RegisterResponse``): websafe-base64 ``registrationData``
    (the raw REGISTER reply) and ``clientData``, plus ``version`` "U2F_V2".

    Raises: U2fError, ClientError(TIMEOUT) if nobody touches the key in ``timeout`` seconds.
    """
    client_data = u2f_client_data("navigator.id.finishEnrollment", challenge_b64, facet)
    ctap1 = Ctap1(device)
    registration = _poll_u2f(lambda: ctap1.register(sha256(client_data), sha256(app_id.encode())),
                             None, timeout, on_touch)
    return {"version": "U2F_V2", "registrationData": websafe_encode(registration),
            "clientData": websafe_encode(client_data)}


def u2f_sign(device: CtapDevice, app_id: str, challenge_b64: str, key_handle_b64: str, facet: str,
             *, timeout: float = 30.0, on_touch: Callable[[], None] | None = None) -> dict[str, str]:
    """U2F sign (``SignResponse``): websafe-base64 ``signatureData`` (the raw AUTHENTICATE reply:
    UP, counter, signature), ``clientData`` and the ``keyHandle`` used.

    Raises: U2fError (6A80: the handle is not this key's for this AppID), ClientError(TIMEOUT).
    """
    client_data = u2f_client_data("navigator.id.getAssertion", challenge_b64, facet)
    ctap1 = Ctap1(device)
    handle = websafe_decode(key_handle_b64)
    signature = _poll_u2f(
        lambda: ctap1.authenticate(sha256(client_data), sha256(app_id.encode()), handle),
        None, timeout, on_touch)
    return {"signatureData": websafe_encode(signature), "clientData": websafe_encode(client_data),
            "keyHandle": websafe_encode(handle)}
