"""The answer to one authentication attempt."""

from __future__ import annotations

from enum import StrEnum

from authsvc.model.factors import LogFactor
from authsvc.model.values import value


class Result(StrEnum):
    """Auth API `result`."""

    ALLOW = "allow"
    DENY = "deny"
    WAITING = "waiting"


@value
class Verdict:
    """The answer to one authentication attempt, plus what the log needs to know about it."""

    result: Result
    status: str
    status_msg: str
    reason: str
    factor: LogFactor
    device: str = ""

    @property
    def log_result(self) -> str:
        """The authentication log's `result` (success, denied, fraud)."""
        if self.result is Result.ALLOW:
            return "success"
        return "fraud" if self.reason == "user_marked_fraud" else "denied"

    def answer(self) -> dict[str, str]:
        """The Auth API's answer fields."""
        return {"result": self.result.value, "status": self.status,
                "status_msg": self.status_msg}
