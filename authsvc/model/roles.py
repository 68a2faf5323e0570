"""Administrator roles and Duo's Admin API grants (what `model/permissions.py` maps actions to)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Administrator roles (the seeds' role matrix)."""

    OWNER = "owner"
    ADMINISTRATOR = "administrator"
    APPLICATION_MANAGER = "application_manager"
    USER_MANAGER = "user_manager"
    HELP_DESK = "help_desk"
    BILLING = "billing"
    READ_ONLY = "read_only"


class Grant(StrEnum):
    """Duo's Admin API permission flags (`adminapi_*` on an integration)."""

    READ_LOG = "adminapi_read_log"
    READ_RESOURCE = "adminapi_read_resource"
    WRITE_RESOURCE = "adminapi_write_resource"
    SETTINGS = "adminapi_settings"
    ADMINS = "adminapi_admins"
    ADMINS_READ = "adminapi_admins_read"
    INTEGRATIONS = "adminapi_integrations"
    INFO = "adminapi_info"
