"""The only package that talks to Redis: key schema, Lua scripts, and one store per object."""

from __future__ import annotations

from collections.abc import Callable

from authsvc.store.account import AccountStore
from authsvc.store.admin_sessions import AdminSessionStore
from authsvc.store.admin_subjects import AdminSubjectStore
from authsvc.store.admins import AdminStore
from authsvc.store.attempts import AttemptStore
from authsvc.store.bypass import BypassStore
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.counts import CountStore
from authsvc.store.delivery import DeliveryQueue
from authsvc.store.enrollments import EnrollmentStore
from authsvc.store.groups import GroupStore
from authsvc.store.integrations import IntegrationStore
from authsvc.store.keys import Keys
from authsvc.store.listing import Listing
from authsvc.store.logstream import LogStream
from authsvc.store.outbox import OutboxStore
from authsvc.store.phones import PhoneStore
from authsvc.store.profiles import ProfileStore
from authsvc.store.prompts import PromptStore
from authsvc.store.pubsub import Subscriber
from authsvc.store.pushes import PushStore
from authsvc.store.ratelimits import (
    ADMITTED,
    RateCheck,
    RateDecision,
    RateLimitStore,
    RateMode,
    RateStep,
)
from authsvc.store.redis_client import Redis, RedisError, RedisUnavailable
from authsvc.store.scope import ScopeStore
from authsvc.store.scripts import ScriptRunner
from authsvc.store.security_keys import SecurityKeyStore
from authsvc.store.sms import SmsStore
from authsvc.store.token_definitions import TokenDefinitions
from authsvc.store.tokens import TokenStore
from authsvc.store.transactions import TransactionStore
from authsvc.store.trash import TrashStore
from authsvc.store.unenrolled import UnenrolledStore
from authsvc.store.units import UnitStore
from authsvc.store.user_search import UserSearchStore
from authsvc.store.users import UserStore

__all__ = ["ADMITTED", "SCHEMA_VERSION", "RateCheck", "RateDecision", "RateMode", "RateStep",
           "Redis", "RedisError", "RedisUnavailable", "Store", "marked_newer"]

SCHEMA_VERSION = 3
"""The layout this version writes (docs/architecture.md, "Schema versions"): 3 = the security
keys and bypass codes listed in buckets too; 2 = the users, tokens and phones listed in
buckets, token copies in the user hash (2026-12-07); 1 = before.
A version refuses a store marked with a higher one (`claim_schema`): it would not see what the
newer version moved."""


def marked_newer(mark: int) -> bool:
    """Whether a store's schema mark (`Store.schema_mark`) is a newer authsvc's: this version
    must not serve it (it would not see what the newer one moved)."""
    return mark > SCHEMA_VERSION


TELEPHONY_MAX_ENTRIES = 1_000_000
ADMINLOG_MAX_ENTRIES = 1_000_000


class Store:
    """Every store over one Redis connection."""

    def __init__(self, redis: Redis, *, prefix: str = "as",
                 authlog_max_entries: int = 1_000_000, authlog_retention_ms: int = 0,
                 adminlog_max_entries: int = ADMINLOG_MAX_ENTRIES) -> None:
        self.redis, self.scripts = redis, ScriptRunner(redis)
        ctx = StoreContext(redis, Keys(prefix), self.scripts)
        self.keys = ctx.keys
        users_listing = Listing(ctx, ctx.keys.users_listing())
        self.users = UserStore(ctx, users_listing)
        self.unenrolled = UnenrolledStore(ctx, users_listing)
        self.token_definitions = TokenDefinitions(ctx)
        self.tokens = TokenStore(ctx, self.token_definitions)
        self.bypass = BypassStore(ctx)
        self.integrations = IntegrationStore(ctx)
        self.account = AccountStore(ctx)
        self.authlog = LogStream(ctx, ctx.keys.authlog(), authlog_max_entries,
                                 authlog_retention_ms, tallied=True)
        self.telephony = LogStream(ctx, ctx.keys.telephony(), TELEPHONY_MAX_ENTRIES)
        self.adminlog = LogStream(ctx, ctx.keys.adminlog(), adminlog_max_entries)
        self.transactions = TransactionStore(ctx)
        self.phones = PhoneStore(ctx)
        self.pushes = PushStore(ctx)
        self.outbox = OutboxStore(ctx)
        self.delivery = DeliveryQueue(ctx)
        self.sms = SmsStore(ctx)
        self.enrollments = EnrollmentStore(ctx)
        self.security_keys = SecurityKeyStore(ctx)
        self.groups = GroupStore(ctx)
        self.profiles = ProfileStore(ctx, self.groups, self.token_definitions)
        self.admins = AdminStore(ctx)
        self.admin_sessions = AdminSessionStore(ctx)
        self.admin_subjects = AdminSubjectStore(ctx)
        self.user_search = UserSearchStore(ctx)
        self.units = UnitStore(ctx)
        self.scope = ScopeStore(ctx, users_listing)
        self.prompts = PromptStore(ctx)
        self.rate_limits = RateLimitStore(ctx)
        self.attempts = AttemptStore(ctx, self.rate_limits, self.token_definitions)
        self.counts = CountStore(ctx, users_listing)
        self.trash = TrashStore(ctx, self.token_definitions, users_listing, self.security_keys,
                                self.bypass)

    async def start(self) -> None:
        """Register the scripts, and mark an empty store's user counters as complete (Redis may
        be down: then the first use loads the scripts, and the first sweep counts)."""
        try:
            await self.scripts.register()
            await self.counts.mark_ready_if_empty()
        except RedisUnavailable:
            pass

    async def close(self) -> None:
        """Close the connection."""
        await self.redis.close()

    async def ping(self) -> None:
        """Raise StoreUnavailable unless Redis answers."""
        await self.redis.execute("PING")

    async def claim_schema(self) -> int:
        """Mark the store with `SCHEMA_VERSION` unless it carries a higher mark; returns the mark
        found (0: none). The caller refuses to serve a store marked higher than
        `SCHEMA_VERSION`."""
        found = await self.schema_mark()
        if found < SCHEMA_VERSION:
            await self.redis.execute("SET", self.keys.schema(), SCHEMA_VERSION)
        return found

    async def schema_mark(self) -> int:
        """The store's schema mark (0: none)."""
        return int(await self.redis.execute("GET", self.keys.schema()) or 0)

    def events(self, on_event: Callable[[str], None],
               on_reconnect: Callable[[], None]) -> Subscriber:
        """A subscriber to the cross-process events channel (not started yet)."""
        return Subscriber(self.redis.subscribe_addresses, self.keys.events(), on_event,
                          on_reconnect)

    async def announce_base_url(self, url: str, *, started_ms: int, expires_ms: int) -> None:
        """Record (or refresh) that a service with this public base URL runs until `expires_ms`
        unless refreshed; several processes with one URL share the entry."""
        await self.redis.pipeline([
            ("HSET", self.keys.live_services(), url, f"{started_ms} {expires_ms}"),
            ("DEL", self.keys.announced_base_url())])

    async def withdraw_base_url(self, url: str) -> None:
        """The service with this base URL stops."""
        await self.redis.execute("HDEL", self.keys.live_services(), url)

    async def announced_base_url(self, now_ms: int) -> str | None:
        """The base URL of the running service started last, if any runs (expired entries,
        left by processes that died, are pruned)."""
        key = self.keys.live_services()
        entries = flat_to_dict(await self.redis.execute("HGETALL", key))
        live: list[tuple[int, str]] = []
        for url, value in entries.items():
            started, _, expires = value.partition(" ")
            if expires.isdigit() and int(expires) > now_ms and started.isdigit():
                live.append((int(started), url))
            else:
                await self.redis.execute("HDEL", key, url)
        return max(live)[1] if live else None
