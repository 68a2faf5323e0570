"""The OIDC endpoints with duo_universal unmodified: health check, authorize, the prompt (walked
without a browser), the code exchange, and what they refuse."""

from __future__ import annotations

import time

import duo_client
import jwt
import pytest
import requests
from duo_universal import Client, DuoException

from tests.e2e.oidc_helpers import (
    REDIRECT_URI,
    FormBrowser,
    WebApp,
    create_web_app,
    duo_client_for,
)
from tests.harness import ServiceProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def web_app(redis_url: str) -> WebApp:
    return create_web_app(redis_url)


def _sign_in_with_bypass(tls_service: ServiceProcess, client: Client, admin: duo_client.Admin,
                         username: str, nonce: str | None = None) -> tuple[str, str, str]:
    user = admin.add_user(username)
    code = admin.add_user_bypass_codes(user["user_id"], count=1)[0]
    state = client.generate_state()
    browser = FormBrowser(tls_service).open(client.create_auth_url(username, state, nonce))
    assert "Choose an authentication method" in browser.page
    browser.post("passcode", passcode=code)
    duo_code, returned_state = browser.code_and_state()
    return duo_code, returned_state, state


def test_duo_universal_signs_in_with_a_bypass_code_through_the_prompt(
        tls_service: ServiceProcess, web_app: WebApp, admin_api: duo_client.Admin) -> None:
    client = duo_client_for(tls_service, web_app)
    assert client.health_check()["stat"] == "OK"
    nonce = "n" * 20
    duo_code, state, sent_state = _sign_in_with_bypass(tls_service, client, admin_api, "Oidc.User",
                                                       nonce)
    assert state == sent_state
    claims = client.exchange_authorization_code_for_2fa_result(duo_code, "Oidc.User", nonce)
    assert claims["auth_result"] == {"result": "allow", "status": "allow",
                                     "status_msg": "Success. Logging you in..."}
    assert claims["preferred_username"] == "Oidc.User" and claims["nonce"] == nonce
    context = claims["auth_context"]
    assert context["factor"] == "bypass_code" and context["result"] == "success"
    assert context["application"]["key"] == web_app.client_id
    assert abs(claims["auth_time"] - time.time()) < 60
    with pytest.raises(DuoException, match="invalid_grant"):
        client.exchange_authorization_code_for_2fa_result(duo_code, "Oidc.User", nonce)


def test_a_wrong_secret_is_invalid_client_and_does_not_burn_the_code(
        tls_service: ServiceProcess, web_app: WebApp, admin_api: duo_client.Admin) -> None:
    client = duo_client_for(tls_service, web_app)
    wrong = duo_client_for(tls_service, web_app, secret="x" * 40)
    with pytest.raises(DuoException):
        wrong.health_check()
    duo_code, _, _ = _sign_in_with_bypass(tls_service, client, admin_api, "secretive")
    with pytest.raises(DuoException, match="invalid_client"):
        wrong.exchange_authorization_code_for_2fa_result(duo_code, "secretive")
    claims = client.exchange_authorization_code_for_2fa_result(duo_code, "secretive")
    assert claims["auth_result"]["result"] == "allow"


def test_a_code_is_bound_to_its_client_and_redirect_uri(
        tls_service: ServiceProcess, web_app: WebApp, redis_url: str,
        admin_api: duo_client.Admin) -> None:
    other_app = create_web_app(redis_url, name="Other")
    client = duo_client_for(tls_service, web_app)
    duo_code, _, _ = _sign_in_with_bypass(tls_service, client, admin_api, "bound")
    with pytest.raises(DuoException, match="invalid_grant"):
        duo_client_for(tls_service, other_app).exchange_authorization_code_for_2fa_result(
            duo_code, "bound")


def test_authorize_refuses_an_unregistered_redirect_uri_and_a_forged_request(
        tls_service: ServiceProcess, web_app: WebApp) -> None:
    elsewhere = duo_client_for(tls_service, web_app, redirect_uri="https://evil.test/cb")
    browser = FormBrowser(tls_service).open(elsewhere.create_auth_url("alice", "s" * 20))
    assert browser.status == 400 and "redirect_uri is not registered" in browser.page
    assert browser.callback is None
    forged = duo_client_for(tls_service, web_app, secret="y" * 40)
    browser = FormBrowser(tls_service).open(forged.create_auth_url("alice", "s" * 20))
    assert browser.status == 400 and "request JWT is invalid" in browser.page


def test_token_call_errors_are_oauth_json(tls_service: ServiceProcess, web_app: WebApp) -> None:
    url = f"https://localhost:{tls_service.port}/oauth/v1/token"
    ca = str(tls_service.tls_ca)
    reply = requests.post(url, params={"grant_type": "password"}, verify=ca, timeout=10)
    assert reply.status_code == 400 and reply.json()["error"] == "unsupported_grant_type"
    assertion = jwt.encode({"iss": web_app.client_id, "sub": web_app.client_id, "aud": url,
                            "exp": time.time() + 60, "jti": "j" * 36}, web_app.client_secret,
                           algorithm="HS512")
    params = {"grant_type": "authorization_code", "code": "nope", "redirect_uri": REDIRECT_URI,
              "client_id": web_app.client_id, "client_assertion": assertion,
              "client_assertion_type":
                  "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    reply = requests.post(url, data=params, verify=ca, timeout=10)  # a form body works too
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant"
    replayed = requests.post(url, params=params, verify=ca, timeout=10)
    assert replayed.status_code == 401 and replayed.json()["error"] == "invalid_client"


def test_a_client_assertion_living_longer_than_five_minutes_is_refused(
        tls_service: ServiceProcess, web_app: WebApp) -> None:
    url = f"https://localhost:{tls_service.port}/oauth/v1/health_check"
    assertion = jwt.encode({"iss": web_app.client_id, "sub": web_app.client_id, "aud": url,
                            "exp": time.time() + 3600, "jti": "k" * 36}, web_app.client_secret,
                           algorithm="HS512")
    reply = requests.post(url, data={"client_id": web_app.client_id,
                                     "client_assertion": assertion},
                          verify=str(tls_service.tls_ca), timeout=10)
    assert reply.status_code == 400 and reply.json()["message"] == "invalid_client"
