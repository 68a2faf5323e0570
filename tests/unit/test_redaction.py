"""What the logs may say about a request: secret path segments and every query value redacted."""

from __future__ import annotations

import pytest

from authsvc.http.redaction import redact_target

CODE = "Ab3dEf6hIj9kLm2nOp5q"


@pytest.mark.parametrize(("target", "logged"), [
    (f"/activate/{CODE}", "/activate/<redacted>"),
    (f"/push/v2/activation/{CODE}-bG9jYWxob3N0", "/push/v2/activation/<redacted>"),
    (f"/frame/qr?value=duo%3A%2F%2F{CODE}-bG9j", "/frame/qr?value=<redacted>"),
    (f"/portal/enroll/{CODE}", "/portal/enroll/<redacted>"),
    (f"/portal/enroll/{CODE}/webauthn/begin", "/portal/enroll/<redacted>/webauthn/begin"),
    ("/admin/v1/users?username=alice&limit=10", "/admin/v1/users?username=<redacted>&limit=<redacted>"),
    ("/auth/v2/ping", "/auth/v2/ping"),
    ("/admin/v1/users/DU123/phones", "/admin/v1/users/DU123/phones"),
])
def test_secrets_never_reach_the_log(target: str, logged: str) -> None:
    assert redact_target(target) == logged
    assert CODE not in redact_target(target)
