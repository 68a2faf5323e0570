"""The error tree: every caller or protocol error carries its Duo code and a safe message.

Wrong codes are not errors (they are verdicts); these are for bad input, bad signatures, missing
objects and an unreachable store. The HTTP status is always the first three digits of the code,
as Duo does it. No module here imports aiohttp: `http/middleware.py` renders these.
"""

from __future__ import annotations


class AuthsvcError(Exception):
    """Root of the tree. `message_detail` must never contain a secret or a code."""

    code = 50000
    message = "Internal server error"
    retry_after: int | None = None  # seconds, sent as Retry-After when set

    def __init__(self, message_detail: str | None = None, *, message: str | None = None) -> None:
        super().__init__(message_detail or message or self.message)
        self.message_detail = message_detail
        if message is not None:
            self.message = message

    @property
    def http_status(self) -> int:
        """Duo's HTTP status: the first three digits of the code."""
        return self.code // 100


class MissingParameter(AuthsvcError):
    """A required request parameter is absent; the detail names it."""

    code = 40001
    message = "Missing required request parameters"


class InvalidParameter(AuthsvcError):
    """A parameter is present but malformed or out of range; the detail names it."""

    code = 40002
    message = "Invalid request parameters"


class Conflict(InvalidParameter):
    """The request contradicts stored state (duplicate username, serial, code, a full quota)."""


class WrongStepUpCode(InvalidParameter):
    """Verified Push: the code the phone sent is not the one shown at login."""

    code = 40032
    message = "Incorrect verification code"


class NotAuthenticated(AuthsvcError):
    """A 401: the request does not prove who sent it (the failed-signature limits count these)."""

    code = 40100
    message = "Invalid request credentials"


class MissingCredentials(NotAuthenticated):
    """No (or an unparsable) Authorization header."""

    code = 40101
    message = "Missing request credentials"


class UnknownIntegration(NotAuthenticated):
    """The integration key is not known."""

    code = 40102
    message = "Invalid integration key in request credentials"


class BadSignature(NotAuthenticated):
    """The HMAC signature does not match the request."""

    code = 40103
    message = "Invalid signature in request credentials"


class MissingDate(NotAuthenticated):
    """Neither X-Duo-Date nor Date carries a parsable date."""

    code = 40104
    message = "Missing or invalid request date"


class UnsupportedSignature(NotAuthenticated):
    """A device activation without an RSA public key (pubkey, pkpush=rsa-sha512)."""

    code = 40112
    message = "Signature type is not supported"


class DateSkew(NotAuthenticated):
    """The signed date is too far from the server's clock."""

    code = 40105
    message = "Request date is too far from the current time"


class Forbidden(AuthsvcError):
    """The integration may not call this API (an Auth key on the Admin API or the reverse)."""

    code = 40301
    message = "Access forbidden"


class NotFound(AuthsvcError):
    """The path or the named object does not exist."""

    code = 40401
    message = "Resource not found"


class UnknownActivationCode(NotFound):
    """The activation code is unknown, expired or already used."""

    code = 40403
    message = "Unknown activation code"


class PushNotFound(NotFound):
    """The push (urgid) is unknown, expired, already answered, or not this device's."""

    code = 40404


class MethodNotAllowed(AuthsvcError):
    """The path exists but not for this HTTP method."""

    code = 40501
    message = "Method not allowed"


class BodyTooLarge(AuthsvcError):
    """The request body is over the configured limit."""

    code = 41301
    message = "Request entity too large"


class RateLimited(AuthsvcError):
    """A rate limit refused the request (the detail names which); try again after
    `retry_after` seconds. Nothing was decided or counted against the user."""

    code = 42901
    message = "Too Many Requests"

    def __init__(self, message_detail: str, *, retry_after: int) -> None:
        super().__init__(message_detail)
        self.retry_after = max(1, retry_after)


class ServiceStopping(AuthsvcError):
    """The process is shutting down; a waiting request is released (the push goes on)."""

    code = 50301
    message = "Service is shutting down"
    retry_after = 1


class StoreUnavailable(AuthsvcError):
    """Redis cannot be reached, did not answer in time, or answered "not now" (out of memory,
    loading, read-only, ...); the request changed nothing we know of."""

    code = 50301
    message = "Service temporarily unavailable"
    retry_after = 1


class OAuthError(InvalidParameter):
    """An OAuth 2.0 / OIDC error (RFC 6749 §5.2): `error` is the code word the token and
    health-check endpoints answer; the prompt shows the detail on an error page."""

    error = "invalid_request"


class InvalidClient(OAuthError):
    """The client is unknown, not a web application, or its assertion does not verify."""

    code = 40101
    error = "invalid_client"


class InvalidGrant(OAuthError):
    """The authorization code is unknown, expired, used, or bound to another client or
    redirect URI."""

    error = "invalid_grant"


class UnsupportedGrantType(OAuthError):
    """A grant type other than authorization_code."""

    error = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    """A response type other than code."""

    error = "unsupported_response_type"


class InvalidScope(OAuthError):
    """A scope other than openid."""

    error = "invalid_scope"


class GroupsChanged(StoreUnavailable):
    """A user's groups changed between reading them and deciding, every time the decision was
    retried (an admin changing them in a tight loop): nothing was decided; try again."""
