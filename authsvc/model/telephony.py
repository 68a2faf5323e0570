"""SMS passcode batches."""

from __future__ import annotations

from enum import IntEnum


class IssueStatus(IntEnum):
    """Reply codes of sms_issue.lua."""

    SENT = 1
    COOLING_DOWN = 2
    DAILY_LIMIT = 3
    NO_USER = 4
