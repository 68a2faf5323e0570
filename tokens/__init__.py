"""tokens: software and hardware authenticators (OATH, YubiKey OTP, FIDO2/U2F).

Imports nothing from `authsvc`: these are independent implementations of RFC 4226/6238 and the
other public protocols, cross-checked against pyotp and python-fido2.
"""

__version__ = "0.1.0"
