"""Browser tests of the Duo Prompt: Playwright for Python driving Debian's `chromium` (found on
PATH and launched through `executable_path`; nothing is downloaded), one browser per session and
a fresh context per test, against its own `authsvc serve` over TLS whose public host is
``localhost`` (a WebAuthn RP id cannot be an IP address).

The application side is duo_universal, unmodified; its redirect URI is a loopback HTTP server
that records where the browser arrived, so the test reads `duo_code` and `state` off the URL.

The browser fixtures are package-scoped: Playwright's sync API keeps an event loop running in
the test thread while it lives, which the rest of the suite (asyncio.run, pytest-asyncio) must
not meet.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from authsvc.tls import DevCert
from tests.harness import RedisServer, ServiceProcess, free_port, service_env

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "prompt"
UPDATE_SCREENSHOTS = "AUTHSVC_UPDATE_SCREENSHOTS"  # =1: write them into docs/
CHROMIUM_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed (./bootstrap.sh test installs it)")
    return path


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=_chromium(), headless=True,
                                         args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def prompt_service(redis_server: RedisServer, dev_cert: DevCert,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """`authsvc serve` over TLS, public host localhost:PORT (the WebAuthn RP id localhost)."""
    data = tmp_path_factory.mktemp("prompt-service")
    port = free_port()
    process = ServiceProcess(
        # Each test flushes Redis: the panel reads the user counts afresh on every page.
        service_env(redis_server.url, data, AUTHSVC_PANEL_COUNTS_SECONDS="0.001"), port=port,
        args=("--tls-cert", str(dev_cert.cert), "--tls-key", str(dev_cert.key),
              "--public-host", f"localhost:{port}"),
        tls_ca=dev_cert.ca_cert).start(data / "serve.log")
    yield process
    process.stop()


@dataclass
class AppCallback:
    """Where the prompt sent the browser back to the application (a loopback HTTP server:
    Playwright cannot route a navigation that arrives by redirect)."""

    redirect_uri: str
    urls: list[str] = field(default_factory=list)

    def code_and_state(self) -> tuple[str, str]:
        assert self.urls, "the prompt did not send the browser back to the application"
        query = parse_qs(urlsplit(self.urls[-1]).query)
        return query["duo_code"][0], query["state"][0]


@dataclass
class Tab:
    page: Page
    callback: AppCallback
    shots: Path

    def shot(self, name: str) -> None:
        """Take a screenshot: into docs/screenshots/prompt/ with AUTHSVC_UPDATE_SCREENSHOTS=1
        (what docs/prompt.md shows), else into the test's temporary directory, so a test
        run leaves the work tree as it was (codes and QR images differ every run)."""
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


@pytest.fixture(scope="package")
def application() -> Iterator[AppCallback]:
    """The web application's redirect URI: answers "signed in" and records each URL."""
    port = free_port()
    callback = AppCallback(f"http://localhost:{port}/duo-callback")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/duo-callback"):
                callback.urls.append(f"http://localhost:{port}{self.path}")
            body = b"<!doctype html><title>App</title><h1>Signed in to the app</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield callback
    server.shutdown()
    server.server_close()


@pytest.fixture
def tab(browser: Browser, application: AppCallback, redis_url: str, tmp_path: Path
        ) -> Iterator[Tab]:
    """A fresh browser context (no cookies) and page."""
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 480, "height": 900})
    application.urls.clear()
    page = context.new_page()
    page.set_default_timeout(15_000)
    shots = SCREENSHOTS if os.environ.get(UPDATE_SCREENSHOTS) == "1" else tmp_path / "shots"
    yield Tab(page, application, shots)
    context.close()


@dataclass
class PhoneSim:
    """`mobile-sim` with its own state file, as a user's phone."""

    state: Path
    ca_file: str
    served: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _command(self, *args: str) -> list[str]:
        return [sys.executable, "-c", "import sys; from mobile_sim.cli import main; "
                "sys.exit(main())", *args]

    def activate(self, value: str) -> None:
        subprocess.run(self._command("activate", value, "--state", str(self.state),
                                     "--ca-file", self.ca_file),
                       check=True, capture_output=True, timeout=60)

    def serve(self, answer: str, code_file: Path | None = None) -> None:
        extra = ["--code-file", str(code_file)] if code_file else []
        self.served.append(subprocess.Popen(
            self._command("serve", f"--{answer}", "--state", str(self.state),
                          "--ca-file", self.ca_file, *extra),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def stop(self) -> None:
        for process in self.served:
            process.terminate()
            process.wait(10)


@pytest.fixture
def phone_sim(tmp_path: Path, prompt_service: ServiceProcess) -> Iterator[PhoneSim]:
    sim = PhoneSim(tmp_path / "mobile-sim.json", str(prompt_service.tls_ca))
    yield sim
    sim.stop()
