"""Where Redis is: the parsed form of ``AUTHSVC_REDIS_URL``.

Three shapes: one server (``redis://``, ``rediss://``, ``unix://``; a Redis Cluster is named by
any one of its nodes, the client finds the others), or a set of Sentinels that name the master
(``redis+sentinel://``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
SENTINEL_PORT = 26379


@dataclass(frozen=True, slots=True)
class RedisAddress:
    """Where Redis is and how to log in; built by `parse_redis_url`.

    With `sentinels`, `host`/`port` are unused until the Sentinels name the master of
    `master_name`; `sentinel_password` logs in to the Sentinels (when they require one)."""

    host: str = "127.0.0.1"
    port: int = 6379
    unix_path: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False
    sentinels: tuple[tuple[str, int], ...] = ()
    master_name: str | None = None
    sentinel_password: str | None = None

    def describe(self) -> str:
        """Where, without the password (for logs)."""
        if self.sentinels:
            hosts = ",".join(f"{host}:{port}" for host, port in self.sentinels)
            return f"sentinel:{hosts}/{self.master_name}/{self.db}"
        where = f"unix:{self.unix_path}" if self.unix_path else f"{self.host}:{self.port}"
        return f"{where}/{self.db}"

    def at(self, host: str, port: int) -> RedisAddress:
        """The same login and options on another server (a cluster node, the master)."""
        return dataclasses.replace(self, host=host, port=port, unix_path=None, sentinels=(),
                                   master_name=None, sentinel_password=None)


def parse_redis_url(url: str) -> RedisAddress:
    """``redis://[[user]:password@]host[:port][/db]``, ``rediss://...``, ``unix:///path?db=N``,
    ``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master_name[/db]``
    (``?sentinel_password=...`` when the Sentinels require their own)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if parts.scheme == "unix":
        if not parts.path:
            raise ValueError("unix:// URL needs a socket path")
        db = int(query.get("db", ["0"])[0])
        return RedisAddress(unix_path=parts.path, db=db, username=username, password=password)
    if parts.scheme in SENTINEL_SCHEMES:
        return _parse_sentinel(parts.netloc, parts.path, query, username, password,
                               tls=parts.scheme.startswith("rediss"))
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"unsupported Redis URL scheme {parts.scheme!r}")
    db_text = parts.path.lstrip("/") or query.get("db", ["0"])[0]
    return RedisAddress(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        db=int(db_text),
        username=username,
        password=password,
        tls=parts.scheme == "rediss",
    )


def _parse_sentinel(netloc: str, path: str, query: dict[str, list[str]], username: str | None,
                    password: str | None, *, tls: bool) -> RedisAddress:
    hosts = netloc.rpartition("@")[2]
    sentinels: list[tuple[str, int]] = []
    for item in hosts.split(","):
        host, _, port = item.strip().rpartition(":") if ":" in item else (item.strip(), "", "")
        if not host:
            raise ValueError("redis+sentinel:// URL needs host[:port] of each Sentinel")
        sentinels.append((host.strip("[]"), int(port) if port else SENTINEL_PORT))
    names = [part for part in path.split("/") if part]
    if not names or len(names) > 2:
        raise ValueError("redis+sentinel:// URL needs /master_name (and optionally /db)")
    sentinel_password = query.get("sentinel_password", [None])[0]
    return RedisAddress(db=int(names[1]) if len(names) == 2 else 0, username=username,
                        password=password, tls=tls, sentinels=tuple(sentinels),
                        master_name=unquote(names[0]), sentinel_password=sentinel_password)
