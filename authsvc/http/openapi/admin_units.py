"""Admin API operations on Administrative Units (``http/admin_units.py``)."""

from __future__ import annotations

from authsvc.domain.units import PARAM
from authsvc.http.openapi.build import (
    BOOL,
    FLAG,
    STR,
    Operation,
    Param,
    array,
    obj,
    text,
)
from authsvc.model.units import MemberKind

_BASE = "/admin/v1/administrative_units"
_EMPTY = {"const": ""}
_SUMMARY = {"admin_unit_id": STR, "name": STR, "description": STR,
            "restrict_by_groups": BOOL, "restrict_by_integrations": BOOL}
UNIT = obj({**_SUMMARY, "admins": array(STR), "groups": array(STR),
            "integrations": array(STR)})
_FIELDS = (Param("name", text(1000)), Param("description", text(5000)),
           Param("restrict_by_groups", FLAG), Param("restrict_by_integrations", FLAG),
           *(Param(name, text(), description="ids, comma-separated or repeated")
             for name in PARAM.values()))


def _membership(kind: MemberKind) -> tuple[Operation, ...]:
    path = f"{_BASE}/{{admin_unit_id}}/{kind.value}/{{member}}"
    return (Operation("POST", path, f"Add a member ({kind.value}) to a unit", _EMPTY),
            Operation("DELETE", path, f"Remove a member ({kind.value}) from a unit", _EMPTY))


OPERATIONS = (
    Operation("GET", _BASE, "Administrative units (paged; by admin, group or integration)",
              array(obj(_SUMMARY)),
              (Param("admin_id", text(64)), Param("group_id", text(64)),
               Param("integration_key", text(64))), paged=True),
    Operation("POST", _BASE, "Create an administrative unit", UNIT, _FIELDS),
    Operation("GET", f"{_BASE}/{{admin_unit_id}}", "One administrative unit", UNIT),
    Operation("POST", f"{_BASE}/{{admin_unit_id}}", "Change an administrative unit", UNIT,
              _FIELDS),
    Operation("DELETE", f"{_BASE}/{{admin_unit_id}}", "Delete an administrative unit", _EMPTY),
    *(op for kind in MemberKind for op in _membership(kind)),
)
