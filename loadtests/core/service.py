"""The service under load, started as its operators start it: ``python -m authsvc serve``.

Its environment is the load test's own minus every ``AUTHSVC_*`` variable, plus the run's Redis,
master key and data directory (and what a scenario adds, such as the WebAuthn relying party);
the same mapping is what `loadtests.core.seeding` reads its settings from, so the seeds are
sealed with the key the service opens them with. Over TLS (`authsvc.tls` development
certificates) when the scenario needs HTTPS, as Duo Push's device protocol does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from authsvc.tls import DevCert
from loadtests.core.processes import Children, on_a_free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def service_env(redis_url: str, secret_key: str, data_dir: Path,
                extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The service's environment (see the module docstring)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AUTHSVC_")}
    env.update({"AUTHSVC_REDIS_URL": redis_url, "AUTHSVC_SECRET_KEY": secret_key,
                "AUTHSVC_DATA_DIR": str(data_dir), "AUTHSVC_LOG_LEVEL": "warning"})
    env.update(extra or {})
    return env


@dataclass(frozen=True, slots=True)
class Service:
    """A running child server: its process, base URL and log."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    @property
    def pid(self) -> int:
        """The server's process id (for CPU accounting and py-spy)."""
        return self.process.pid


def start_service(children: Children, workdir: Path, env: dict[str, str], *,
                  cert: DevCert | None = None, workers: int = 1) -> Service:
    """``python -m authsvc serve --workers N`` on a free port (HTTPS with `cert`), once it is
    healthy (with N > 1 the process is the supervisor; the CPU meter counts its workers)."""
    log = workdir / "service.log"

    def start(port: int) -> Service:
        args = [sys.executable, "-m", "authsvc", "serve", "--host", HOST, "--port", str(port),
                "--workers", str(workers)]
        if cert is not None:
            args += ["--tls-cert", str(cert.cert), "--tls-key", str(cert.key)]
        process = children.start(args, env=env, log=log, cwd=ROOT)
        base = f"{'https' if cert else 'http'}://{HOST}:{port}"
        wait_healthy(process, f"{base}/healthz", log, ca_file=cert.ca_cert if cert else None)
        return Service(process, base, log)

    return on_a_free_port(start, log)


def start_ceiling(children: Children, workdir: Path, redis_url: str) -> Service:
    """The ceiling app (`loadtests.scenarios.ceiling`) on a free port, once it is healthy."""
    log = workdir / "ceiling.log"

    def start(port: int) -> Service:
        process = children.start(
            [sys.executable, "-m", "loadtests", "ceiling", "--port", str(port), "--redis-url",
             redis_url], log=log, cwd=ROOT)
        base = f"http://{HOST}:{port}"
        wait_healthy(process, f"{base}/healthz", log)
        return Service(process, base, log)

    return on_a_free_port(start, log)
