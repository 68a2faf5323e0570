"""SMS (`factor=sms`): a new batch of SMS passcodes sent to a phone that takes SMS. The answer
is always "sent" (or why not); the codes are then verified by `factors/sms_passcode.py`."""

from __future__ import annotations

from typing import ClassVar

from authsvc.model.factors import FactorKind, LogFactor, Method
from authsvc.model.settings import AccountSettings


class SmsFactor:
    """Send the user a new batch of SMS passcodes (sms_issue.lua enforces the cost limits)."""

    kind: ClassVar[FactorKind] = FactorKind.SMS
    log_name: ClassVar[LogFactor] = LogFactor.SMS_PASSCODE
    method: ClassVar[Method] = Method.OUT_OF_BAND
    api_name: ClassVar[str] = "sms"

    def enabled(self, settings: AccountSettings) -> bool:
        return settings.sms_enabled
