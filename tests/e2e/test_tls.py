"""TLS with the development CA: duo_client.Auth and duo_client.Admin, unmodified, over HTTPS."""

from __future__ import annotations

import ssl

import duo_client
import pytest
from cryptography import x509

from authsvc.tls import DevCert
from tests.conftest import IntegrationPair
from tests.harness import ServiceProcess
from tokens.oath import HotpToken


def test_dev_cert_names_localhost_and_loopback_in_dns_and_ip_form(dev_cert: DevCert) -> None:
    cert = x509.load_pem_x509_certificate(dev_cert.cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", "127.0.0.1"} <= set(san.get_values_for_type(x509.DNSName))
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert dev_cert.key.stat().st_mode & 0o077 == 0
    assert dev_cert.ca_key.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_duo_client_verifies_the_service_against_the_dev_ca(
        tls_service: ServiceProcess, integrations: IntegrationPair, dev_cert: DevCert,
        host: str) -> None:
    ca = str(dev_cert.ca_cert)
    admin = duo_client.Admin(integrations.admin.ikey, integrations.admin.skey, host,
                             ca_certs=ca, port=tls_service.port)
    auth = duo_client.Auth(integrations.auth.ikey, integrations.auth.skey, host,
                           ca_certs=ca, port=tls_service.port)
    assert auth.check()["time"] > 0
    user = admin.add_user("tls-user")
    hardware = HotpToken(b"tls-seed-0123456789!", "TLS-1")
    token = admin.add_hotp6_token(hardware.serial, hardware.secret_hex)
    admin.add_user_token(user["user_id"], token["token_id"])
    assert auth.auth("passcode", username="tls-user", passcode=hardware.press())["result"] == \
        "allow"


def test_an_untrusted_client_is_refused_by_tls(tls_service: ServiceProcess,
                                               integrations: IntegrationPair) -> None:
    auth = duo_client.Auth(integrations.auth.ikey, integrations.auth.skey, "localhost",
                           port=tls_service.port)
    with pytest.raises(ssl.SSLError):
        auth.check()
