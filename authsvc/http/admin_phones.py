"""Admin API v1 phone handlers: phones, their users, activation, Help Desk verification push."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from authsvc.domain.phones import PhoneChanges
from authsvc.http.envelope import ok
from authsvc.http.middleware import actor, credentials, params, services
from authsvc.http.params import Params
from authsvc.http.render import paging, user_summary
from authsvc.model.users import PhoneUsers

PHONES_MAX_LIMIT = 500
PHONES_DEFAULT_LIMIT = 100


def _changes(args: Params) -> PhoneChanges:
    return PhoneChanges(
        number=args.text("number", max_length=64), extension=args.text("extension", max_length=16),
        name=args.text("name", max_length=255), type=args.text("type", max_length=32),
        platform=args.text("platform", max_length=64),
        predelay=args.integer("predelay", minimum=0, maximum=60),
        postdelay=args.integer("postdelay", minimum=0, maximum=60))


def phone_json(view: PhoneUsers) -> dict[str, Any]:
    """The Admin API phone object."""
    phone, users = view.phone, [user_summary(user) for user in view.users]
    return {
        "phone_id": phone.phone_id, "number": phone.number, "extension": phone.extension,
        "name": phone.name, "type": phone.type.value, "platform": phone.platform,
        "predelay": phone.predelay, "postdelay": phone.postdelay, "model": phone.model,
        "activated": phone.activated, "capabilities": phone.capabilities,
        "sms_passcodes_sent": False, "last_seen": phone.last_seen, "encrypted": "",
        "fingerprint": "", "screenlock": "", "tampered": "", "users": users,
    }


async def list_phones(request: web.Request) -> web.Response:
    """GET /admin/v1/phones (paged; or ?number=&extension=)."""
    devices, args = services(request).admin.devices, params(request)
    number = args.text("number", max_length=64)
    if number is not None:
        found = await devices.phones_by_number(
            actor(request), number, args.text("extension", max_length=16) or "")
        return ok([phone_json(view) for view in found])
    offset, limit = args.paging(default_limit=PHONES_DEFAULT_LIMIT, max_limit=PHONES_MAX_LIMIT)
    views, total = await devices.phones(actor(request), offset, limit)
    return ok([phone_json(view) for view in views], paging(offset, limit, total))


async def add_phone(request: web.Request) -> web.Response:
    """POST /admin/v1/phones."""
    phone = await services(request).admin.devices.add_phone(actor(request),
                                                            _changes(params(request)))
    return ok(phone_json(PhoneUsers(phone, [])))


async def get_phone(request: web.Request) -> web.Response:
    """GET /admin/v1/phones/{phone_id}."""
    return ok(phone_json(await services(request).admin.devices.phone(
        actor(request), request.match_info["phone_id"])))


async def update_phone(request: web.Request) -> web.Response:
    """POST /admin/v1/phones/{phone_id}."""
    view = await services(request).admin.devices.update_phone(
        actor(request), request.match_info["phone_id"], _changes(params(request)))
    return ok(phone_json(view))


async def delete_phone(request: web.Request) -> web.Response:
    """DELETE /admin/v1/phones/{phone_id} (removes it from every user)."""
    await services(request).admin.devices.delete_phone(actor(request),
                                                        request.match_info["phone_id"])
    return ok("")


async def activation_url(request: web.Request) -> web.Response:
    """POST /admin/v1/phones/{phone_id}/activation_url."""
    args = params(request)
    activation = await services(request).admin.devices.activation(
        actor(request), request.match_info["phone_id"], args.integer("valid_secs"))
    return ok({key: activation[key]
               for key in ("activation_url", "activation_barcode", "valid_secs")})


async def send_sms_activation(request: web.Request) -> web.Response:
    """POST /admin/v1/phones/{phone_id}/send_sms_activation."""
    args = params(request)
    result = await services(request).admin.devices.sms_activation(
        actor(request), request.match_info["phone_id"], valid_secs=args.integer("valid_secs"),
        install=args.flag("install"),
        installation_msg=args.text("installation_msg", max_length=1000),
        activation_msg=args.text("activation_msg", max_length=1000))
    return ok(result)


async def send_sms_passcodes(request: web.Request) -> web.Response:
    """POST /admin/v1/phones/{phone_id}/send_sms_passcodes: a new batch for the phone's users
    (the Admin Panel's "Send SMS passcodes"; no cooldown, the daily limit applies)."""
    await services(request).admin.devices.send_sms_passcodes(actor(request),
                                                              request.match_info["phone_id"])
    return ok("")


async def user_phones(request: web.Request) -> web.Response:
    """GET /admin/v1/users/{user_id}/phones (in the user's order)."""
    admin = services(request).admin
    user = await admin.users.get(actor(request), request.match_info["user_id"])
    views = await admin.devices.user_phones(actor(request), user.user.user_id)
    return ok([phone_json(view) for view in views], paging(0, len(views), len(views)))


async def add_user_phone(request: web.Request) -> web.Response:
    """POST /admin/v1/users/{user_id}/phones."""
    phone_id = params(request).required_text("phone_id", max_length=64)
    await services(request).admin.devices.attach_phone(actor(request),
                                                        request.match_info["user_id"], phone_id)
    return ok("")


async def delete_user_phone(request: web.Request) -> web.Response:
    """DELETE /admin/v1/users/{user_id}/phones/{phone_id} (the last user's detach deletes it)."""
    match = request.match_info
    await services(request).admin.devices.detach_phone(actor(request), match["user_id"],
                                                        match["phone_id"])
    return ok("")


async def order_user_phones(request: web.Request) -> web.Response:
    """POST /admin/v1/users/{user_id}/phones/order (authsvc extension): `phone_ids` in order."""
    phone_ids = params(request).items("phone_ids")
    views = await services(request).admin.devices.reorder_phones(
        actor(request), request.match_info["user_id"], phone_ids)
    return ok([phone_json(view) for view in views])


async def send_verification_push(request: web.Request) -> web.Response:
    """POST /admin/v1/users/{user_id}/send_verification_push."""
    phone_id = params(request).required_text("phone_id", max_length=64)
    result = await services(request).admin.users.send_verification_push(
        actor(request), request.match_info["user_id"], phone_id, credentials(request).integration)
    return ok(result)


async def verification_push_response(request: web.Request) -> web.Response:
    """GET /admin/v1/users/{user_id}/verification_push_response?push_id=."""
    push_id = params(request).required_text("push_id", max_length=64)
    return ok(await services(request).admin.users.verification_push_response(
        actor(request), request.match_info["user_id"], push_id))


def setup_routes(app: web.Application) -> None:
    """Mount the phone part of the Admin API."""
    router = app.router
    router.add_get("/admin/v1/phones", list_phones)
    router.add_post("/admin/v1/phones", add_phone)
    router.add_get("/admin/v1/phones/{phone_id}", get_phone)
    router.add_post("/admin/v1/phones/{phone_id}", update_phone)
    router.add_delete("/admin/v1/phones/{phone_id}", delete_phone)
    router.add_post("/admin/v1/phones/{phone_id}/activation_url", activation_url)
    router.add_post("/admin/v1/phones/{phone_id}/send_sms_activation", send_sms_activation)
    router.add_post("/admin/v1/phones/{phone_id}/send_sms_passcodes", send_sms_passcodes)
    router.add_get("/admin/v1/users/{user_id}/phones", user_phones)
    router.add_post("/admin/v1/users/{user_id}/phones", add_user_phone)
    router.add_post("/admin/v1/users/{user_id}/phones/order", order_user_phones)
    router.add_delete("/admin/v1/users/{user_id}/phones/{phone_id}", delete_user_phone)
    router.add_post("/admin/v1/users/{user_id}/send_verification_push", send_verification_push)
    router.add_get("/admin/v1/users/{user_id}/verification_push_response",
                   verification_push_response)
