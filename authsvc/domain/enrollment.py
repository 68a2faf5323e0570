"""``/auth/v2/enroll`` and ``/auth/v2/enroll_status``: a new user with a new phone and its
Duo Mobile activation code, and whether that code has been used."""

from __future__ import annotations

import secrets
from typing import Any

from authsvc.clock import Clock
from authsvc.crypto import constant_time_equal, secret_hash
from authsvc.domain.phones import PhoneChanges, PhoneDirectory
from authsvc.domain.users import UserChanges, UserDirectory
from authsvc.errors import InvalidParameter
from authsvc.store import Store


def code_of(activation_code: str) -> str:
    """The 20-character code inside ``duo://<code>-<host>`` (or the bare code)."""
    return activation_code.strip().removeprefix("duo://").split("-", 1)[0]


class Enrollment:
    """Self-enrollment through the Auth API."""

    def __init__(self, store: Store, clock: Clock, users: UserDirectory,
                 phones: PhoneDirectory) -> None:
        self._store = store
        self._clock = clock
        self._users = users
        self._phones = phones

    async def enroll(self, username: str | None, valid_secs: int | None) -> dict[str, Any]:
        """Create the user (named, or a generated name) and a phone to activate."""
        name = username if username is not None else f"user-{secrets.token_hex(4)}"
        user = await self._users.add(UserChanges(username=name))
        phone = await self._phones.add(PhoneChanges(type="mobile", platform="generic smartphone",
                                                    name="Duo Mobile"))
        await self._phones.attach(user.user_id, phone.phone_id)
        activation = await self._phones.new_activation(phone.phone_id, valid_secs)
        return {"activation_barcode": activation["activation_barcode"],
                "activation_code": activation["activation_code"],
                "activation_url": activation["activation_url"],
                "expiration": int(self._clock.now()) + activation["valid_secs"],
                "valid_secs": activation["valid_secs"],
                "user_id": user.user_id, "username": user.username}

    async def status(self, user_id: str, activation_code: str) -> str:
        """``success`` (the code activated an app), ``waiting`` (still valid) or ``invalid``."""
        code = code_of(activation_code)
        if len(code) != 20 or not code.isalnum():
            raise InvalidParameter("activation_code")
        code_hash = secret_hash(code)  # only hashes are stored; compared in constant time
        for phone_id in await self._store.phones.of_user(user_id):
            record = await self._store.phones.record(phone_id)
            if record is None:
                continue
            if constant_time_equal(record.app.activated_hash, code_hash) and record.phone.activated:
                return "success"
            if constant_time_equal(record.app.activation_hash, code_hash) \
                    and await self._store.phones.activation_ttl(code_hash) > 0:
                return "waiting"
        return "invalid"
