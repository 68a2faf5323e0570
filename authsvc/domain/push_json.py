"""A push as Duo Mobile's transactions listing shows it, rendered once when the push is created
(push_deliver.lua keeps it in the phone's inbox)."""

from __future__ import annotations

from typing import Any

from authsvc.model.pushes import Push, PushKind

CUSTOMER_NAME = "authsvc"


def transaction_json(push: Push) -> dict[str, Any]:
    """A pending push as the apps parse it: groups of [label, value] attributes."""
    details: list[list[Any]] = [["Username", push.display_username],
                                ["Organization", CUSTOMER_NAME], ["Application", push.app],
                                ["Time", push.created_ms // 1000]]
    if push.ipaddr:
        details.append(["IP Address", push.ipaddr])
    groups: list[list[list[Any]]] = [details]
    if push.confirmation_code:
        groups.append([["Confirmation Code", push.confirmation_code]])
    if push.pushinfo:
        groups.append([[key, value] for key, value in push.pushinfo])
    verification = push.kind is PushKind.VERIFICATION
    transaction: dict[str, Any] = {
        "urgid": push.urgid, "type": push.type or "login",
        "expiration": push.expires_ms // 1000, "attributes": groups,
        "summary": f"{push.app}: verify it is you" if verification
        else f"Login request to {push.app}",
        "title": "Are you logging in?" if push.kind is PushKind.AUTH else "Verify your identity",
        "urgency": "high"}
    if push.digits:
        transaction["step_up_code_info"] = {"num_digits": push.digits}
    return transaction
