"""What went wrong, said the way a person setting up the walkthrough needs to hear it.

A raw ``[SSL: CERTIFICATE_VERIFY_FAILED]`` or ``Server disconnected`` names the symptom; the
usual causes are a development CA that was not passed, an ``https://`` link to a service that
speaks plain HTTP, or an ``http://`` link to one that speaks HTTPS (an old link, from before
the service was restarted with TLS).
"""

from __future__ import annotations

import ssl
import urllib.error

import aiohttp

UNTRUSTED = ("the service's TLS certificate is not trusted: pass --ca-file with the CA that "
             "signed it (for `authsvc tls dev-cert`: var/tls/ca.pem) or set MOBILE_SIM_CA_FILE")
NOT_TLS = ("TLS with the service failed ({}): the URL says https, but that port seems to speak "
           "plain HTTP; use the address the running service logs ('listening on ...')")
NOT_PLAIN = ("the service closed the connection: an http:// URL to a port that speaks HTTPS? "
             "Use the https:// address the running service logs ('listening on ...'); an old "
             "link from before the service was restarted with TLS will not work")


def explain(exc: BaseException) -> str:
    """One line saying what happened and what to do."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else None
    if isinstance(exc, aiohttp.ClientConnectorCertificateError) or isinstance(
            reason, ssl.SSLCertVerificationError):
        return UNTRUSTED
    if isinstance(exc, aiohttp.ClientConnectorSSLError | aiohttp.ClientSSLError):
        return NOT_TLS.format(_ssl_reason(getattr(exc, "os_error", exc)))
    if isinstance(reason, ssl.SSLError):
        return NOT_TLS.format(_ssl_reason(reason))
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return NOT_PLAIN
    return str(exc) or type(exc).__name__


def _ssl_reason(exc: BaseException) -> str:
    return getattr(exc, "reason", None) or type(exc).__name__
