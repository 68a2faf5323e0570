"""Phone call (`factor=phone`): the carrier calls the phone, the user presses a key; the call is
a transaction like a push, answered through the carrier's callback (`domain/telephony.py`)."""

from __future__ import annotations

from typing import ClassVar

from authsvc.model.factors import FactorKind, LogFactor, Method
from authsvc.model.settings import AccountSettings


class PhoneCallFactor:
    """A voice call to a phone with a number."""

    kind: ClassVar[FactorKind] = FactorKind.PHONE_CALL
    log_name: ClassVar[LogFactor] = LogFactor.PHONE_CALL
    method: ClassVar[Method] = Method.OUT_OF_BAND
    api_name: ClassVar[str] = "phone"

    def enabled(self, settings: AccountSettings) -> bool:
        return settings.calls_enabled
