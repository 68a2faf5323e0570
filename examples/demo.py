"""The README's walkthroughs with Duo's own client (duo_client), nothing else.

    python examples/demo.py enroll USER          # a new Duo Mobile phone; prints its activation link
    python examples/demo.py push USER            # sends a push and prints the answer
    python examples/demo.py sms USER NUMBER      # adds a phone for SMS and sends passcodes to it
    python examples/demo.py passcode USER CODE   # verifies a passcode

Reads var/admin.json and var/app.json (written by `authsvc integration create`; admin.json and
app.json in the current directory, where older walkthroughs put them, work too). Talks to
https://localhost:8443 trusting var/tls/ca.pem; AUTHSVC_DEMO_PORT and AUTHSVC_DEMO_CA override
(AUTHSVC_DEMO_CA=HTTP for the plain-HTTP default service on port 8080).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import duo_client

PORT = int(os.environ.get("AUTHSVC_DEMO_PORT", "8443"))
CA = os.environ.get("AUTHSVC_DEMO_CA", "var/tls/ca.pem")


def _keys(name: str) -> tuple[str, str]:
    path = next((p for p in (os.path.join("var", name), name) if os.path.exists(p)),
                os.path.join("var", name))
    with open(path) as handle:
        data = json.load(handle)
    return data["ikey"], data["skey"]


def _user(admin: duo_client.Admin, username: str) -> dict[str, Any]:
    found = admin.get_users_by_name(username)
    user: dict[str, Any] = found[0] if found else admin.add_user(username)
    return user


def main() -> int:
    command, username, *rest = sys.argv[1:]
    admin = duo_client.Admin(*_keys("admin.json"), "localhost", ca_certs=CA, port=PORT)
    auth = duo_client.Auth(*_keys("app.json"), "localhost", ca_certs=CA, port=PORT)
    if command in ("enroll", "sms"):
        user = _user(admin, username)
        number = rest[0] if rest else "+15555550100"
        phone = admin.add_phone(number=number, type="mobile", platform="google android")
        admin.add_user_phone(user["user_id"], phone["phone_id"])
        if command == "enroll":
            print(admin.create_activation_url(phone["phone_id"])["activation_url"])
        else:
            print(json.dumps(auth.auth("sms", username=username, device=phone["phone_id"])))
    elif command == "push":
        print(json.dumps(auth.auth("push", username=username, device="auto")))
    else:
        print(json.dumps(auth.auth("passcode", username=username, passcode=rest[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
