"""The machine's ceiling: bare aiohttp whose handler computes one HOTP code and makes exactly one
EVALSHA of a trivial script (issue 13's "bare aiohttp + HOTP + one pipelined EVALSHA").

The benchmark drives this with the same wrk, connections and duration as the service, against
the same redis-server, through the same lean client (`authsvc.store.redis_client.Redis`), with
the same access-log setting and an answer of the service's size. What it cannot do faster is the
cost of HTTP + one HOTP code + one Redis round trip on this machine, so ``service / ceiling``
says how much of the budget the service's own work (signature check, parameters, the rate
limits, the decision's arguments and reply, the authentication log) takes. The HOTP code is
RFC 4226's for a fixed 20-byte key and the request's number (one HMAC-SHA1, as a verification
that matches at its first counter computes).

The script writes (INCR), like every passcode attempt does, so the AOF ``appendfsync always``
cost is in the ceiling too. ``--round-trips N`` makes N sequential EVALSHAs per request instead
(0 = aiohttp alone): what each further Redis round trip costs on this machine.

``python -m loadtests ceiling --port 8099 --redis-url unix:///path/redis.sock``
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
from collections.abc import AsyncIterator, Sequence

from aiohttp import web

from authsvc.store.redis_client import Redis

TRIVIAL_SCRIPT = "return redis.call('INCR', KEYS[1])"
COUNTER_KEY = "loadtests:ceiling"
ANSWER = (b'{"stat":"OK","response":{"result":"allow","status":"allow",'
          b'"status_msg":"Success. Logging you in..."}}')
SCRIPT_SHA = hashlib.sha1(TRIVIAL_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis's script id
REDIS = web.AppKey("redis", Redis)
COUNTER = web.AppKey("counter", list[int])
HOTP_KEY = bytes(range(20))
ROUND_TRIPS = web.AppKey("round_trips", int)


def hotp(key: bytes, counter: int) -> str:
    """RFC 4226 with 6 digits (what an h6 token shows)."""
    digest = hmac.digest(key, counter.to_bytes(8, "big"), "sha1")
    offset = digest[-1] & 0x0F
    return f"{(int.from_bytes(digest[offset:offset + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


async def evalsha(request: web.Request) -> web.Response:
    """Any path: one HOTP code, one EVALSHA (or ``--round-trips``), then a fixed answer shaped
    like the service's."""
    app = request.app
    app[COUNTER][0] += 1
    if hmac.compare_digest(hotp(HOTP_KEY, app[COUNTER][0]), "-"):
        raise web.HTTPBadRequest()  # never: a code is six digits; keeps the work observable
    redis = app[REDIS]
    for _ in range(request.app[ROUND_TRIPS]):
        await redis.execute("EVALSHA", SCRIPT_SHA, 1, COUNTER_KEY)
    return web.Response(body=ANSWER, content_type="application/json")


async def healthz(_: web.Request) -> web.Response:
    """GET /healthz, for the starter's readiness poll."""
    return web.Response(body=b'{"stat":"OK","response":{}}', content_type="application/json")


def create_app(redis_url: str, round_trips: int = 1) -> web.Application:
    """The ceiling app on one pipelined Redis connection."""
    app = web.Application()
    app[REDIS] = Redis.from_url(redis_url)
    app[COUNTER] = [0]
    app[ROUND_TRIPS] = round_trips

    async def redis_lifetime(app: web.Application) -> AsyncIterator[None]:
        await app[REDIS].execute("SCRIPT", "LOAD", TRIVIAL_SCRIPT)
        yield
        await app[REDIS].close()

    app.cleanup_ctx.append(redis_lifetime)
    app.router.add_get("/healthz", healthz)
    app.router.add_route("*", "/{tail:.*}", evalsha)
    return app


def main(argv: Sequence[str] | None = None, prog: str = "python -m loadtests ceiling") -> int:
    """Serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--round-trips", type=int, default=1,
                        help="sequential EVALSHAs per request (1; 0 = no Redis)")
    args = parser.parse_args(argv)
    web.run_app(create_app(args.redis_url, args.round_trips), host=args.host, port=args.port,
                access_log=None, print=None)
    return 0
