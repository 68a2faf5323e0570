"""Links and codes that name this service: the public base URL, activation values, QR images.

The api host written into activation codes is ``AUTHSVC_PUBLIC_HOST`` (or the listening
address). Some third-party Duo Mobile clients insist that it is exactly 28 lowercase characters
(docs/device-clients.md); our own simulator accepts any host.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True, slots=True)
class Links:
    """Everything built from the public host."""

    base_url: str

    @property
    def api_host(self) -> str:
        """``host[:port]`` as written into activation values (and signed by devices)."""
        return self.base_url.split("://", 1)[1].lower()

    def activation_value(self, code: str) -> str:
        """``<code>-<base64(api host), no padding>``."""
        return f"{code}-{base64.b64encode(self.api_host.encode()).decode().rstrip('=')}"

    def activation_url(self, code: str) -> str:
        """The HTML page that links the ``duo://`` value (what users open on the phone)."""
        return f"{self.base_url}/activate/{code}"

    def qr_url(self, code: str) -> str:
        """The QR image of ``duo://<value>``."""
        return f"{self.base_url}/frame/qr?value={quote('duo://' + self.activation_value(code), safe='')}"

    def admin_setup(self, token: str) -> str:
        """An administrator's one-time setup link (password and second factor)."""
        return f"{self.base_url}/admin/setup/{token}"

    def enroll_portal(self, who: str) -> str:
        return f"{self.base_url}/frame/enroll?user={quote(who, safe='')}"
