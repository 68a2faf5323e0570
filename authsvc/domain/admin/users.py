"""Users as administrators see and change them (seed 001, Managing Users)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from authsvc.domain.access import (
    Access,
    bypass_policy,
    editable_fields,
    may_send_enrollment,
    status_choices,
)
from authsvc.domain.audit import AdminLog
from authsvc.domain.bypass import BypassIssuer, BypassRequest
from authsvc.domain.helpdesk import HelpDesk
from authsvc.domain.invitations import Invitations
from authsvc.domain.scope import ScopeGuard
from authsvc.domain.trash import Trash
from authsvc.domain.user_import import ImportReport, UserImporter
from authsvc.domain.user_import_csv import ImportRow
from authsvc.domain.users import UserChanges, UserDirectory, requested_fields, requested_status
from authsvc.model.bypass import BypassCode
from authsvc.model.integrations import Integration
from authsvc.model.permissions import Action, Actor, ActorKind
from authsvc.model.settings import AccountSettings
from authsvc.model.users import User, UserDevices, UserStatus
from authsvc.store import Store

LOOKUP_MAX = 100
NEW_USERS = "new users would be outside them"
_IMPORT_ACTIONS = {"created": "user_create", "updated": "user_update", "deleted": "user_delete"}


@dataclass(frozen=True, slots=True)
class UserLookup:
    """The ways `get_users` finds users (one of them set; none = a plain listing)."""

    username: str | None = None
    usernames: list[str] | None = None
    user_ids: list[str] | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class UserAbilities:
    """What an administrator may do to one user, as the permission table and the conditions
    of `domain/access.py` say (the Admin Panel shows exactly this; the checks stay in force)."""

    fields: frozenset[str]
    statuses: list[UserStatus]
    bypass: str  # allow | limit | deny
    enrollment: bool
    devices: bool
    sms: bool
    verify: bool
    delete: bool
    delete_bypass: bool


class UserAdmin:
    """List, create, change and delete users; their bypass codes and verification pushes."""

    def __init__(self, store: Store, access: Access, audit: AdminLog, users: UserDirectory,
                 bypass: BypassIssuer, helpdesk: HelpDesk, invitations: Invitations,
                 trash: Trash, importer: UserImporter, scope: ScopeGuard) -> None:
        self._store = store
        self._scope = scope
        self._access = access
        self._audit = audit
        self._users = users
        self._bypass = bypass
        self._helpdesk = helpdesk
        self._invitations = invitations
        self._trash = trash
        self._importer = importer

    async def _settings(self) -> AccountSettings:
        return await self._store.account.cached()

    async def page(self, actor: Actor, offset: int, limit: int) -> tuple[list[UserDevices], int]:
        """One page of users with their devices."""
        await self._access.require(actor, Action.READ_USERS)
        return await self._scope.user_page(actor, offset, limit, self._users.page_with_devices)

    async def lookup(self, actor: Actor, lookup: UserLookup) -> list[UserDevices]:
        """Users by name (or alias), names, ids or email, with their devices."""
        await self._access.require(actor, Action.READ_USERS)
        if lookup.username is not None:
            found = await self._users.by_names([lookup.username])
        elif lookup.usernames is not None:
            found = await self._users.by_names(lookup.usernames[:LOOKUP_MAX])
        elif lookup.user_ids is not None:
            found = await self._users.get_many(lookup.user_ids[:LOOKUP_MAX])
        else:
            found = await self._users.with_email(lookup.email or "")
        return await self._scope.users(actor, await self._users.with_devices(found))

    async def get(self, actor: Actor, user_id: str) -> UserDevices:
        """One user with its devices; raises NotFound."""
        await self._access.require(actor, Action.READ_USERS)
        await self._scope.user(actor, user_id)
        return self._scope.shown(actor, [await self._users.get_with_devices(user_id)])[0]

    async def add(self, actor: Actor, changes: UserChanges) -> User:
        """A new user (`user_create`)."""
        await self._access.require_user_changes(actor, None, requested_fields(changes),
                                                requested_status(changes), await self._settings())
        await self._scope.refuse_if_restricted(actor, Action.CREATE_USERS, NEW_USERS)
        user = await self._users.add(changes)
        await self._audit.record(actor, "user_create", user.username,
                                 _described(changes, requested_fields(changes)))
        return user

    async def update(self, actor: Actor, user_id: str, changes: UserChanges) -> UserDevices:
        """Change a user (`user_update`), within the actor's role's limits."""
        await self._scope.user(actor, user_id)
        before = await self._users.get(user_id)
        fields = requested_fields(changes)
        await self._access.require_user_changes(actor, before, fields, requested_status(changes),
                                                await self._settings())
        after = await self._users.update(user_id, changes)
        await self._audit.record(actor, "user_update", after.username, _described(changes, fields))
        return self._scope.shown(actor, [await self._users.get_with_devices(user_id)])[0]

    async def delete(self, actor: Actor, user_id: str) -> None:
        """Delete a user: send it to the Trash (`user_delete`, seed 001's first step; the
        Trash facade restores or deletes for good). Nothing happens if the user is gone or in
        the Trash already."""
        await self._access.require(actor, Action.DELETE_USERS)
        await self._scope.user(actor, user_id)
        user = await self._trash.send(user_id, why="admin")
        if user is not None:
            await self._audit.record(actor, "user_delete", user.username, {"trash": True})

    async def import_users(self, actor: Actor, csv_text: str, *,
                           dry_run: bool = False) -> ImportReport:
        """Create, update or delete users from a CSV (seed 001, Import Users): one report entry
        per row, each row all or nothing; a status a role may not set fails that row only."""
        await self._access.require(actor, Action.IMPORT_USERS)
        await self._scope.refuse_if_restricted(actor, Action.IMPORT_USERS, NEW_USERS)
        settings = await self._settings()

        async def check(row: ImportRow, existing: User | None) -> None:
            if row.groups:
                await self._access.require(actor, Action.MANAGE_GROUPS)
            status = None if row.action == "delete" else requested_status(row.changes)
            if status is not None and (existing is None or status is not existing.status):
                await self._access.require_status(actor, existing, status, settings)

        report = await self._importer.run(csv_text, dry_run=dry_run, check=check)
        if not dry_run:
            for entry in report.rows:
                if entry.get("result") in _IMPORT_ACTIONS:
                    await self._audit.record(actor, _IMPORT_ACTIONS[entry["result"]],
                                             entry["username"], {"import_line": entry["line"]})
            await self._audit.record(actor, "user_import", "users", {
                "rows": len(report.rows), "errors": report.errors})
        return report

    async def bypass_codes(self, actor: Actor, user_id: str) -> tuple[User, list[BypassCode]]:
        """The user's live bypass codes (metadata only)."""
        await self._access.require(actor, Action.READ_USERS)
        await self._scope.user(actor, user_id)
        user = await self._users.get(user_id)
        return user, await self._bypass.of_user(user.user_id)

    async def issue_bypass_codes(self, actor: Actor, user_id: str,
                                 request: BypassRequest) -> list[str]:
        """New bypass codes, shown this once (`bypass_create`); Help Desk as the setting says."""
        settings = await self._settings()
        limited = await self._access.bypass_limits(actor, settings, request.customised)
        await self._scope.user(actor, user_id)
        user = await self._users.get(user_id)
        default_secs = settings.bypass_default_expiration * 60
        if limited:
            request = BypassRequest(count=1, preserve_existing=True)
            default_secs = settings.helpdesk_bypass_expiration * 60 or default_secs
        request = _signed(request, actor)
        codes = await self._bypass.issue(user.user_id, request, default_valid_secs=default_secs)
        await self._audit.record(actor, "bypass_create", user.username, {
            "count": len(codes), "reuse_count": request.reuse_count,
            "valid_secs": request.valid_secs if request.valid_secs is not None else default_secs})
        return codes

    async def send_verification_push(self, actor: Actor, user_id: str, phone_id: str,
                                     integration: Integration) -> dict[str, str]:
        """Help Desk verification push: push id and the confirmation code to read out."""
        await self._access.require(actor, Action.VERIFY_WITH_PUSH)
        await self._scope.user(actor, user_id)
        return await self._helpdesk.send(user_id, phone_id, integration)

    async def wait_verification_push(self, actor: Actor, user_id: str,
                                     push_id: str) -> dict[str, str]:
        """The verification push's answer after a bounded long poll."""
        await self._access.require(actor, Action.VERIFY_WITH_PUSH)
        return await self._helpdesk.wait(user_id, push_id)

    async def abilities(self, actor: Actor, user: User) -> UserAbilities:
        """What `actor` may do to `user`."""
        settings = await self._settings()
        return UserAbilities(
            fields=editable_fields(actor), statuses=status_choices(actor, user, settings),
            bypass=bypass_policy(actor, settings),
            enrollment=may_send_enrollment(actor, settings),
            devices=actor.may(Action.MANAGE_DEVICES), sms=actor.may(Action.SEND_SMS_PASSCODES),
            verify=actor.may(Action.VERIFY_WITH_PUSH), delete=actor.may(Action.DELETE_USERS),
            delete_bypass=actor.may(Action.DELETE_BYPASS_CODES))

    async def verification_push_response(self, actor: Actor, user_id: str,
                                         push_id: str) -> dict[str, str]:
        await self._access.require(actor, Action.VERIFY_WITH_PUSH)
        await self._scope.user(actor, user_id)
        return await self._helpdesk.response(user_id, push_id)

    async def enroll(self, actor: Actor, username: str, email: str,
                     valid_secs: int | None) -> dict[str, object]:
        """`enroll_user`: mail an enrollment link, creating the user when needed. A restricted
        administrator gets the same refusal for an unknown name and a user outside their
        scope (nothing tells the user exists)."""
        settings = await self._settings()
        existing = await self._users.by_name(username)
        if existing is None:
            await self._access.require(actor, Action.CREATE_USERS)
        await self._access.require_enrollment_email(actor, settings)
        if existing is None or not await self._scope.has_user(actor, existing.user_id):
            await self._scope.refuse_if_restricted(actor, Action.CREATE_USERS, NEW_USERS)
        result = await self._invitations.invite(username, email, valid_secs)
        await self._audit.record(actor, "user_enroll", username, {"email": email})
        return result

    async def security_key_enrollment(self, actor: Actor, user_id: str, email: str | None,
                                      valid_secs: int | None) -> dict[str, object]:
        """Mail the user a link to register a security key themselves."""
        await self._access.require(actor, Action.MANAGE_DEVICES)
        await self._scope.user(actor, user_id)
        result = await self._invitations.invite_for_key(user_id, email, valid_secs)
        await self._audit.record(actor, "user_enroll", str(result.get("username", "")),
                                 {"security_key": True})
        return result


def _described(changes: UserChanges, fields: set[str]) -> dict[str, object]:
    """The administrator log's description of a change: the new values (no secrets here)."""
    values: dict[str, object] = {name: getattr(changes, name) for name in fields
                                 if name not in ("aliases",)}
    if "aliases" in fields:
        values["aliases"] = {f"alias{slot}": name for slot, name in changes.aliases.items()}
    return values


def _signed(request: BypassRequest, actor: Actor) -> BypassRequest:
    """Bypass codes remember which administrator made them (none for an integration)."""
    return replace(request, admin_email=actor.name if actor.kind is ActorKind.ADMIN else "")
