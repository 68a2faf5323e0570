"""The client's address behind trusted reverse proxies (`AUTHSVC_TRUSTED_PROXIES`).

Only a connection from a trusted proxy may say who the client is: its `X-Forwarded-For` is read
from the right (the address the proxy itself saw last), skipping proxies that are trusted too,
and the first address that is not a trusted proxy is the client. Anything before it was written
by the client and proves nothing, so a client cannot dodge the per-address rate limits by sending
its own header. A connection from anywhere else keeps its socket address.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

IPNetwork = IPv4Network | IPv6Network


def _trusted(address: str, proxies: Sequence[IPNetwork]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str | None, forwarded_for: Sequence[str],
                   proxies: Sequence[IPNetwork]) -> str | None:
    """Who the client is, given the socket's `peer` and the X-Forwarded-For header lines."""
    if peer is None or not _trusted(peer, proxies):
        return peer
    client = peer
    hops = [hop.strip() for line in forwarded_for for hop in line.split(",")]
    for hop in reversed(hops):
        try:
            ip_address(hop)
        except ValueError:
            return client  # unreadable: trust nothing written before it
        client = hop
        if not _trusted(hop, proxies):
            return client
    return client


def proxy_middleware(proxies: Sequence[IPNetwork]) -> Middleware:
    """The request seen from the client's address (`request.remote`) when a trusted proxy
    forwarded it."""

    @web.middleware
    async def from_client(request: web.Request, handler: Handler) -> web.StreamResponse:
        client = client_address(request.remote, request.headers.getall("X-Forwarded-For", []),
                                proxies)
        if client is not None and client != request.remote:
            request = request.clone(remote=client)
        return await handler(request)

    return from_client
