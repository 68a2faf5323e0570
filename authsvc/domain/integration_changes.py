"""What an Admin API caller may set on an integration (`create_integration`,
`update_integration`), checked and applied to an `Integration` value.

Types travel in Duo's names (``authapi``, ``adminapi``, ``websdk``; authsvc's own ``auth``,
``admin``, ``web`` are accepted too). Admin API permissions are Duo's ``adminapi_*`` flags and
only an ``adminapi`` integration may hold them. Settings authsvc does not act on
(`UNSUPPORTED`: IP allow lists, remembered devices, SSO, ...) are refused rather than stored and
silently ignored, so nobody believes a restriction is in force when it is not; ``visual_style``
(deprecated by Duo) and ``greeting`` are accepted and ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from authsvc.errors import InvalidParameter
from authsvc.model.integrations import EnrollPolicy, Grant, Integration, IntegrationType, Role

MAX_NAME_LENGTH = 200
MAX_NOTES_LENGTH = 1024
MAX_ALLOWED_GROUPS = 100
TYPES = {"authapi": IntegrationType.AUTH, "auth": IntegrationType.AUTH,
         "adminapi": IntegrationType.ADMIN, "admin": IntegrationType.ADMIN,
         "websdk": IntegrationType.WEB, "web": IntegrationType.WEB}
DUO_TYPE_NAMES = {IntegrationType.AUTH: "authapi", IntegrationType.ADMIN: "adminapi",
                  IntegrationType.WEB: "websdk"}
UNSUPPORTED = ("ip_whitelist", "ip_whitelist_enroll_policy", "trusted_device_days",
               "username_normalization_policy", "self_service_allowed", "sso", "user_access")
IGNORED = ("visual_style", "greeting")


@dataclass(frozen=True, slots=True)
class IntegrationChanges:
    """Fields an admin sent; None = not sent. `grants` maps each ``adminapi_*`` flag sent to
    its value; `role` (an authsvc extension) makes an admin integration act in a role
    instead of by grants."""

    name: str | None = None
    type: str | None = None
    notes: str | None = None
    enroll_policy: str | None = None
    groups_allowed: Sequence[str] | None = None
    grants: Mapping[Grant, bool] = field(default_factory=dict)
    role: str | None = None
    reset_secret_key: bool = False

    def fields(self) -> dict[str, Any]:
        """What the request changes, for the administrator log (never a secret)."""
        sent: dict[str, Any] = {name: getattr(self, name) for name in
                                ("name", "type", "notes", "enroll_policy", "role")
                                if getattr(self, name) is not None}
        if self.groups_allowed is not None:
            sent["groups_allowed"] = list(self.groups_allowed)
        sent.update({grant.value: value for grant, value in sorted(self.grants.items())})
        if self.reset_secret_key:
            sent["reset_secret_key"] = True
        return sent


def integration_type(value: str | None) -> IntegrationType:
    """The type named by `value` (Duo's or authsvc's name); raises Missing/InvalidParameter."""
    if value is None:
        raise InvalidParameter("type (authapi, adminapi or websdk)")
    found = TYPES.get(value.strip().lower())
    if found is None:
        raise InvalidParameter("type (authapi, adminapi or websdk)")
    return found


def _name(value: str) -> str:
    if not value.strip() or len(value) > MAX_NAME_LENGTH or not value.isprintable():
        raise InvalidParameter("name")
    return value.strip()


def _groups(values: Sequence[str]) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(value.strip() for value in values if value.strip()))
    if len(cleaned) > MAX_ALLOWED_GROUPS or any(not v.isprintable() or len(v) > 64
                                                 for v in cleaned):
        raise InvalidParameter("groups_allowed")
    return cleaned


def _grants(integration: Integration, changes: IntegrationChanges) -> dict[str, Any]:
    """The grant and role fields after `changes`: a role given drops the grants; grants given
    (on an admin integration only) make it act by grants alone."""
    if changes.role is not None:
        if integration.type is not IntegrationType.ADMIN or changes.grants:
            raise InvalidParameter("role (only for adminapi, and not with adminapi_* flags)")
        try:
            role = Role(changes.role)
        except ValueError:
            raise InvalidParameter(f"role ({', '.join(r.value for r in Role)})") from None
        return {"role": role, "grants": frozenset(), "grants_only": False}
    if not changes.grants:
        return {}
    if integration.type is not IntegrationType.ADMIN and any(changes.grants.values()):
        raise InvalidParameter("adminapi_* (only an adminapi integration has these)")
    grants = set(integration.grants if integration.grants_only or integration.grants
                 else frozenset())
    for grant, value in changes.grants.items():
        (grants.add if value else grants.discard)(grant)
    return {"grants": frozenset(grants), "grants_only": True}


def apply_changes(integration: Integration, changes: IntegrationChanges) -> Integration:
    """The integration with `changes` applied (the type never changes); raises
    InvalidParameter naming the bad field."""
    updates: dict[str, Any] = {}
    if changes.name is not None:
        updates["name"] = _name(changes.name)
    if changes.notes is not None:
        if len(changes.notes) > MAX_NOTES_LENGTH or "\x00" in changes.notes:
            raise InvalidParameter("notes")
        updates["notes"] = changes.notes
    if changes.enroll_policy is not None:
        try:
            updates["enroll_policy"] = EnrollPolicy(changes.enroll_policy)
        except ValueError:
            raise InvalidParameter("enroll_policy (enroll, allow or deny)") from None
    if changes.groups_allowed is not None:
        updates["groups_allowed"] = _groups(changes.groups_allowed)
    updates.update(_grants(integration, changes))
    return dataclasses.replace(integration, **updates)
