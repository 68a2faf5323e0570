"""Pure rules of the Duo Prompt: registered redirect URIs, authorize's claims, the redirect back,
CSRF values derived from the session cookie."""

from __future__ import annotations

from typing import Any

import pytest

from authsvc.domain.integrations import check_redirect_uri
from authsvc.domain.oidc import _flow_claims, digest
from authsvc.domain.prompt import csrf_of, redirect_url
from authsvc.errors import InvalidParameter, InvalidScope, OAuthError, UnsupportedResponseType
from authsvc.model.prompts import PromptSession


@pytest.mark.parametrize("uri", ["https://app.example/cb", "https://app.example:8443/a?b=c",
                                 "http://localhost:8081/duo-callback", "http://127.0.0.1/cb"])
def test_secure_redirect_uris_are_accepted(uri: str) -> None:
    assert check_redirect_uri(uri) == uri


@pytest.mark.parametrize("uri", ["http://app.example/cb", "https://app.example/cb#frag",
                                 "https://user@app.example/cb", "javascript:alert(1)",
                                 "/relative", "https:///nohost", "https://a b.example/",
                                 "https://[::1/cb"])
def test_other_redirect_uris_are_refused(uri: str) -> None:
    with pytest.raises(InvalidParameter):
        check_redirect_uri(uri)


def _claims(**changes: Any) -> dict[str, Any]:
    claims = {"scope": "openid", "response_type": "code", "state": "s" * 16,
              "duo_uname": "alice", "use_duo_code_attribute": True}
    claims.update(changes)
    return claims


def test_authorize_claims_give_state_username_nonce_and_the_code_parameter() -> None:
    assert _flow_claims(_claims(), "n" * 20) == {
        "state": "s" * 16, "username": "alice", "nonce": "n" * 20, "code_param": "duo_code"}
    assert _flow_claims(_claims(use_duo_code_attribute=False), "")["code_param"] == "code"


@pytest.mark.parametrize(("changes", "error"), [
    ({"scope": "profile"}, InvalidScope), ({"response_type": "token"}, UnsupportedResponseType),
    ({"state": "s" * 15}, OAuthError), ({"state": "s" * 1025}, OAuthError),
    ({"duo_uname": ""}, OAuthError), ({"duo_uname": "a\nb"}, OAuthError),
    ({"state": 12345678901234567}, OAuthError),
])
def test_bad_authorize_claims_are_oauth_errors(changes: dict[str, Any],
                                               error: type[OAuthError]) -> None:
    with pytest.raises(error):
        _flow_claims(_claims(**changes), "")


def test_the_redirect_back_carries_code_and_state_escaped() -> None:
    session = PromptSession(sid="x", token_hash="", client_id="c",
                            redirect_uri="https://app.example/cb?tenant=1", state="a&b=c",
                            username="u")
    assert redirect_url(session, "CODE") == \
        "https://app.example/cb?tenant=1&duo_code=CODE&state=a%26b%3Dc"


def test_csrf_values_come_from_the_cookie_and_differ_from_its_stored_hash() -> None:
    assert csrf_of("token-a") == csrf_of("token-a") != csrf_of("token-b")
    assert csrf_of("token-a") != digest("token-a")
