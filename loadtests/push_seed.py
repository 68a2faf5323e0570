"""Seed people with one Duo Mobile phone each through the Admin API, for the push load tests.

For each username, the four calls an administrator's duo_client makes (README "Duo Push in five
steps", tests/e2e/push_helpers.py): ``add_user``, ``add_phone(number, type="mobile",
platform="google android")``, ``add_user_phone`` and ``create_activation_url``, signed exactly as
duo_client signs them (`loadtests.push_wire`), many people at a time over one aiohttp session.
The activation URLs go to a file, one a line, for ``mobile-sim fleet --values FILE``; the auth
integration's keys, the service URL and the usernames go to a population JSON that the push
driver and ``loadtests/locust_push.py`` read.

Against a running TLS service (keys from ``authsvc integration create``)::

    python -m loadtests.push_seed --url https://127.0.0.1:8443 --ca-file var/tls/ca.pem \\
        --admin admin.json --auth app.json --phones 200 \\
        --values push-values.txt --out push-pop.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp

from loadtests.push_wire import SETTINGS_PATH, ApiError, DuoApi, client_ssl

SEED_CONCURRENCY = 32


@dataclass(frozen=True, slots=True)
class PushPopulation:
    """Who to push to, and how: the service, the CA to trust, the auth integration."""

    base_url: str
    ca_file: str
    ikey: str
    skey: str
    usernames: list[str]

    def dump(self, path: Path) -> None:
        """Write as JSON (it holds the auth integration's secret key: mode 0600)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(self), handle)

    @classmethod
    def load(cls, path: Path) -> PushPopulation:
        """Read what `dump` wrote."""
        data: dict[str, Any] = json.loads(path.read_text())
        return cls(str(data["base_url"]), str(data["ca_file"]), str(data["ikey"]),
                   str(data["skey"]), [str(name) for name in data["usernames"]])


async def enroll_one(admin: DuoApi, username: str, number: str) -> str:
    """A user with one Android phone; the phone's activation URL."""
    user = await admin.post("/admin/v1/users", {"username": username})
    phone = await admin.post("/admin/v1/phones", {"number": number, "type": "mobile",
                                                  "platform": "google android"})
    await admin.post(f"/admin/v1/users/{user['user_id']}/phones", {"phone_id": phone["phone_id"]})
    activation = await admin.post(f"/admin/v1/phones/{phone['phone_id']}/activation_url", {})
    return str(activation["activation_url"])


async def enroll_all(admin: DuoApi, usernames: Sequence[str], *,
                     concurrency: int = SEED_CONCURRENCY,
                     progress: Callable[[int], None] | None = None) -> list[str]:
    """Every user enrolled, `concurrency` at a time; activation URLs in the same order."""
    urls: list[str] = [""] * len(usernames)
    cursor = iter(range(len(usernames)))

    async def worker() -> None:
        for index in cursor:
            urls[index] = await enroll_one(admin, usernames[index], f"+1555{index:07d}")
            if progress is not None:
                progress(index)

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(usernames))))))
    return urls


async def set_settings(admin: DuoApi, values: dict[str, str]) -> dict[str, Any]:
    """``POST /admin/v1/settings`` (e.g. ``push_max_outstanding``); the settings afterwards."""
    settings: dict[str, Any] = await admin.post(SETTINGS_PATH, values)
    return settings


def usernames(prefix: str, count: int) -> list[str]:
    """``<prefix>000000``, ``<prefix>000001``, ..."""
    return [f"{prefix}{index:06d}" for index in range(count)]


async def seed(base_url: str, ca_file: str, admin_keys: tuple[str, str],
               auth_keys: tuple[str, str], names: Sequence[str],
               settings: dict[str, str] | None = None) -> tuple[PushPopulation, list[str]]:
    """Enroll `names` (and change `settings` first); the population and activation URLs."""
    connector = aiohttp.TCPConnector(limit=SEED_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        admin = DuoApi(session, base_url, *admin_keys, client_ssl(ca_file))
        if settings:
            await set_settings(admin, settings)
        urls = await enroll_all(admin, names)
    return PushPopulation(base_url, ca_file, *auth_keys, list(names)), urls


def write_values(path: Path, urls: Sequence[str]) -> None:
    """One activation URL a line (``mobile-sim fleet --values``); single use, but keep it 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{url}\n" for url in urls)


def _keys(path: Path) -> tuple[str, str]:
    data = json.loads(path.read_text())
    return str(data["ikey"]), str(data["skey"])


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m loadtests.push_seed``: enroll, write the values file and the population."""
    parser = argparse.ArgumentParser(prog="python -m loadtests.push_seed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the service, e.g. https://127.0.0.1:8443")
    parser.add_argument("--ca-file", required=True, help="CA to trust (var/tls/ca.pem)")
    parser.add_argument("--admin", type=Path, required=True,
                        help="admin integration JSON (authsvc integration create --type admin)")
    parser.add_argument("--auth", type=Path, required=True,
                        help="auth integration JSON (authsvc integration create --type auth)")
    parser.add_argument("--phones", type=int, default=100, help="people, one phone each (100)")
    parser.add_argument("--prefix", default=None, help="username prefix (default push<random>-)")
    parser.add_argument("--max-outstanding", type=int, default=None,
                        help="also set push_max_outstanding (1-100; the service's default is 3)")
    parser.add_argument("--values", type=Path, required=True,
                        help="activation URLs to write, one a line (mobile-sim fleet --values)")
    parser.add_argument("--out", type=Path, required=True, help="population JSON to write")
    args = parser.parse_args(argv)
    prefix = args.prefix or f"push{secrets.token_hex(3)}-"
    settings = ({"push_max_outstanding": str(args.max_outstanding)}
                if args.max_outstanding is not None else None)
    try:
        population, urls = asyncio.run(seed(
            args.url, str(Path(args.ca_file).resolve()), _keys(args.admin), _keys(args.auth),
            usernames(prefix, args.phones), settings))
    except (ApiError, aiohttp.ClientError, OSError, KeyError, ValueError) as exc:
        print(f"loadtests.push_seed: error: {exc}", file=sys.stderr)
        return 1
    write_values(args.values, urls)
    population.dump(args.out)
    print(f"enrolled {len(urls)} users named {prefix}NNNNNN with one phone each; activation URLs "
          f"in {args.values}, population in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
