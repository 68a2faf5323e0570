"""A user's devices from the user's page (seed 003 and seed 001): add a phone, reorder and
remove phones, attach and remove hardware tokens, remove security keys; and a phone's Duo Mobile
activation (QR code, "send by SMS") and SMS passcodes."""

from __future__ import annotations

from aiohttp import web

from authsvc.domain.phones import PhoneChanges
from authsvc.errors import InvalidParameter, NotFound
from authsvc.http.middleware import services
from authsvc.http.panel.common import actor, form, integer, page, see_other, text
from authsvc.model.security_keys import KeyKind

USER = "/admin/users/{user_id:D[A-Z0-9]{1,40}}"
PHONE = "/admin/phones/{phone_id:D[A-Z0-9]{1,40}}"


def _user_url(request: web.Request) -> str:
    return f"/admin/users/{request.match_info['user_id']}"


async def add_phone(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/phones: a new phone (or tablet) attached to the user."""
    svc, who, user_id = services(request), actor(request), request.match_info["user_id"]
    fields = await form(request)
    await svc.admin.users.get(who, user_id)
    tablet = text(fields, "kind", max_length=10) == "tablet"
    number = "" if tablet else text(fields, "number", max_length=40).strip()
    if not tablet and not number:
        raise InvalidParameter("number (a phone needs its number)")
    phone = await svc.admin.devices.add_phone(who, PhoneChanges(
        number=number or None, name=text(fields, "name", max_length=100) or None,
        type="mobile", platform=text(fields, "platform", max_length=40) or "generic smartphone"))
    await svc.admin.devices.attach_phone(who, user_id, phone.phone_id)
    raise see_other(f"/admin/phones/{phone.phone_id}", "created")


async def remove_phone(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/phones/{phone_id}/remove: detach it from this user."""
    await services(request).admin.devices.detach_phone(
        actor(request), request.match_info["user_id"], request.match_info["phone_id"])
    raise see_other(_user_url(request) + "#phones", "removed")


async def move_phone_up(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/phones/{phone_id}/up: one place earlier (phone1 gets the
    automatic push)."""
    svc, who, user_id = services(request), actor(request), request.match_info["user_id"]
    order = [phone.phone.phone_id for phone in await svc.admin.devices.user_phones(who, user_id)]
    phone_id = request.match_info["phone_id"]
    if phone_id not in order:
        raise NotFound("phone_id")
    index = order.index(phone_id)
    if index:
        order[index - 1], order[index] = order[index], order[index - 1]
        await svc.admin.devices.reorder_phones(who, user_id, order)
    raise see_other(_user_url(request) + "#phones", "reordered")


async def attach_token(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/tokens: attach a token found by its serial."""
    svc, who, user_id = services(request), actor(request), request.match_info["user_id"]
    serial = text(await form(request), "serial", max_length=128).strip()
    tokens, _ = await svc.admin.devices.tokens_by_serial(who, serial, None)
    if not tokens:
        raise InvalidParameter("serial (no such hardware token)")
    await svc.admin.devices.assign_token(who, user_id, tokens[0].token_id)
    raise see_other(_user_url(request) + "#tokens", "attached")


async def remove_token(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/tokens/{token_id}/remove."""
    await services(request).admin.devices.unassign_token(
        actor(request), request.match_info["user_id"], request.match_info["token_id"])
    raise see_other(_user_url(request) + "#tokens", "removed")


async def remove_key(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/keys/{key}/remove: delete a WebAuthn or U2F key."""
    svc, who = services(request), actor(request)
    owner, key = await svc.admin.devices.key(who, request.match_info["key"])
    if owner != request.match_info["user_id"]:
        raise NotFound("key")
    await svc.admin.devices.delete_key(who, key.key, KeyKind(key.kind))
    raise see_other(_user_url(request) + "#keys", "removed")


async def activation_form(request: web.Request) -> web.Response:
    """GET /admin/phones/{phone_id}/activate: the code's lifetime, then Generate."""
    view = await services(request).admin.devices.phone(actor(request),
                                                       request.match_info["phone_id"])
    return page(request, "panel/activate.html", title="Activate Duo Mobile", section="phones",
                view=view, activation=None)


async def activate(request: web.Request) -> web.Response:
    """POST /admin/phones/{phone_id}/activate: a new activation code (QR code and link)."""
    svc, who, phone_id = services(request), actor(request), request.match_info["phone_id"]
    hours = integer(await form(request), "hours", 24, 1, 24 * 30)
    activation = await svc.admin.devices.activation(who, phone_id, hours * 3600)
    view = await svc.admin.devices.phone(who, phone_id)
    barcode = str(activation["activation_barcode"])
    return page(request, "panel/activate.html", title="Activate Duo Mobile", section="phones",
                view=view, activation=activation,
                qr_src=barcode[barcode.index("/frame/qr"):])


async def activate_sms(request: web.Request) -> web.Response:
    """POST /admin/phones/{phone_id}/activate/sms: the activation link by SMS."""
    await services(request).admin.devices.sms_activation(
        actor(request), request.match_info["phone_id"], valid_secs=None, install=True,
        installation_msg=None, activation_msg=None)
    raise see_other(f"/admin/phones/{request.match_info['phone_id']}", "activation-sms")


async def sms_passcodes(request: web.Request) -> web.Response:
    """POST /admin/phones/{phone_id}/sms_passcodes: a new batch of SMS passcodes."""
    await services(request).admin.devices.send_sms_passcodes(actor(request),
                                                             request.match_info["phone_id"])
    raise see_other(f"/admin/phones/{request.match_info['phone_id']}", "sms")


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_post(USER + "/phones", add_phone)
    router.add_post(USER + "/phones/{phone_id}/remove", remove_phone)
    router.add_post(USER + "/phones/{phone_id}/up", move_phone_up)
    router.add_post(USER + "/tokens", attach_token)
    router.add_post(USER + "/tokens/{token_id}/remove", remove_token)
    router.add_post(USER + "/keys/{key}/remove", remove_key)
    router.add_get(PHONE + "/activate", activation_form)
    router.add_post(PHONE + "/activate", activate)
    router.add_post(PHONE + "/activate/sms", activate_sms)
    router.add_post(PHONE + "/sms_passcodes", sms_passcodes)
