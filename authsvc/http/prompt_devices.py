"""Devices from the Duo Prompt: inline enrollment (``/frame/prompt/{sid}/enroll/*``) and the
self-service portal (``/frame/prompt/{sid}/manage*``). Who may do what is the domain's
decision (`PromptDevices`); these handlers only parse, call and render."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from authsvc.domain.portal import PLATFORMS
from authsvc.domain.prompt import Opened
from authsvc.http.middleware import services
from authsvc.http.prompt import checked_form, checked_json, context, opened, see_other, url
from authsvc.http.web import render


async def _after_adding(request: web.Request, session: Opened) -> web.HTTPSeeOther:
    """Back to the device list (self-service) or to the prompt, to sign in with it."""
    managing = services(request).prompt.devices.managing(session)
    return see_other(url(session, "manage" if managing else ""))


async def ask_to_manage(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/manage: "Manage devices" (after the second factor)."""
    session, _ = await checked_form(request)
    await services(request).prompt.devices.ask_to_manage(session)
    raise see_other(url(session))


async def manage_page(request: web.Request) -> web.Response:
    """GET /frame/prompt/{sid}/manage: the user's devices, with add and delete."""
    session = await opened(request)
    devices = await services(request).prompt.devices.devices(session)
    return render(request, "prompt/manage.html", context(
        session, phones=devices.phones, keys=devices.keys, platforms=PLATFORMS))


async def delete(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/manage/delete (device): remove a phone or security key."""
    session, fields = await checked_form(request)
    await services(request).prompt.devices.delete(session, fields.get("device", ""))
    raise see_other(url(session, "manage"))


async def manage_done(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/manage/done: leave the portal; the sign-in goes on."""
    session, _ = await checked_form(request)
    await services(request).prompt.devices.done_managing(session)
    raise see_other(url(session, "done"))


async def add_mobile(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/enroll/mobile (platform): Duo Mobile, by QR code."""
    session, fields = await checked_form(request)
    session, activation = await services(request).prompt.devices.add_mobile(
        session, fields.get("platform", ""))
    qr = urlsplit(activation["activation_barcode"])  # same origin as the page (img-src 'self')
    return render(request, "prompt/activate.html", context(
        session, activation=activation, qr_src=f"{qr.path}?{qr.query}",
        status_url=url(session, "enroll/status")))


async def activation_status(request: web.Request) -> web.Response:
    """GET /frame/prompt/{sid}/enroll/status: {"activated": bool} (the page polls it)."""
    session = await opened(request)
    activated = await services(request).prompt.devices.activated(session)
    return web.json_response({"activated": activated}, headers={"Cache-Control": "no-store"})


async def activation_continue(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/enroll/continue: the app is activated, go on."""
    session, _ = await checked_form(request)
    await services(request).prompt.devices.activated(session)
    raise await _after_adding(request, session)


async def add_phone(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/enroll/phone (number): a phone for SMS and calls."""
    session, fields = await checked_form(request)
    await services(request).prompt.devices.add_phone(session, fields.get("number", ""))
    raise await _after_adding(request, session)


async def key_options(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/enroll/key/options (JSON csrf): registration options."""
    session, _ = await checked_json(request)
    options = await services(request).prompt.devices.key_options(session)
    return web.json_response(options)


async def register_key(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/enroll/key (JSON csrf, credential, name): the new key."""
    session, body = await checked_json(request)
    result: dict[str, Any] = dict(await services(request).prompt.devices.register_key(
        session, body))
    result["next"] = (await _after_adding(request, session)).location
    return web.json_response(result)


def setup_routes(app: web.Application) -> None:
    """Mount enrollment and self-service."""
    base = "/frame/prompt/{sid:[A-Za-z0-9_-]{22}}"
    router = app.router
    router.add_post(f"{base}/manage", ask_to_manage)
    router.add_get(f"{base}/manage", manage_page)
    router.add_post(f"{base}/manage/delete", delete)
    router.add_post(f"{base}/manage/done", manage_done)
    router.add_post(f"{base}/enroll/mobile", add_mobile)
    router.add_get(f"{base}/enroll/status", activation_status)
    router.add_post(f"{base}/enroll/continue", activation_continue)
    router.add_post(f"{base}/enroll/phone", add_phone)
    router.add_post(f"{base}/enroll/key/options", key_options)
    router.add_post(f"{base}/enroll/key", register_key)
