"""Duo Push (`factor=push`): a login request to the user's activated Duo Mobile app, answered on
the phone (push_create.lua and push_resolve.lua decide it; `domain/push.py` runs it)."""

from __future__ import annotations

from typing import ClassVar

from authsvc.model.factors import FactorKind, LogFactor, Method
from authsvc.model.settings import AccountSettings


class PushFactor:
    """A push to an activated phone (always enabled: fatigue limits apply per user)."""

    kind: ClassVar[FactorKind] = FactorKind.PUSH
    log_name: ClassVar[LogFactor] = LogFactor.DUO_PUSH
    method: ClassVar[Method] = Method.OUT_OF_BAND
    api_name: ClassVar[str] = "push"

    def enabled(self, settings: AccountSettings) -> bool:
        return True
