"""The only package that talks to Redis: key schema, Lua scripts, and one store per object."""

from __future__ import annotations

from collections.abc import Callable

from authsvc.store.account import AccountStore
from authsvc.store.admin_sessions import AdminSessionStore
from authsvc.store.admin_subjects import AdminSubjectStore
from authsvc.store.admins import AdminStore
from authsvc.store.attempts import AttemptStore
from authsvc.store.bypass import BypassStore
from authsvc.store.core import StoreContext
from authsvc.store.delivery import DeliveryQueue
from authsvc.store.enrollments import EnrollmentStore
from authsvc.store.groups import GroupStore
from authsvc.store.integrations import IntegrationStore
from authsvc.store.keys import Keys
from authsvc.store.logstream import LogStream
from authsvc.store.outbox import OutboxStore
from authsvc.store.phones import PhoneStore
from authsvc.store.profiles import ProfileStore
from authsvc.store.prompts import PromptStore
from authsvc.store.pubsub import Subscriber
from authsvc.store.pushes import PushStore
from authsvc.store.redis_client import Redis, RedisError, RedisUnavailable
from authsvc.store.scripts import ScriptRunner
from authsvc.store.security_keys import SecurityKeyStore
from authsvc.store.sms import SmsStore
from authsvc.store.tokens import TokenStore
from authsvc.store.transactions import TransactionStore
from authsvc.store.unenrolled import UnenrolledStore
from authsvc.store.user_search import UserSearchStore
from authsvc.store.users import UserStore

__all__ = ["Redis", "RedisError", "RedisUnavailable", "Store"]

TELEPHONY_MAX_ENTRIES = 1_000_000
ADMINLOG_MAX_ENTRIES = 1_000_000


class Store:
    """Every store over one Redis connection."""

    def __init__(self, redis: Redis, *, prefix: str = "as",
                 authlog_max_entries: int = 1_000_000,
                 adminlog_max_entries: int = ADMINLOG_MAX_ENTRIES) -> None:
        self.redis = redis
        self.scripts = ScriptRunner(redis)
        ctx = StoreContext(redis, Keys(prefix), self.scripts)
        self.keys = ctx.keys
        self.users = UserStore(ctx)
        self.unenrolled = UnenrolledStore(ctx)
        self.tokens = TokenStore(ctx)
        self.bypass = BypassStore(ctx)
        self.integrations = IntegrationStore(ctx)
        self.account = AccountStore(ctx)
        self.authlog = LogStream(ctx, ctx.keys.authlog(), authlog_max_entries, tallied=True)
        self.telephony = LogStream(ctx, ctx.keys.telephony(), TELEPHONY_MAX_ENTRIES)
        self.adminlog = LogStream(ctx, ctx.keys.adminlog(), adminlog_max_entries)
        self.attempts = AttemptStore(ctx)
        self.transactions = TransactionStore(ctx)
        self.phones = PhoneStore(ctx)
        self.pushes = PushStore(ctx)
        self.outbox = OutboxStore(ctx)
        self.delivery = DeliveryQueue(ctx)
        self.sms = SmsStore(ctx)
        self.enrollments = EnrollmentStore(ctx)
        self.security_keys = SecurityKeyStore(ctx)
        self.groups = GroupStore(ctx)
        self.profiles = ProfileStore(ctx, self.groups)
        self.admins = AdminStore(ctx)
        self.admin_sessions = AdminSessionStore(ctx)
        self.admin_subjects = AdminSubjectStore(ctx)
        self.user_search = UserSearchStore(ctx)
        self.prompts = PromptStore(ctx)

    async def start(self) -> None:
        """Register the scripts (Redis may be down: then the first use loads them)."""
        try:
            await self.scripts.register()
        except RedisUnavailable:
            pass

    async def close(self) -> None:
        """Close the connection."""
        await self.redis.close()

    async def ping(self) -> None:
        """Raise StoreUnavailable unless Redis answers."""
        await self.redis.execute("PING")

    def events(self, on_event: Callable[[str], None],
               on_reconnect: Callable[[], None]) -> Subscriber:
        """A subscriber to the cross-process events channel (not started yet)."""
        return Subscriber(self.redis.address, self.keys.events(), on_event, on_reconnect)

    async def announce_base_url(self, url: str) -> None:
        """Record the public base URL of the service starting now (for CLI-made links)."""
        await self.redis.execute("SET", self.keys.announced_base_url(), url)

    async def announced_base_url(self) -> str | None:
        """The base URL the last started service announced, if any."""
        url: str | None = await self.redis.execute("GET", self.keys.announced_base_url())
        return url
