"""Duo Mobile's device API (``/push/v2/*``): thin over `domain.device`, with CORS for
browser-extension clients (every call is signed, so allowing any origin is harmless)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web

from authsvc.domain.device import DeviceRequest
from authsvc.errors import InvalidParameter
from authsvc.http.envelope import ok
from authsvc.http.middleware import services

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "authorization, x-duo-date, content-type, txid",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
}
CORS_PREFIXES = ("/push/", "/frame/qr")
MAX_WAIT_S = 60


async def device_request(request: web.Request) -> DeviceRequest:
    """Query and body merged (a body may start with '?'), kept raw for the signature too."""
    try:
        body = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameter("body (not UTF-8)") from None
    raw_query = request.rel_url.raw_query_string
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    if request.method == "POST":
        pairs += parse_qsl(body.removeprefix("?"), keep_blank_values=True)
    return DeviceRequest(
        method=request.method, path=request.rel_url.raw_path, raw_query=raw_query, raw_body=body,
        params=pairs, authorization=request.headers.get("Authorization", ""),
        date=request.headers.get("x-duo-date") or request.headers.get("Date"))


async def activate(request: web.Request) -> web.Response:
    """POST /push/v2/activation/<code> (unsigned; the code may arrive as duo://CODE-HOST)."""
    segment = request.match_info["code"].rsplit("/", 1)[-1]
    code = segment.removeprefix("duo:").lstrip("/").split("-", 1)[0]
    device = services(request).device
    return ok(await device.activate(code, await device_request(request)))


async def transactions(request: web.Request) -> web.Response:
    """GET /push/v2/device/transactions (optional `wait` seconds: long poll, our extension)."""
    call = await device_request(request)
    device = services(request).device
    phone = await device.authenticate(call)
    wait_text = call.param("wait") or "0"
    if not wait_text.isdigit() or int(wait_text) > MAX_WAIT_S:
        raise InvalidParameter(f"wait (0-{MAX_WAIT_S} seconds)")
    return ok(await device.transactions(phone, int(wait_text)))


async def answer(request: web.Request) -> web.Response:
    """POST /push/v2/device/transactions/<urgid>."""
    call = await device_request(request)
    return ok(await services(request).device.answer(request.match_info["urgid"], call))


async def registration(request: web.Request) -> web.Response:
    """POST /push/v2/device/registration."""
    call = await device_request(request)
    device = services(request).device
    return ok(await device.register(await device.authenticate(call), call))


async def info(request: web.Request) -> web.Response:
    """GET /push/v2/device/info."""
    device = services(request).device
    return ok(device.info(await device.authenticate(await device_request(request))))


async def preflight(_: web.Request) -> web.Response:
    """OPTIONS on the device API: CORS preflight."""
    return web.Response(status=204)


async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: CORS headers on device-API and QR responses, errors included."""
    if request.path.startswith(CORS_PREFIXES):
        response.headers.update(CORS_HEADERS)


def setup_routes(app: web.Application) -> None:
    """Mount the device API."""
    router = app.router
    router.add_post(r"/push/v2/activation/{code:.+}", activate)
    router.add_get("/push/v2/device/transactions", transactions)
    router.add_post("/push/v2/device/transactions/{urgid}", answer)
    router.add_post("/push/v2/device/registration", registration)
    router.add_get("/push/v2/device/info", info)
    for path in ("/push/v2/activation/{code:.+}", "/push/v2/device/transactions",
                 "/push/v2/device/transactions/{urgid}", "/push/v2/device/registration",
                 "/push/v2/device/info", "/frame/qr"):
        router.add_route("OPTIONS", path, preflight)
    app.on_response_prepare.append(add_cors_headers)
