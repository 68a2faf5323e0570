"""`authsvc integration create|list`: one JSON object per integration; the secret key is
printed once, at creation."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from authsvc.domain.integrations import Credentials, WebOptions
from authsvc.errors import InvalidParameter
from authsvc.model.integrations import IntegrationType
from authsvc.services import Services
from authsvc.settings import Settings

Runner = Callable[[Settings, Callable[[Services], Awaitable[Any]]], Any]


def _web_options(args: argparse.Namespace) -> WebOptions | None:
    if args.type != "web":
        return None
    return WebOptions(redirect_uris=args.redirect_uri, enroll_policy=args.enroll_policy,
                      remember_days=args.remember_days, self_service=not args.no_self_service)


def integration_create(settings: Settings, args: argparse.Namespace, run: Runner) -> int:
    """Print the new integration as one JSON object (the only time the skey is shown); a web
    integration also as duo_universal names it (client_id, client_secret, api_host)."""
    async def create(svc: Services) -> tuple[Credentials, str]:
        created = await svc.integrations.create(args.type, args.name, args.role,
                                                _web_options(args))
        return created, svc.links.api_host

    try:
        credentials, api_host = run(settings, create)
    except InvalidParameter as exc:
        print(f"authsvc: error: {exc.message_detail}", file=sys.stderr)
        return 1
    integration = credentials.integration
    out: dict[str, object] = {"ikey": integration.ikey, "skey": credentials.skey,
                              "type": integration.type.value, "name": integration.name,
                              "role": integration.role.value}
    if integration.type is IntegrationType.WEB:
        out.update(client_id=integration.ikey, client_secret=credentials.skey,
                   api_host=api_host, redirect_uris=list(integration.redirect_uris),
                   enroll_policy=integration.enroll_policy.value,
                   remember_days=integration.remember_days,
                   self_service=integration.self_service)
    print(json.dumps(out))
    return 0


def integration_list(settings: Settings, run: Runner) -> int:
    """Print one JSON object per line per integration, without secrets."""
    for integration in run(settings, lambda svc: svc.integrations.all()):
        print(json.dumps({"ikey": integration.ikey, "type": integration.type.value,
                          "name": integration.name, "role": integration.role.value,
                          "created": integration.created}))
    return 0
