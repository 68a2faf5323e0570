"""Who may do what: the one permission table, and the actors it is checked for.

The table is the specification of the seeds (the role matrix of the Help Desk guide and every
"Role required:" line of Managing Users, Enrolling Users and 2FA Devices), written once as data.
`docs/api.md` shows it rendered (`permission_table_markdown`, kept true by a test). Each action
names the Admin API grant an integration created with explicit grants needs, and the roles that
may do it. A role is shorthand for the grants an integration needs to do what the role does
(`ROLE_GRANTS`, shown for an integration created with a role); roles are still checked as
roles, so a Read-only key never does more than the role's actions.

Conditions the table cannot say alone (the Help Desk limits, the "Help Desk" and "User Manager"
settings) are applied by `domain/access.py`, which is where every check happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from authsvc.model.roles import Grant, Role

OWN, ADM, AM, UM, HD, BIL, RO = (Role.OWNER, Role.ADMINISTRATOR, Role.APPLICATION_MANAGER,
                                  Role.USER_MANAGER, Role.HELP_DESK, Role.BILLING, Role.READ_ONLY)


class Action(StrEnum):
    """Everything an administrator can ask for, read or change."""

    READ_LOGS = "read_logs"
    READ_USERS = "read_users"
    CREATE_USERS = "create_users"
    UPDATE_USERS = "update_users"
    CHANGE_USER_STATUS = "change_user_status"
    DELETE_USERS = "delete_users"
    IMPORT_USERS = "import_users"
    MANAGE_GROUPS = "manage_groups"
    SEND_ENROLLMENT = "send_enrollment"
    MANAGE_PENDING_ENROLLMENTS = "manage_pending_enrollments"
    BULK_ENROLL = "bulk_enroll"
    MANAGE_DEVICES = "manage_devices"
    SEND_SMS_PASSCODES = "send_sms_passcodes"
    CREATE_BYPASS_CODES = "create_bypass_codes"
    DELETE_BYPASS_CODES = "delete_bypass_codes"
    VERIFY_WITH_PUSH = "verify_with_push"
    READ_APPLICATIONS = "read_applications"
    MANAGE_APPLICATIONS = "manage_applications"
    READ_SETTINGS = "read_settings"
    MODIFY_SETTINGS = "modify_settings"
    READ_SUMMARY = "read_summary"
    READ_ADMINS = "read_admins"
    MANAGE_ADMINS = "manage_admins"
    READ_ADMIN_UNITS = "read_admin_units"
    MANAGE_ADMIN_UNITS = "manage_admin_units"
    MANAGE_BILLING = "manage_billing"


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may do one action: the grant an explicitly granted integration needs, the roles,
    and where the seeds say so."""

    grant: Grant
    roles: frozenset[Role]
    source: str


def _rule(grant: Grant, roles: tuple[Role, ...], source: str) -> Rule:
    return Rule(grant, frozenset(roles), source)


_EVERY_ROLE_BUT_BILLING = (OWN, ADM, AM, UM, HD, RO)
_USER_ADMINS = (OWN, ADM, UM)
_DEVICE_ADMINS = (OWN, ADM, UM, HD)

PERMISSIONS: dict[Action, Rule] = {
    Action.READ_LOGS: _rule(Grant.READ_LOG, _EVERY_ROLE_BUT_BILLING,
                            "000 matrix: View and download logs"),
    Action.READ_USERS: _rule(Grant.READ_RESOURCE, _EVERY_ROLE_BUT_BILLING,
                             "001 Verifying Users (every role that works with users)"),
    Action.CREATE_USERS: _rule(Grant.WRITE_RESOURCE, _USER_ADMINS,
                               "001 Creating Users Manually"),
    Action.UPDATE_USERS: _rule(Grant.WRITE_RESOURCE, _DEVICE_ADMINS,
                               "001 Updating Users (Help Desk: not username or aliases)"),
    Action.CHANGE_USER_STATUS: _rule(
        Grant.WRITE_RESOURCE, _DEVICE_ADMINS,
        "001 Changing User Status (Help Desk: locked out or disabled to active only; User "
        "Manager: bypass only when the setting allows)"),
    Action.DELETE_USERS: _rule(Grant.WRITE_RESOURCE, _DEVICE_ADMINS,
                               "001 Deleting and Restoring Users"),
    Action.IMPORT_USERS: _rule(Grant.WRITE_RESOURCE, _USER_ADMINS,
                               "001 Creating Users from CSV Import"),
    Action.MANAGE_GROUPS: _rule(Grant.WRITE_RESOURCE, _USER_ADMINS,
                                "000 matrix: Manage users and groups"),
    Action.SEND_ENROLLMENT: _rule(
        Grant.WRITE_RESOURCE, _DEVICE_ADMINS,
        "001 Send Enrollment Emails (Help Desk when the Help Desk setting permits)"),
    Action.MANAGE_PENDING_ENROLLMENTS: _rule(Grant.WRITE_RESOURCE, _USER_ADMINS,
                                             "001 Pending Enrollments"),
    Action.BULK_ENROLL: _rule(Grant.WRITE_RESOURCE, _USER_ADMINS, "002 Bulk Enrollment"),
    Action.MANAGE_DEVICES: _rule(Grant.WRITE_RESOURCE, _DEVICE_ADMINS,
                                 "003 phones, tokens, security keys; 001 Activating Duo Mobile"),
    Action.SEND_SMS_PASSCODES: _rule(Grant.WRITE_RESOURCE, _DEVICE_ADMINS,
                                     "001 Sending SMS Passcodes"),
    Action.CREATE_BYPASS_CODES: _rule(
        Grant.WRITE_RESOURCE, _DEVICE_ADMINS,
        "001 Generating a Bypass Code (Help Desk when the Help Desk setting permits)"),
    Action.DELETE_BYPASS_CODES: _rule(Grant.WRITE_RESOURCE, _DEVICE_ADMINS,
                                      "000 matrix: Manage 2FA devices & bypass codes"),
    Action.VERIFY_WITH_PUSH: _rule(Grant.WRITE_RESOURCE, _EVERY_ROLE_BUT_BILLING,
                                   "001 Verifying Users with Duo Push"),
    Action.READ_APPLICATIONS: _rule(Grant.INTEGRATIONS, (OWN, ADM, AM, RO),
                                    "000 matrix: Manage applications (Read-only reads)"),
    Action.MANAGE_APPLICATIONS: _rule(Grant.INTEGRATIONS, (OWN, ADM, AM),
                                      "000 matrix: Manage applications; 002 inline enrollment"),
    Action.READ_SETTINGS: _rule(Grant.SETTINGS, (OWN, ADM, RO),
                                "000 matrix: Modify global settings (Read-only reads)"),
    Action.MODIFY_SETTINGS: _rule(Grant.SETTINGS, (OWN, ADM),
                                  "000 matrix: Modify global settings"),
    Action.READ_SUMMARY: _rule(Grant.INFO, _EVERY_ROLE_BUT_BILLING,
                               "001 Listing Users (the counts at the top of the page)"),
    Action.READ_ADMINS: _rule(Grant.ADMINS_READ, (OWN, ADM, RO),
                              "000 matrix: Manage other admins (Owner; others read)"),
    Action.MANAGE_ADMINS: _rule(Grant.ADMINS, (OWN,), "000 matrix: Manage other admins"),
    Action.READ_ADMIN_UNITS: _rule(
        Grant.ADMINS_READ, (OWN, ADM, RO),
        "000 note: Administrative Units (read like the admins they restrict)"),
    Action.MANAGE_ADMIN_UNITS: _rule(
        Grant.ADMINS, (OWN,),
        "000 note: Administrative Units; matrix: Manage other admins (Owner)"),
    Action.MANAGE_BILLING: _rule(Grant.INFO, (OWN, BIL), "000 matrix: View and manage billing"),
}

ROLE_GRANTS: dict[Role, frozenset[Grant]] = {
    role: frozenset(rule.grant for rule in PERMISSIONS.values() if role in rule.roles)
    for role in Role
}


@dataclass(frozen=True, slots=True)
class Scope:
    """What an administrator restricted by Administrative Units may see and change (seed 000:
    "Administrators who are restricted will not see users or applications in other groups"):
    users in `groups` (and those groups), applications in `integrations`. None = unrestricted
    on that side. Built by `domain/units.py` `AdminUnits.scope_of`; enforced by
    `domain/scope.py` in every facade."""

    groups: frozenset[str] | None = None
    integrations: frozenset[str] | None = None

    @property
    def restricted(self) -> bool:
        return self.groups is not None or self.integrations is not None


UNRESTRICTED = Scope()


class ActorKind(StrEnum):
    """Who is asking: an Admin API integration, an administrator in the panel, the CLI."""

    INTEGRATION = "integration"
    ADMIN = "admin"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller of an administrative action, as the permission check and the administrator
    log see it. An actor with a `role` is checked by role (with the Help Desk and User Manager
    conditions); one without is an integration created with explicit `grants`. `scope` limits
    which users, groups and applications it reaches (Administrative Units)."""

    kind: ActorKind
    actor_id: str
    name: str
    role: Role | None
    grants: frozenset[Grant]
    scope: Scope = UNRESTRICTED

    @classmethod
    def with_role(cls, kind: ActorKind, actor_id: str, name: str, role: Role,
                  scope: Scope = UNRESTRICTED) -> Actor:
        """An actor checked by `role`; an administrator in Administrative Units passes the
        `scope` `AdminUnits.scope_of` built (Admin API integrations stay unrestricted)."""
        return cls(kind, actor_id, name, role, ROLE_GRANTS[role], scope)

    def may(self, action: Action) -> bool:
        """The table's answer (before the conditions of `domain/access.py`)."""
        rule = PERMISSIONS[action]
        if self.role is not None:
            return self.role in rule.roles
        return rule.grant in self.grants


SYSTEM = Actor(ActorKind.SYSTEM, "system", "authsvc", Role.OWNER, ROLE_GRANTS[Role.OWNER])


def permission_table_markdown() -> str:
    """The table as docs/api.md shows it (one row per action, one column per role)."""
    header = "| action | grant | " + " | ".join(role.value for role in Role) + " | seed |"
    rule_line = "|---|---|" + "---|" * len(Role) + "---|"
    rows = [f"| `{action.value}` | `{rule.grant.value}` | "
            + " | ".join("✓" if role in rule.roles else "" for role in Role)
            + f" | {rule.source} |" for action, rule in PERMISSIONS.items()]
    return "\n".join([header, rule_line, *rows])
