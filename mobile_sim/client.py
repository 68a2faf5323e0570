"""The phone's HTTPS client for Duo Mobile's device API."""

from __future__ import annotations

import base64
import functools
import html
import re
import ssl
from collections.abc import Mapping
from typing import Any

import aiohttp
import pyotp
from cryptography.hazmat.primitives.asymmetric import rsa

from mobile_sim.protocol import (
    ActivationInputError,
    ActivationValue,
    new_device_key,
    parse_value,
    public_pem,
    sign_request,
    value_from_activation_page,
    value_from_qr_url,
)
from mobile_sim.state import Account, private_pem

APP_FACTS = {
    "platform": "Android", "manufacturer": "authsvc", "model": "mobile-sim", "version": "14",
    "app_id": "com.duosecurity.duomobile", "app_version": "4.85.0", "app_build_number": "485000",
    "language": "en", "region": "US", "architecture": "arm64", "jailbroken": "false",
    "full_disk_encryption": "true", "passcode_status": "true", "customer_protocol": "1",
}
DEVICE_PARAMS = (("fips_status", "1"), ("hsm_status", "true"), ("pkpush", "rsa-sha512"))


class DeviceError(Exception):
    """The service refused a device call; `code` is Duo's five-digit code."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message


@functools.lru_cache(maxsize=16)
def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """Verified TLS, trusting `ca_file` (else the system store). One context per CA file: aiohttp
    pools connections by context, so a context per call left every activation's connection
    idle beside the phone's own (a 10,000-phone fleet held ~20,000 sockets and ran out of file
    descriptors), and loading the CA file each time cost ~1 ms per call."""
    return ssl.create_default_context(cafile=ca_file)


async def _envelope(reply: aiohttp.ClientResponse) -> Any:
    data = await reply.json(content_type=None)
    if not isinstance(data, dict) or data.get("stat") != "OK":
        code = int(data.get("code", 0)) if isinstance(data, dict) else 0
        message = str(data.get("message", "")) if isinstance(data, dict) else str(data)
        raise DeviceError(reply.status, code, message)
    return data["response"]


async def resolve_activation(session: aiohttp.ClientSession, text: str,
                             ca_file: str | None) -> ActivationValue:
    """An activation URL (``/activate/<code>``), the ``duo://`` value or the QR image URL."""
    text = text.strip()
    if text.startswith(("https://", "http://")):
        from_qr = value_from_qr_url(text)
        if from_qr is not None:
            return from_qr
        async with session.get(text, ssl=ssl_context(ca_file)) as reply:
            if reply.status != 200:
                raise ActivationInputError(f"activation page answered {reply.status}")
            return value_from_activation_page(await reply.text())
    return parse_value(text)


async def activate(session: aiohttp.ClientSession, value: ActivationValue,
                   ca_file: str | None = None, key: rsa.RSAPrivateKey | None = None) -> Account:
    """Activate a new app instance: a fresh RSA key (or `key`), then POST
    /push/v2/activation/<code>."""
    key = key or new_device_key()
    form = {**APP_FACTS, "pubkey": public_pem(key), "pkpush": "rsa-sha512"}
    url = f"https://{value.host}/push/v2/activation/{value.code}"
    async with session.post(url, data=form, ssl=ssl_context(ca_file)) as reply:
        response = await _envelope(reply)
    return Account(host=value.host, pkey=response["pkey"], akey=response["akey"],
                   hotp_secret=response["hotp_secret"], private_key_pem=private_pem(key),
                   customer_name=response.get("customer_name", ""), ca_file=ca_file)


_ACTIVATION_LINK = re.compile(r'id="activation-link" href="([^"]+)"')


async def enroll_from_link(session: aiohttp.ClientSession, link: str, ca_file: str | None,
                           platform: str = "android") -> Account:
    """Follow a mailed enrollment link as the phone's owner would: open it, choose Duo Mobile,
    and activate the app with the activation link the portal shows."""
    context = ssl_context(ca_file)
    async with session.get(link, ssl=context) as reply:
        if reply.status != 200:
            raise ActivationInputError(f"enrollment link answered {reply.status}")
    async with session.post(link.rstrip("/") + "/mobile", data={"platform": platform},
                            ssl=context) as reply:
        page = await reply.text()
    found = _ACTIVATION_LINK.search(page)
    if reply.status != 200 or found is None:
        raise ActivationInputError(f"the portal did not offer an activation ({reply.status})")
    value = await resolve_activation(session, html.unescape(found.group(1)), ca_file)
    return await activate(session, value, ca_file)


def passcode(account: Account) -> str:
    """The next Duo Mobile passcode: HOTP-SHA1, 6 digits, keyed by the secret's ASCII bytes."""
    secret = base64.b32encode(account.hotp_secret.encode("ascii")).decode()
    code: str = pyotp.HOTP(secret).at(account.hotp_counter)
    account.hotp_counter += 1
    return code


class DeviceClient:
    """Signed calls of one activated account."""

    def __init__(self, session: aiohttp.ClientSession, account: Account) -> None:
        self.session = session
        self.account = account
        self._ssl = ssl_context(account.ca_file)

    async def _call(self, method: str, path: str, params: Mapping[str, str],
                    timeout: float | None = None) -> Any:
        pairs = [("akey", self.account.akey), *DEVICE_PARAMS, *params.items()]
        headers = sign_request(self.account.private_key(), self.account.pkey, method=method,
                               host=self.account.host, path=path, params=pairs)
        url = f"https://{self.account.host}{path}"
        request_timeout = aiohttp.ClientTimeout(total=timeout) if timeout else None
        if method == "GET":
            call = self.session.get(url, params=pairs, headers=headers, ssl=self._ssl,
                                    timeout=request_timeout)
        else:
            call = self.session.post(url, data=pairs, headers=headers, ssl=self._ssl,
                                     timeout=request_timeout)
        async with call as reply:
            return await _envelope(reply)

    async def transactions(self, wait: float = 0) -> list[dict[str, Any]]:
        """Pending pushes; with `wait` > 0 the service holds the call until one arrives."""
        params = {"wait": str(int(wait))} if wait else {}
        response = await self._call("GET", "/push/v2/device/transactions", params,
                                    timeout=wait + 15 if wait else None)
        transactions: list[dict[str, Any]] = response["transactions"]
        return transactions

    async def answer(self, urgid: str, answer: str, *, step_up_code: str | None = None,
                     fraud: bool = False) -> Any:
        """Approve or deny one push (deny with ``fraud=1`` reports it as fraud)."""
        params = {"answer": answer, "txId": urgid}
        if step_up_code is not None:
            params["step_up_code"] = step_up_code
        if fraud:
            params["fraud"] = "1"
        return await self._call("POST", f"/push/v2/device/transactions/{urgid}", params)

    async def register(self, token: str) -> Any:
        """Register a (simulated) push-notification token."""
        return await self._call("POST", "/push/v2/device/registration", {"token": token})

    async def info(self) -> Any:
        """What the service knows about this device."""
        return await self._call("GET", "/push/v2/device/info", {})
