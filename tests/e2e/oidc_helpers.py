"""Web integrations for the Duo Prompt tests, and a browserless walk through the prompt with
`requests` (forms posted as a browser without JavaScript would)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html import unescape
from typing import TypeVar
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from duo_universal import Client

from authsvc.clock import SystemClock
from authsvc.crypto import SecretBox
from authsvc.domain.integrations import IntegrationRegistry, WebOptions
from authsvc.store import Redis, Store
from tests.harness import TEST_SECRET_KEY, ServiceProcess

T = TypeVar("T")
REDIRECT_URI = "https://app.example.test/duo-callback"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True)
class WebApp:
    client_id: str
    client_secret: str


def create_web_app(redis_url: str, *, enroll_policy: str = "enroll", remember_days: int = 0,
                   name: str = "Test web app", redirect_uri: str = REDIRECT_URI) -> WebApp:
    """A web integration created the way the CLI does it."""

    async def create() -> WebApp:
        store = Store(Redis.from_url(redis_url))
        registry = IntegrationRegistry(store, SecretBox.from_passphrase(TEST_SECRET_KEY),
                                       SystemClock())
        try:
            created = await registry.create("web", name, web=WebOptions(
                redirect_uris=[redirect_uri], enroll_policy=enroll_policy,
                remember_days=remember_days))
        finally:
            await store.close()
        return WebApp(created.integration.ikey, created.skey)

    return off_loop(lambda: asyncio.run(create()))


def off_loop(function: Callable[[], T]) -> T:
    """Run `function` in a thread of its own: Playwright's sync API keeps an event loop
    running in the test's thread, where asyncio.run is refused."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def duo_client_for(service: ServiceProcess, app: WebApp, secret: str | None = None,
                   redirect_uri: str = REDIRECT_URI) -> Client:
    """duo_universal, unmodified, pointed at the service with the dev CA."""
    return Client(app.client_id, secret or app.client_secret, f"localhost:{service.port}",
                  redirect_uri, duo_certs=str(service.tls_ca))


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, html
    return unescape(match.group(1))


class FormBrowser:
    """Follows the prompt's redirects and posts its forms, stopping at the application."""

    def __init__(self, service: ServiceProcess) -> None:
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify`
        self.http.verify = str(service.tls_ca)
        self.base = f"https://localhost:{service.port}"
        self.page = ""
        self.url = ""
        self.callback: str | None = None

    def _follow(self, response: requests.Response) -> None:
        while response.status_code in (301, 302, 303):
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(REDIRECT_URI.rsplit("/", 1)[0]):
                self.callback = location
                return
            response = self.http.get(location, allow_redirects=False, timeout=30)
        self.page, self.url = response.text, response.url
        self.status = response.status_code

    def forget_callback(self) -> None:
        """Start watching for the next redirect back to the application."""
        self.callback = None

    def open(self, url: str) -> FormBrowser:
        self._follow(self.http.get(url, allow_redirects=False, timeout=30))
        return self

    def post(self, action: str, **fields: str) -> FormBrowser:
        fields.setdefault("csrf", csrf_of(self.page))
        prompt = re.match(r"(/frame/prompt/[A-Za-z0-9_-]+)", urlsplit(self.url).path)
        assert prompt, self.url
        target = f"{self.base}{prompt.group(1)}/{action}"
        self._follow(self.http.post(target, data=fields, allow_redirects=False, timeout=70))
        return self

    def code_and_state(self) -> tuple[str, str]:
        assert self.callback, self.page
        query = parse_qs(urlsplit(self.callback).query)
        return query["duo_code"][0], query["state"][0]
