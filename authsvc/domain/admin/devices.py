"""Phones, hardware tokens, security keys and bypass codes as administrators manage them
(seed 003, Managing 2FA Devices; seed 001, Activating Duo Mobile and Sending SMS Passcodes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from authsvc.domain.access import Access
from authsvc.domain.audit import AdminLog
from authsvc.domain.bypass import BypassIssuer
from authsvc.domain.phones import PhoneChanges, PhoneDirectory
from authsvc.domain.scope import ScopeGuard
from authsvc.domain.security_keys import SecurityKeys
from authsvc.domain.telephony import SmsPasscodes
from authsvc.domain.token_import import ImportReport, TokenImporter
from authsvc.domain.tokens import NewToken, TokenRegistry
from authsvc.errors import NotFound
from authsvc.model.bypass import BypassCode
from authsvc.model.permissions import Action, Actor
from authsvc.model.phones import Phone
from authsvc.model.security_keys import KeyKind, SecurityKey
from authsvc.model.tokens import Token
from authsvc.model.users import PhoneUsers, User

Owners = dict[str, User]


class DeviceAdmin:
    """Every device operation of the Admin API and the Admin Panel, checked and logged."""

    def __init__(self, access: Access, audit: AdminLog, phones: PhoneDirectory,
                 tokens: TokenRegistry, importer: TokenImporter, keys: SecurityKeys,
                 bypass: BypassIssuer, sms: SmsPasscodes, scope: ScopeGuard) -> None:
        self._access = access
        self._scope = scope
        self._audit = audit
        self._phones = phones
        self._tokens = tokens
        self._importer = importer
        self._keys = keys
        self._bypass = bypass
        self._sms = sms

    async def _may(self, actor: Actor, action: Action) -> None:
        await self._access.require(actor, action)

    async def _phone(self, actor: Actor, phone_id: str, change: Action | None = None) -> None:
        await self._scope.held(actor, lambda: self._phones.users_of(phone_id), "phone_id", change)

    async def _token(self, actor: Actor, token_id: str, change: Action | None = None) -> None:
        async def holders() -> tuple[str, ...]:
            try:
                return (await self._tokens.get(token_id)).holders
            except NotFound:
                return ()
        await self._scope.held(actor, holders, "token_id", change)

    async def _key(self, actor: Actor, key: str, change: Action | None = None) -> None:
        async def holders() -> list[str]:
            try:
                return [(await self._keys.get(key))[0]]
            except NotFound:
                return []
        await self._scope.held(actor, holders, "webauthnkey", change)

    # --- phones ---------------------------------------------------------------------------------

    async def phones(self, actor: Actor, offset: int, limit: int) -> tuple[list[PhoneUsers], int]:
        await self._may(actor, Action.READ_USERS)
        phones, total = await self._scope.device_page(
            actor, offset, limit, self._phones.page_with_users,
            lambda item: (user.user_id for user in item.users))
        return await self._scope.phones_shown(actor, phones), total

    async def phones_by_number(self, actor: Actor, number: str,
                               extension: str) -> list[PhoneUsers]:
        await self._may(actor, Action.READ_USERS)
        found = await self._phones.with_users(await self._phones.by_number(number, extension))
        return await self._scope.phones_visible(actor, found)

    async def phone(self, actor: Actor, phone_id: str) -> PhoneUsers:
        await self._may(actor, Action.READ_USERS)
        await self._phone(actor, phone_id)
        return (await self._scope.phones_shown(actor, [await self._phones.view(phone_id)]))[0]

    async def user_phones(self, actor: Actor, user_id: str) -> list[PhoneUsers]:
        await self._may(actor, Action.READ_USERS)
        await self._scope.user(actor, user_id)
        return await self._scope.phones_shown(
            actor, await self._phones.with_users(await self._phones.of_user(user_id)))

    async def add_phone(self, actor: Actor, changes: PhoneChanges) -> Phone:
        await self._may(actor, Action.MANAGE_DEVICES)
        phone = await self._phones.add(changes)
        await self._audit.record(actor, "phone_create", phone.number or phone.phone_id)
        return phone

    async def update_phone(self, actor: Actor, phone_id: str, changes: PhoneChanges) -> PhoneUsers:
        await self._may(actor, Action.MANAGE_DEVICES)
        await self._phone(actor, phone_id, Action.MANAGE_DEVICES)
        phone = await self._phones.update(phone_id, changes)
        await self._audit.record(actor, "phone_update", phone.number or phone.phone_id,
                                 {k: v for k, v in vars_of(changes).items() if v is not None})
        return (await self._scope.phones_shown(actor, [await self._phones.view(phone_id)]))[0]

    async def delete_phone(self, actor: Actor, phone_id: str) -> None:
        await self._may(actor, Action.MANAGE_DEVICES)
        await self._phone(actor, phone_id, Action.MANAGE_DEVICES)
        await self._phones.delete(phone_id)
        await self._audit.record(actor, "phone_delete", phone_id)

    async def attach_phone(self, actor: Actor, user_id: str, phone_id: str) -> None:
        await self._may(actor, Action.MANAGE_DEVICES)
        await self._scope.user(actor, user_id)
        await self._phone(actor, phone_id, Action.MANAGE_DEVICES)
        await self._phones.attach(user_id, phone_id)
        await self._audit.record(actor, "phone_associate", phone_id, {"user_id": user_id})

    async def detach_phone(self, actor: Actor, user_id: str, phone_id: str) -> None:
        await self._may(actor, Action.MANAGE_DEVICES)
        await self._scope.user(actor, user_id)
        await self._phones.detach(user_id, phone_id)
        await self._audit.record(actor, "phone_disassociate", phone_id, {"user_id": user_id})

    async def reorder_phones(self, actor: Actor, user_id: str,
                             phone_ids: list[str]) -> list[PhoneUsers]:
        await self._may(actor, Action.MANAGE_DEVICES)
        await self._scope.user(actor, user_id)
        phones = await self._phones.reorder(user_id, phone_ids)
        await self._audit.record(actor, "user_update", user_id, {"phone_order": phone_ids})
        return await self._scope.phones_shown(actor, await self._phones.with_users(phones))

    async def activation(self, actor: Actor, phone_id: str,
                         valid_secs: int | None) -> dict[str, Any]:
        """A new Duo Mobile activation code (the old one and its app stop working)."""
        await self._may(actor, Action.MANAGE_DEVICES)
        await self._phone(actor, phone_id, Action.MANAGE_DEVICES)
        activation = await self._phones.new_activation(phone_id, valid_secs)
        await self._audit.record(actor, "phone_activation_create", phone_id,
                                 {"valid_secs": activation["valid_secs"]})
        return activation

    async def sms_activation(self, actor: Actor, phone_id: str, **options: Any) -> dict[str, Any]:
        """A new activation link sent by SMS."""
        await self._may(actor, Action.MANAGE_DEVICES)
        await self._phone(actor, phone_id, Action.MANAGE_DEVICES)
        result = await self._phones.send_sms_activation(phone_id, **options)
        await self._audit.record(actor, "phone_activation_sms", phone_id)
        return result

    async def send_sms_passcodes(self, actor: Actor, phone_id: str) -> None:
        await self._may(actor, Action.SEND_SMS_PASSCODES)
        await self._phone(actor, phone_id, Action.SEND_SMS_PASSCODES)
        await self._sms.send_from_admin(phone_id)
        await self._audit.record(actor, "phone_sms_passcodes", phone_id)

    # --- hardware tokens --------------------------------------------------------------------------

    async def tokens(self, actor: Actor, offset: int,
                     limit: int) -> tuple[list[Token], Owners, int]:
        await self._may(actor, Action.READ_USERS)
        tokens, total = await self._scope.device_page(actor, offset, limit, self._tokens.page,
                                                      lambda token: token.holders)
        listed, owners = await self._tokens.with_owners(tokens)
        return listed, await self._scope.owners(actor, owners), total

    async def tokens_by_serial(self, actor: Actor, serial: str,
                               token_type: str | None) -> tuple[list[Token], Owners]:
        await self._may(actor, Action.READ_USERS)
        found, _ = await self._scope.device_page(
            actor, 0, 1, _fixed(await self._tokens.find(serial, token_type)),
            lambda token: token.holders)
        listed, owners = await self._tokens.with_owners(found)
        return listed, await self._scope.owners(actor, owners)

    async def token(self, actor: Actor, token_id: str) -> tuple[list[Token], Owners]:
        await self._may(actor, Action.READ_USERS)
        await self._token(actor, token_id)
        listed, owners = await self._tokens.with_owners([await self._tokens.get(token_id)])
        return listed, await self._scope.owners(actor, owners)

    async def user_tokens(self, actor: Actor, user_id: str) -> list[Token]:
        await self._may(actor, Action.READ_USERS)
        await self._scope.user(actor, user_id)
        return await self._tokens.of_user(user_id)

    async def add_token(self, actor: Actor, request: NewToken) -> Token:
        await self._may(actor, Action.MANAGE_DEVICES)
        token = await self._tokens.add(request)
        await self._audit.record(actor, "token_create", token.serial, {"type": token.type.value})
        return token

    async def import_tokens(self, actor: Actor, csv_text: str, token_type: str,
                            partial: bool) -> ImportReport:
        await self._may(actor, Action.MANAGE_DEVICES)
        report = await self._importer.run(csv_text, token_type, partial=partial)
        await self._audit.record(actor, "token_import", token_type, {"rows": len(report.rows)})
        return report

    async def delete_token(self, actor: Actor, token_id: str) -> None:
        await self._may(actor, Action.MANAGE_DEVICES)
        await self._token(actor, token_id, Action.MANAGE_DEVICES)
        await self._tokens.delete(token_id)
        await self._audit.record(actor, "token_delete", token_id)

    async def resync_token(self, actor: Actor, token_id: str, codes: tuple[str, str, str]) -> None:
        await self._may(actor, Action.MANAGE_DEVICES)
        await self._token(actor, token_id, Action.MANAGE_DEVICES)
        await self._tokens.resync(token_id, codes)
        await self._audit.record(actor, "token_resync", token_id)

    async def assign_token(self, actor: Actor, user_id: str, token_id: str) -> None:
        await self._may(actor, Action.MANAGE_DEVICES)
        await self._scope.user(actor, user_id)
        await self._token(actor, token_id, Action.MANAGE_DEVICES)
        await self._tokens.assign(user_id, token_id)
        await self._audit.record(actor, "token_associate", token_id, {"user_id": user_id})

    async def unassign_token(self, actor: Actor, user_id: str, token_id: str) -> None:
        await self._may(actor, Action.MANAGE_DEVICES)
        await self._scope.user(actor, user_id)
        await self._tokens.unassign(user_id, token_id)
        await self._audit.record(actor, "token_disassociate", token_id, {"user_id": user_id})

    # --- security keys and bypass codes -------------------------------------------------------------

    async def user_keys(self, actor: Actor, user_id: str) -> list[SecurityKey]:
        await self._may(actor, Action.READ_USERS)
        await self._scope.user(actor, user_id)
        return await self._keys.of_user(user_id)

    async def keys(self, actor: Actor, kind: KeyKind, offset: int,
                   limit: int) -> tuple[list[tuple[SecurityKey, User | None]], int]:
        await self._may(actor, Action.READ_USERS)
        return await self._scope.device_page(
            actor, offset, limit, lambda start, count: self._keys.page(kind, start, count),
            lambda item: [item[1].user_id] if item[1] else [])

    async def key(self, actor: Actor, key: str) -> tuple[str, SecurityKey]:
        await self._may(actor, Action.READ_USERS)
        await self._key(actor, key)
        return await self._keys.get(key)

    async def delete_key(self, actor: Actor, key: str, kind: KeyKind) -> None:
        await self._may(actor, Action.MANAGE_DEVICES)
        await self._key(actor, key, Action.MANAGE_DEVICES)
        await self._keys.delete(key, kind)
        await self._audit.record(actor, f"{kind.value}_delete", key)

    async def bypass_codes(self, actor: Actor, offset: int,
                           limit: int) -> tuple[list[BypassCode], Owners, int]:
        await self._may(actor, Action.READ_USERS)
        pairs, total = await self._scope.device_page(actor, offset, limit, self._bypass_pairs,
                                                     lambda pair: [pair[0].user_id])
        return [code for code, _ in pairs], {user.user_id: user for _, user in pairs if user}, total

    async def _bypass_pairs(self, offset: int, limit: int
                            ) -> tuple[list[tuple[BypassCode, User | None]], int]:
        codes, owners, total = await self._bypass.page_with_owners(offset, limit)
        return [(code, owners.get(code.user_id)) for code in codes], total

    async def delete_bypass_code(self, actor: Actor, code_id: str) -> None:
        await self._may(actor, Action.DELETE_BYPASS_CODES)
        await self._scope.bypass_code(actor, code_id, Action.DELETE_BYPASS_CODES)
        await self._bypass.delete(code_id)
        await self._audit.record(actor, "bypass_delete", code_id)


def _fixed(items: list[Token]) -> Callable[[int, int], Awaitable[tuple[list[Token], int]]]:
    """A listing of these few items (a lookup's result, filtered like a listing)."""
    async def fetch(offset: int, limit: int) -> tuple[list[Token], int]:
        return items[offset:offset + limit], len(items)
    return fetch


def vars_of(changes: PhoneChanges) -> dict[str, object]:
    return {name: getattr(changes, name) for name in changes.__dataclass_fields__}
