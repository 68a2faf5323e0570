"""Where a simulated carrier finds the outbox: ``DATA_DIR/outbox.json``.

At start-up each process writes its base URL and the outbox token there (mode 0600), where a
carrier on the same machine (`mobile-sim sms|mail|answer-call`) finds both. A process that
stops removes the file if it names that process, and a running one writes it again when it is
gone (`announce_outbox(..., only_if_missing=True)` on its heartbeat), so the file names a
service that runs. Whoever can read that
file can read the data dir's ``secret.key`` as well, so it gives away nothing more.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

DISCOVERY_FILE = "outbox.json"


def write_discovery_file(data_dir: Path, url: str, token: str) -> Path:
    """Write ``{"url", "token"}`` to ``data_dir/outbox.json``, mode 0600, replaced atomically
    (a carrier reading it while another process starts sees the old file or the new one)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DISCOVERY_FILE
    fd, temporary = tempfile.mkstemp(dir=data_dir, prefix=".outbox-", suffix=".json")  # 0600
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump({"url": url, "token": token}, handle)
            handle.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def announce_outbox(data_dir: Path, url: str, token: str, *, only_if_missing: bool = False
                    ) -> None:
    """Write the discovery file (with `only_if_missing`, only when there is none); a read-only
    data dir is logged (the endpoint still works with ``mobile-sim --service``)."""
    if only_if_missing and (data_dir / DISCOVERY_FILE).exists():
        return
    try:
        path = write_discovery_file(data_dir, url, token)
    except OSError as exc:
        log.warning("outbox: could not write %s: %s", data_dir / DISCOVERY_FILE, exc.strerror)
        return
    log.info("outbox endpoint %s/outbox/v1/messages announced in %s", url, path)


def withdraw_outbox(data_dir: Path, url: str) -> None:
    """Remove the discovery file if it names `url` (this process stops)."""
    path = data_dir / DISCOVERY_FILE
    try:
        if json.loads(path.read_text()).get("url") == url:
            path.unlink()
    except (OSError, ValueError, AttributeError):
        return
