"""Phone administration: records, attachment to users (with order), activation codes.

A phone may serve several users; deleting it detaches it from all of them, and detaching it from
its last user deletes it. A new activation code invalidates the previous code and cuts off the
app activated before (its credentials are removed at once).
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from authsvc.clock import Clock
from authsvc.crypto import SecretBox, random_id, secret_hash
from authsvc.domain.links import Links
from authsvc.domain.messages import Message, Messenger
from authsvc.errors import InvalidParameter, NotFound
from authsvc.model.attempts import MobileOtp
from authsvc.model.phones import PLATFORMS, Phone, PhoneType
from authsvc.model.users import PhoneUsers
from authsvc.store import Store

DEFAULT_ACTIVATION_SECS = 86_400
MAX_ACTIVATION_SECS = 30 * 86_400
CODE_ALPHABET = string.ascii_letters + string.digits
_NUMBER = re.compile(r"\+?[0-9]{3,20}")


@dataclass(frozen=True, slots=True)
class PhoneChanges:
    """Fields an admin sent (None = not sent)."""

    number: str | None = None
    extension: str | None = None
    name: str | None = None
    type: str | None = None
    platform: str | None = None
    predelay: int | None = None
    postdelay: int | None = None


def normalize_number(number: str) -> str:
    """E.164: separators removed, ``+1`` assumed without a leading ``+`` (as Duo does)."""
    cleaned = re.sub(r"[\s().-]", "", number)
    if not cleaned:
        return ""
    if not _NUMBER.fullmatch(cleaned):
        raise InvalidParameter("number")
    return cleaned if cleaned.startswith("+") else "+1" + cleaned


def _check_texts(changes: PhoneChanges) -> dict[str, Any]:
    updates: dict[str, Any] = {}
    if changes.number is not None:
        updates["number"] = normalize_number(changes.number)
    if changes.extension is not None:
        if (changes.extension and not changes.extension.isdigit()) or len(changes.extension) > 10:
            raise InvalidParameter("extension")
        updates["extension"] = changes.extension
    if changes.name is not None:
        if len(changes.name) > 255 or not changes.name.isprintable():
            raise InvalidParameter("name")
        updates["name"] = changes.name
    return updates


def _apply(phone: Phone, changes: PhoneChanges) -> Phone:
    updates = _check_texts(changes)
    if changes.type is not None:
        try:
            updates["type"] = PhoneType(changes.type.lower())
        except ValueError:
            raise InvalidParameter("type (mobile, landline or unknown)") from None
    if changes.platform is not None:
        if changes.platform.lower() not in PLATFORMS:
            raise InvalidParameter(f"platform ({', '.join(PLATFORMS)})")
        updates["platform"] = changes.platform.lower()
    for delay in ("predelay", "postdelay"):
        value = getattr(changes, delay)
        if value is not None:
            if not 0 <= value <= 60:
                raise InvalidParameter(f"{delay} (0-60 seconds)")
            updates[delay] = value
    return dataclasses.replace(phone, **updates)


def otp_copy(box: SecretBox, phone_id: str, cred: int, hotp_secret: str) -> MobileOtp:
    """A user's copy of the app's passcode state (seed sealed, counter 0)."""
    sealed = box.seal(hotp_secret.encode("ascii"), bound_to=f"{phone_id}:{cred}")
    return MobileOtp(phone_id, sealed, 0, cred)


class PhoneDirectory:
    """Create, change, attach, order and activate phones."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock, links: Links,
                 messenger: Messenger) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._links = links
        self._messenger = messenger

    async def add(self, changes: PhoneChanges) -> Phone:
        now_ms = self._clock.now_ms()
        phone = _apply(Phone(phone_id=random_id("DP"), created=now_ms // 1000), changes)
        await self._store.phones.create(phone, order_ms=now_ms)
        return phone

    async def get(self, phone_id: str) -> Phone:
        phone = await self._store.phones.get(phone_id)
        if phone is None:
            raise NotFound("phone_id")
        return phone

    async def page(self, offset: int, limit: int) -> tuple[list[Phone], int]:
        return await self._store.phones.page(offset, limit)

    async def by_number(self, number: str, extension: str) -> list[Phone]:
        return await self._store.phones.by_number(normalize_number(number), extension)

    async def update(self, phone_id: str, changes: PhoneChanges) -> Phone:
        before = await self.get(phone_id)
        after = _apply(before, changes)
        await self._store.phones.update(before, after)
        return after

    async def users_of(self, phone_id: str) -> list[str]:
        return await self._store.phones.users_of(phone_id)

    async def with_users(self, phones: Sequence[Phone]) -> list[PhoneUsers]:
        """Each phone with the users it is attached to (two round trips for any number)."""
        user_ids = await self._store.phones.users_of_many([phone.phone_id for phone in phones])
        users = {user.user_id: user for user in await self._store.users.get_many(
            {user_id for ids in user_ids for user_id in ids})}
        return [PhoneUsers(phone, [users[u] for u in ids if u in users])
                for phone, ids in zip(phones, user_ids, strict=True)]

    async def page_with_users(self, offset: int, limit: int) -> tuple[list[PhoneUsers], int]:
        """One page of phones with their users (three round trips), and the total."""
        phones, total = await self.page(offset, limit)
        return await self.with_users(phones), total

    async def view(self, phone_id: str) -> PhoneUsers:
        """One phone with its users; raises NotFound."""
        return (await self.with_users([await self.get(phone_id)]))[0]

    async def of_user(self, user_id: str) -> list[Phone]:
        """The user's phones in order (the first is used for automatic push)."""
        return await self._store.phones.get_many(await self._store.phones.of_user(user_id))

    async def delete(self, phone_id: str) -> None:
        """Delete the phone and detach it from every user (nothing happens if already gone)."""
        await delete_phone(self._store, phone_id)

    async def begun_for_enrollment(self, phone_id: str, within_s: int) -> None:
        """A prompt session began this phone: unless attached within `within_s` (or deleted),
        the Trash sweep deletes it (`prompt_devices.sweep_unfinished`)."""
        await self._store.phones.mark_unfinished(phone_id,
                                                 self._clock.now_ms() + within_s * 1000)

    async def enrollment_finished(self, phone_id: str) -> None:
        await self._store.phones.unmark_unfinished(phone_id)

    async def attach(self, user_id: str, phone_id: str) -> None:
        if await self._store.users.get(user_id) is None:
            raise NotFound("user_id")
        record = await self._store.phones.record(phone_id)
        if record is None:
            raise NotFound("phone_id")
        copy = None
        if record.phone.activated:
            app = record.app
            secret = self._box.open(app.sealed_hotp_secret, bound_to=f"{phone_id}:{app.cred}")
            copy = otp_copy(self._box, phone_id, app.cred, secret.decode())
        await self._store.phones.attach(user_id, phone_id, copy)

    async def detach(self, user_id: str, phone_id: str) -> None:
        """Detach; a phone left without users is deleted."""
        await detach_phone(self._store, user_id, phone_id)

    async def reorder(self, user_id: str, phone_ids: list[str]) -> list[Phone]:
        """Put the user's phones in this order (every phone of the user, each once)."""
        current = await self._store.phones.of_user(user_id)
        if sorted(current) != sorted(phone_ids) or len(set(phone_ids)) != len(phone_ids):
            raise InvalidParameter("phone_ids (every phone of the user, each once)")
        await self._store.phones.reorder(user_id, phone_ids)
        return await self.of_user(user_id)

    async def new_activation(self, phone_id: str, valid_secs: int | None) -> dict[str, Any]:
        """A new activation code (the old code and the app activated with it stop working)."""
        phone = await self.get(phone_id)
        if phone.type is not PhoneType.MOBILE or phone.platform == "unknown":
            raise InvalidParameter("phone_id (activation needs type mobile and a known platform)")
        valid = DEFAULT_ACTIVATION_SECS if valid_secs is None else valid_secs
        if not 1 <= valid <= MAX_ACTIVATION_SECS:
            raise InvalidParameter(f"valid_secs (1-{MAX_ACTIVATION_SECS})")
        await revoke_activation(self._store, phone_id)
        # Only the code's hash is stored: a Redis dump must not let anyone activate a phone.
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(20))
        code_hash = secret_hash(code)
        await self._store.phones.put_activation(code_hash, phone_id, self._links.api_host, valid)
        await self._store.phones.set_activation_hash(phone_id, code_hash,
                                                     int(self._clock.now()) + valid)
        return {"activation_url": self._links.activation_url(code),
                "activation_barcode": self._links.qr_url(code), "valid_secs": valid,
                "activation_code": "duo://" + self._links.activation_value(code)}

    async def send_sms_activation(self, phone_id: str, *, valid_secs: int | None, install: bool,
                                  installation_msg: str | None,
                                  activation_msg: str | None) -> dict[str, Any]:
        """A new activation link, sent by SMS through the outbox (refused while the previous
        link is still valid)."""
        # Both templates are checked before anything changes.
        _message(activation_msg, DEFAULT_ACTIVATION_MSG, "<acturl>", "")
        _message(installation_msg, DEFAULT_INSTALLATION_MSG, "<insturl>", "")
        phone = await self.get(phone_id)
        if not phone.number:
            raise InvalidParameter("phone_id (the phone has no number)")
        if await self.pending_activation(phone_id):
            raise InvalidParameter("phone_id (an earlier activation link is still valid)")
        activation = await self.new_activation(phone_id, valid_secs)
        sent_activation = _message(activation_msg, DEFAULT_ACTIVATION_MSG, "<acturl>",
                                   activation["activation_url"])
        sent_installation = _message(installation_msg, DEFAULT_INSTALLATION_MSG, "<insturl>",
                                     INSTALL_URL) if install else ""
        for kind, body in (("installation", sent_installation), ("activation", sent_activation)):
            if body:
                await self._messenger.send(Message("sms", phone.number, body, kind,
                                                   context="administrator"))
        return {"activation_barcode": activation["activation_barcode"],
                "activation_msg": sent_activation, "installation_msg": sent_installation,
                "valid_secs": activation["valid_secs"]}

    async def activation_is_live(self, code: str) -> bool:
        """True while an activation code can still be used."""
        return await self._store.phones.activation_ttl(secret_hash(code)) > 0

    async def pending_activation(self, phone_id: str) -> bool:
        """True while an activation code of the phone is still valid."""
        record = await self._store.phones.record(phone_id)
        code_hash = record.app.activation_hash if record else ""
        return bool(code_hash) and await self._store.phones.activation_ttl(code_hash) > 0


async def revoke_activation(store: Store, phone_id: str) -> None:
    """Invalidate the phone's current code and the credentials of the app activated before."""
    record = await store.phones.record(phone_id)
    if record is None:
        return
    if record.app.activation_hash:
        await store.phones.drop_activation(record.app.activation_hash)
    await store.phones.drop_app(phone_id)
    await store.phones.set_otp_copies(await store.phones.users_of(phone_id), phone_id, None)


async def delete_phone(store: Store, phone_id: str) -> None:
    """Delete a phone, detaching it from every user (nothing happens if already gone)."""
    phone = await store.phones.get(phone_id)
    if phone is None:
        return
    await revoke_activation(store, phone_id)
    for user_id in await store.phones.users_of(phone_id):
        await store.phones.detach(user_id, phone_id)
    await store.phones.delete(phone)


async def detach_phone(store: Store, user_id: str, phone_id: str) -> None:
    """Detach a phone from a user; a phone left without users is deleted."""
    if phone_id not in await store.phones.of_user(user_id):
        raise NotFound("phone_id")
    if await store.phones.detach(user_id, phone_id) == 0:
        await delete_phone(store, phone_id)

DEFAULT_ACTIVATION_MSG = "To activate the Duo Mobile app, click this link: <acturl>"
DEFAULT_INSTALLATION_MSG = "Welcome to Duo! To install the Duo Mobile app, click this link: <insturl>"
INSTALL_URL = "https://duo.com/product/multi-factor-authentication-mfa/duo-mobile-app"


def _message(template: str | None, default: str, marker: str, url: str) -> str:
    text = default if template is None else template
    if marker not in text:
        raise InvalidParameter(f"{'activation' if marker == '<acturl>' else 'installation'}_msg "
                               f"(must contain {marker})")
    return text.replace(marker, url)
