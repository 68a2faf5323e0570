"""Seed load-test populations into a running service, for the locust scenarios.

``python -m loadtests seed --users 200 --out pop.json``: people with HOTP (h6) tokens and,
optionally, bypass codes, created through the service's domain services
(`loadtests.core.seeding`), in the service's Redis found the way ``authsvc integration create``
finds it: ``AUTHSVC_REDIS_URL`` (or the Redis serving ``AUTHSVC_DATA_DIR``) and
``AUTHSVC_SECRET_KEY`` (or ``DATA_DIR/secret.key``). The seeds and bypass codes are generated
here and written to the population file (mode 0600), the only place the plain secrets exist.

``python -m loadtests push-seed --url https://127.0.0.1:8443 --ca-file var/tls/ca.pem --admin
admin.json --auth app.json --phones 200 --values push-values.txt --out push-pop.json``: people
with one Android phone each, through the Admin API (``add_user``, ``add_phone``,
``add_user_phone``, ``create_activation_url``, signed as duo_client signs them); the activation
URLs go to ``--values`` (one a line, for ``mobile-sim fleet --values``), the service URL, the CA,
the auth integration's keys and the usernames to ``--out`` (for the push driver and
``loadtests/locust_push.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from loadtests.core.population import Shape, usernames, write_private
from loadtests.core.seeding import SEED_ERRORS, enroll_phones, running_service_env, seed_people
from loadtests.core.signing import ApiError


def main(argv: Sequence[str] | None = None, prog: str = "python -m loadtests seed") -> int:
    """Seed people with h6 tokens and write the population file."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100, help="people to create (default 100)")
    parser.add_argument("--tokens-per-user", type=int, default=1, help="h6 tokens each (1)")
    parser.add_argument("--bypass-codes", type=int, default=0, help="bypass codes each (0-10)")
    parser.add_argument("--prefix", default=None, help="username prefix (default lt<random>-)")
    parser.add_argument("--redis-url", default=None, help="overrides AUTHSVC_REDIS_URL")
    parser.add_argument("--out", type=Path, required=True, help="population JSON to write")
    args = parser.parse_args(argv)
    prefix = args.prefix or f"lt{secrets.token_hex(3)}-"
    try:
        environ = running_service_env(dict(os.environ), args.redis_url)
        population = asyncio.run(seed_people(environ, prefix=prefix, count=args.users,
                                             shape=Shape(args.tokens_per_user, args.bypass_codes)))
    except SEED_ERRORS + (OSError,) as exc:
        print(f"loadtests.seed: error: {exc}", file=sys.stderr)
        return 1
    population.dump(args.out)
    print(f"seeded {len(population.people)} users named {prefix}NNNNNN; auth integration "
          f"{population.ikey}; wrote {args.out}", file=sys.stderr)
    return 0


def _keys(path: Path) -> tuple[str, str]:
    data = json.loads(path.read_text())
    return str(data["ikey"]), str(data["skey"])


def _push_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
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
    return parser


def main_push(argv: Sequence[str] | None = None,
              prog: str = "python -m loadtests push-seed") -> int:
    """Enroll people with one phone each; write the values file and the population."""
    args = _push_parser(prog).parse_args(argv)
    prefix = args.prefix or f"push{secrets.token_hex(3)}-"
    settings = ({"push_max_outstanding": str(args.max_outstanding)}
                if args.max_outstanding is not None else None)
    try:
        population, urls = asyncio.run(enroll_phones(
            args.url, str(Path(args.ca_file).resolve()), _keys(args.admin), _keys(args.auth),
            usernames(prefix, args.phones), settings))
    except (ApiError, aiohttp.ClientError, OSError, KeyError, ValueError) as exc:
        print(f"loadtests.push_seed: error: {exc}", file=sys.stderr)
        return 1
    write_private(args.values, (f"{url}\n" for url in urls))
    population.dump(args.out)
    print(f"enrolled {len(urls)} users named {prefix}NNNNNN with one phone each; activation URLs "
          f"in {args.values}, population in {args.out}", file=sys.stderr)
    return 0
