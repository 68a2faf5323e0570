"""Who the client is behind trusted reverse proxies (`http/proxies.py`)."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from authsvc.http.proxies import client_address
from authsvc.settings import Settings, SettingsError

PROXIES = (ip_network("10.0.0.0/8"), ip_network("::1/128"))


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # not a proxy: its header proves nothing
    ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
    ("10.0.0.2", [], "10.0.0.2"),  # a proxy that says nothing is the client itself
    ("10.0.0.2", ["6.6.6.6, 198.51.100.1, 10.0.0.7"], "198.51.100.1"),  # spoofed hop skipped
    ("10.0.0.2", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),  # several header lines
    ("10.0.0.2", ["198.51.100.1, not-an-address"], "10.0.0.2"),  # unreadable: stop there
    ("10.0.0.2", ["10.0.0.9, 10.0.0.8"], "10.0.0.9"),  # all proxies: the leftmost
    ("::1", ["2001:db8::5"], "2001:db8::5"),
    (None, ["198.51.100.1"], None),
])
def test_the_client_is_the_first_untrusted_address_from_the_right(
        peer: str | None, forwarded: list[str], client: str | None) -> None:
    assert client_address(peer, forwarded, PROXIES) == client


def test_the_setting_reads_networks_and_names_a_bad_one() -> None:
    settings = Settings.from_env({"AUTHSVC_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"})
    assert settings.trusted_proxies == (ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32"))
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(SettingsError, match="AUTHSVC_TRUSTED_PROXIES"):
        Settings.from_env({"AUTHSVC_TRUSTED_PROXIES": "10.0.0.0/8,nginx"})
