"""The OIDC side of the Duo Prompt, as Duo's Web SDK v4 clients (`duo_universal`) speak it.

Every JWT is HS512 under the web integration's client secret (duo_universal's choice; the
40-character secret is shorter than HS512's block, which PyJWT warns about and we accept since
the protocol fixes it). The client authenticates each back-channel call with a client-assertion
JWT (`iss` = `sub` = client id, `aud` = the endpoint URL, `exp`, a `jti` that works once).
`authorize` takes a request JWT (`aud` = the service's origin) that names the registered
redirect URI, the state and the user; the browser comes back to the application with a code
that works once, for 60 seconds, for that client and redirect URI only; `token` exchanges it
for an id_token carrying Duo's claims (`auth_result`, `auth_context` shaped as an authlog v2
record).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from authsvc.clock import Clock
from authsvc.domain.integrations import Credentials, IntegrationRegistry
from authsvc.errors import (
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    OAuthError,
    UnsupportedGrantType,
    UnsupportedResponseType,
)
from authsvc.model.integrations import IntegrationType
from authsvc.model.prompts import AuthorizationGrant
from authsvc.store import Store

ALGORITHM = "HS512"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LEEWAY_SECONDS = 60
MAX_ASSERTION_SECONDS = 300 + LEEWAY_SECONDS  # duo_universal caps exp_seconds at 300
CODE_SECONDS = 60
ID_TOKEN_SECONDS = 3600
MAX_JWT_LENGTH = 8192
STATE_LENGTH = (16, 1024)
MAX_NONCE_LENGTH = 1024
MAX_USERNAME_LENGTH = 255
BAD_ASSERTION = "The provided client_assertion was invalid."


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    """A verified `authorize` call: the client, where to send the browser back, and who."""

    client: Credentials
    redirect_uri: str
    state: str
    username: str
    nonce: str
    code_param: str


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """The token call's parameters (duo_universal sends them in the query string)."""

    grant_type: str
    code: str
    redirect_uri: str
    client_id: str
    client_assertion_type: str
    client_assertion: str


def digest(secret: str) -> str:
    """The SHA-256 under which a code, jti or cookie token is stored (never the value)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _decode(token: str, secret: str, audiences: Sequence[str], error: OAuthError,
            require: Sequence[str]) -> dict[str, Any]:
    """Verify an HS512 JWT (signature, `aud`, `exp` with leeway, required claims); any
    failure becomes `error` (never a 500, never the library's message)."""
    if not token or len(token) > MAX_JWT_LENGTH:
        raise error
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
            claims: dict[str, Any] = jwt.decode(
                token, secret, algorithms=[ALGORITHM], audience=list(audiences),
                leeway=LEEWAY_SECONDS, options={"require": list(require)})
    except (jwt.PyJWTError, ValueError, TypeError):
        raise error from None
    return claims


def _text(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    return value if isinstance(value, str) else ""


class Oidc:
    """Client authentication, authorize, authorization codes and the token call."""

    def __init__(self, store: Store, integrations: IntegrationRegistry, clock: Clock) -> None:
        self._store = store
        self._integrations = integrations
        self._clock = clock

    async def client(self, client_id: str) -> Credentials:
        """The web integration with this client id; raises InvalidClient."""
        found = await self._integrations.credentials(client_id) if len(client_id) == 20 else None
        if found is None or found.integration.type is not IntegrationType.WEB:
            raise InvalidClient("Unknown client_id.")
        return found

    async def authenticate_client(self, client_id: str, assertion: str,
                                  endpoints: Sequence[str]) -> Credentials:
        """Verify a client assertion for one of `endpoints` (the URLs this call may have been
        addressed to) and use its jti up; raises InvalidClient."""
        client = await self.client(client_id)
        claims = _decode(assertion, client.skey, endpoints, InvalidClient(BAD_ASSERTION),
                         ("exp", "iss", "sub", "aud", "jti"))
        jti = _text(claims, "jti")
        if _text(claims, "iss") != client_id or _text(claims, "sub") != client_id or not jti:
            raise InvalidClient(BAD_ASSERTION)
        # The jti is remembered until the assertion expires; one that claims to live longer
        # than duo_universal's maximum could outlive that memory and is refused.
        ttl = int(float(claims["exp"]) - self._clock.now()) + LEEWAY_SECONDS
        if ttl > MAX_ASSERTION_SECONDS:
            raise InvalidClient("The client_assertion expires too late (at most 5 minutes).")
        if not await self._store.prompts.claim_jti(client_id, digest(jti), ttl):
            raise InvalidClient("The client_assertion was used before.")
        return client

    async def health_check(self, client_id: str, assertion: str,
                           endpoints: Sequence[str]) -> int:
        """`POST /oauth/v1/health_check`: the time, once the client's assertion verifies."""
        await self.authenticate_client(client_id, assertion, endpoints)
        return int(self._clock.now())

    async def authorize(self, query: Mapping[str, str], origins: Sequence[str]
                        ) -> AuthorizeRequest:
        """Verify an `authorize` call (its query and request JWT); raises an OAuthError that
        names what is wrong. Nothing here redirects: an unverified redirect URI is never used."""
        if query.get("response_type") != "code":
            raise UnsupportedResponseType("response_type must be code.")
        client_id = query.get("client_id", "")
        client = await self.client(client_id)
        claims = _decode(query.get("request", ""), client.skey, origins,
                         OAuthError("The request JWT is invalid or expired."), ("exp", "aud"))
        if _text(claims, "client_id") != client_id or _text(claims, "iss") not in ("", client_id):
            raise OAuthError("The request JWT names another client.")
        redirect_uri = _text(claims, "redirect_uri")
        if redirect_uri not in client.integration.redirect_uris:
            raise OAuthError("redirect_uri is not registered for this application.")
        return AuthorizeRequest(client=client, redirect_uri=redirect_uri, **_flow_claims(
            claims, query.get("nonce", "")))

    async def issue_code(self, grant: AuthorizationGrant) -> str:
        """A new authorization code for `grant`: usable once, for CODE_SECONDS."""
        code = secrets.token_urlsafe(32)
        await self._store.prompts.put_grant(digest(code), grant, CODE_SECONDS)
        return code

    async def token(self, request: TokenRequest, endpoints: Sequence[str],
                    issuer: str) -> dict[str, Any]:
        """`POST /oauth/v1/token`: the id_token for a code. The client is authenticated before
        the code is taken, so a bad assertion does not burn a good code."""
        if request.grant_type != "authorization_code":
            raise UnsupportedGrantType("grant_type must be authorization_code.")
        if request.client_assertion_type != ASSERTION_TYPE:
            raise OAuthError(f"client_assertion_type must be {ASSERTION_TYPE}.")
        if not request.code or len(request.code) > 256:
            raise OAuthError("code is missing.")
        client = await self.authenticate_client(request.client_id, request.client_assertion,
                                                endpoints)
        grant = await self._store.prompts.take_grant(digest(request.code))
        if grant is None:
            raise InvalidGrant("The authorization code is invalid, expired or used.")
        if grant.client_id != request.client_id or grant.redirect_uri != request.redirect_uri:
            raise InvalidGrant("The authorization code was issued to another client or "
                               "redirect_uri.")
        return {"id_token": self._id_token(client, grant, issuer),
                "access_token": secrets.token_urlsafe(32), "token_type": "Bearer",
                "expires_in": ID_TOKEN_SECONDS}

    def _id_token(self, client: Credentials, grant: AuthorizationGrant, issuer: str) -> str:
        now = int(self._clock.now())
        claims: dict[str, Any] = {
            "iss": issuer, "aud": client.integration.ikey, "sub": grant.username,
            "iat": now, "exp": now + ID_TOKEN_SECONDS, "jti": str(uuid.uuid4()),
            "auth_time": grant.auth_time, "preferred_username": grant.username,
            "auth_result": grant.verdict.answer(), "auth_context": grant.context}
        if grant.nonce:
            claims["nonce"] = grant.nonce
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
            return jwt.encode(claims, client.skey, algorithm=ALGORITHM)


def _flow_claims(claims: Mapping[str, Any], nonce: str) -> dict[str, str]:
    """State, username, nonce and the code parameter's name, checked."""
    if claims.get("response_type", "code") != "code":
        raise UnsupportedResponseType("response_type must be code.")
    if claims.get("scope") != "openid":
        raise InvalidScope("scope must be openid.")
    state = _text(claims, "state")
    if not STATE_LENGTH[0] <= len(state) <= STATE_LENGTH[1] or not state.isprintable():
        raise OAuthError(f"state must be {STATE_LENGTH[0]}-{STATE_LENGTH[1]} characters.")
    username = _text(claims, "duo_uname")
    if not username.strip() or len(username) > MAX_USERNAME_LENGTH or not username.isprintable():
        raise OAuthError("duo_uname is missing or invalid.")
    if len(nonce) > MAX_NONCE_LENGTH or not nonce.isprintable():
        raise OAuthError("nonce is invalid.")
    use_duo_code = claims.get("use_duo_code_attribute", True) is not False
    return {"state": state, "username": username, "nonce": nonce,
            "code_param": "duo_code" if use_duo_code else "code"}
