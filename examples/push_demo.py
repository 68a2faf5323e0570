"""A push approved by the simulator, with Duo's own client (see README "Duo Push in five steps").

    python examples/push_demo.py enroll USER   # prints the activation link of USER's new phone
    python examples/push_demo.py push USER     # sends a push and prints the answer

Reads admin.json and app.json (written by `authsvc integration create`) and talks to
https://localhost:8443 trusting var/tls/ca.pem; AUTHSVC_DEMO_PORT / AUTHSVC_DEMO_CA override.
"""

from __future__ import annotations

import json
import os
import sys

import duo_client

PORT = int(os.environ.get("AUTHSVC_DEMO_PORT", "8443"))
CA = os.environ.get("AUTHSVC_DEMO_CA", "var/tls/ca.pem")


def _keys(path: str) -> tuple[str, str]:
    with open(path) as handle:
        data = json.load(handle)
    return data["ikey"], data["skey"]


def main() -> int:
    command, username = sys.argv[1], sys.argv[2]
    if command == "enroll":
        admin = duo_client.Admin(*_keys("admin.json"), "localhost", ca_certs=CA, port=PORT)
        found = admin.get_users_by_name(username)
        user = found[0] if found else admin.add_user(username)
        phone = admin.add_phone(number="+15555550100", type="mobile", platform="google android")
        admin.add_user_phone(user["user_id"], phone["phone_id"])
        print(admin.create_activation_url(phone["phone_id"])["activation_url"])
    else:
        auth = duo_client.Auth(*_keys("app.json"), "localhost", ca_certs=CA, port=PORT)
        print(json.dumps(auth.auth("push", username=username, device="auto")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
