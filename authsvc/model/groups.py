"""Groups: a status that overrides their members' own, and switches that turn factors off.

Seed 001, "Assigning User Status with Groups": a group can assign a status to its members, and
the user's page shows which group decides. The rules, written once here and mirrored by
`store/lua/lib/status_gate.lua`:

- A group whose status is **active** (the default) decides nothing: its members keep their own
  status. A **bypass** or **disabled** group overrides its members' own status, whatever it is
  (active, bypass, disabled or locked out).
- A user in several deciding groups: **disabled beats bypass** (`STATUS_PRECEDENCE`). Among
  groups of the same status the first by name (then id) is named as the source.
- So a user's effective status is: a disabled group's, else a bypass group's, else their own.

Factor switches (`push_enabled`, `sms_enabled`, `voice_enabled`, `mobile_otp_enabled`,
`u2f_enabled`, all on by default) restrict members: a factor is usable only if **every** group
of the user allows it (one group turning it off is enough). `SWITCHES` maps each switch to the
factors it governs; hardware tokens, YubiKeys and bypass codes have no switch.

Permitted groups: an application with `groups_allowed` admits only users in at least one of
those groups (`GroupStanding.permits`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from authsvc.model.factors import FactorKind
from authsvc.model.users import UserStatus
from authsvc.model.values import value

MAX_GROUP_NAME = 255
MAX_GROUP_DESC = 1024


class GroupStatus(StrEnum):
    """A group's authentication status (Duo's vocabulary)."""

    ACTIVE = "active"
    BYPASS = "bypass"
    DISABLED = "disabled"


STATUS_PRECEDENCE = (GroupStatus.DISABLED, GroupStatus.BYPASS)
"""The statuses a group imposes, the strongest first; active imposes nothing."""

SWITCHES: dict[str, frozenset[FactorKind]] = {
    "push_enabled": frozenset({FactorKind.PUSH}),
    "sms_enabled": frozenset({FactorKind.SMS, FactorKind.SMS_PASSCODE}),
    "voice_enabled": frozenset({FactorKind.PHONE_CALL}),
    "mobile_otp_enabled": frozenset({FactorKind.DUO_MOBILE_PASSCODE}),
    "u2f_enabled": frozenset({FactorKind.U2F, FactorKind.WEBAUTHN}),
}
"""Each group switch and the factors it turns off when false."""

CAPABILITIES: dict[str, FactorKind] = {
    "push": FactorKind.PUSH,
    "mobile_otp": FactorKind.DUO_MOBILE_PASSCODE,
    "sms": FactorKind.SMS,
    "phone": FactorKind.PHONE_CALL,
}
"""Preauth's phone capabilities and the factor each one needs."""


@dataclass(frozen=True, slots=True)
class Group:
    """A group as stored; the switches say whether members may use those factors."""

    group_id: str
    name: str
    desc: str = ""
    status: GroupStatus = GroupStatus.ACTIVE
    push_enabled: bool = True
    sms_enabled: bool = True
    voice_enabled: bool = True
    mobile_otp_enabled: bool = True
    u2f_enabled: bool = True
    created: int = 0

    @property
    def turned_off(self) -> frozenset[FactorKind]:
        """The factors this group's switches turn off for its members."""
        off: set[FactorKind] = set()
        for switch, kinds in SWITCHES.items():
            if not getattr(self, switch):
                off |= kinds
        return frozenset(off)

    def decides_differently(self, other: Group) -> bool:
        """True when `other` would decide something else for members (status or a switch):
        what the members' decisions must notice at once."""
        return self.status is not other.status or self.turned_off != other.turned_off


@value
class GateArgs:
    """What the decision scripts' status gate (lib/status_gate.lua) is told about the user's
    groups: the status they impose ("", "bypass", "disabled") and the membership version that
    was read ("" = do not compare)."""

    status: str = ""
    version: str = ""


NO_GROUPS = GateArgs()
"""For callers that read no groups: nothing imposed, nothing compared."""


def _order(group: Group) -> tuple[str, str]:
    return group.name.lower(), group.group_id


@dataclass(frozen=True, slots=True)
class GroupStanding:
    """What a user's groups decide for one attempt.

    `groups` are the user's existing groups (ids of deleted groups are dropped); `version` is the
    user's membership version (``groups_v``) they were read at, which the decision scripts
    compare before committing anything ("" = do not compare: the caller read no groups).
    """

    groups: tuple[Group, ...] = ()
    version: str = ""

    @classmethod
    def of(cls, groups: Iterable[Group], version: str) -> GroupStanding:
        """The standing of a user in `groups` (any order) read at membership `version`."""
        return cls(tuple(sorted(groups, key=_order)), version)

    @property
    def group_ids(self) -> frozenset[str]:
        return frozenset(group.group_id for group in self.groups)

    @property
    def deciding_group(self) -> Group | None:
        """The group whose status overrides the user's own, or None."""
        for status in STATUS_PRECEDENCE:
            for group in self.groups:
                if group.status is status:
                    return group
        return None

    @property
    def gate_status(self) -> str:
        """The imposed status as the Lua gate takes it: "", "bypass" or "disabled"."""
        group = self.deciding_group
        return group.status.value if group is not None else ""

    @property
    def gate(self) -> GateArgs:
        """The decision scripts' arguments for this standing."""
        return GateArgs(self.gate_status, self.version)

    @property
    def turned_off(self) -> frozenset[FactorKind]:
        """Factors some group of the user turns off."""
        off: frozenset[FactorKind] = frozenset()
        for group in self.groups:
            off |= group.turned_off
        return off

    def allows(self, kind: FactorKind) -> bool:
        """True unless one of the user's groups turns the factor off."""
        return kind not in self.turned_off

    def capabilities(self, caps: Collection[str]) -> list[str]:
        """A phone's preauth capabilities without those the user's groups turn off (``auto``
        stays only while push or phone does)."""
        off = self.turned_off
        kept = [cap for cap in caps if cap != "auto"
                and (cap not in CAPABILITIES or CAPABILITIES[cap] not in off)]
        return ["auto", *kept] if "push" in kept or "phone" in kept else kept

    def permits(self, groups_allowed: Collection[str]) -> bool:
        """True when an application limited to `groups_allowed` (empty = everyone) admits the
        user: the user is in at least one of them."""
        return not groups_allowed or not self.group_ids.isdisjoint(groups_allowed)


def effective_status(own: UserStatus, standing: GroupStanding) -> tuple[UserStatus, Group | None]:
    """The status that decides for the user, and the group it comes from (None = their own)."""
    group = standing.deciding_group
    if group is None:
        return own, None
    return UserStatus(group.status.value), group
