"""The domain services of one process, wired together once (by `app.create_app` or the CLI;
`wiring.py` builds them)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from authsvc.clock import Clock
from authsvc.crypto import SecretBox
from authsvc.domain.account import AccountPolicy
from authsvc.domain.admin import Administration
from authsvc.domain.auth import Authenticator
from authsvc.domain.authlog import AuthLog
from authsvc.domain.bypass import BypassIssuer
from authsvc.domain.device import DeviceService
from authsvc.domain.enrollment import Enrollment
from authsvc.domain.events import Waiters
from authsvc.domain.helpdesk import HelpDesk
from authsvc.domain.integrations import IntegrationRegistry
from authsvc.domain.invitations import Invitations
from authsvc.domain.links import Links
from authsvc.domain.messages import Messenger
from authsvc.domain.panel import Panel
from authsvc.domain.phones import PhoneDirectory
from authsvc.domain.portal import Portals
from authsvc.domain.preauth import Preauth
from authsvc.domain.push import PushService
from authsvc.domain.ratelimits import RateLimits
from authsvc.domain.security_keys import SecurityKeys
from authsvc.domain.telephony import PhoneCalls, SmsPasscodes
from authsvc.domain.token_import import TokenImporter
from authsvc.domain.tokens import TokenRegistry
from authsvc.domain.trash_sweep import TrashSweep
from authsvc.domain.unenrolled import UnenrolledLockout
from authsvc.domain.users import UserDirectory
from authsvc.gateways.delivery import OutboxProvider, WebhookProvider
from authsvc.settings import Settings
from authsvc.store import Store
from authsvc.wiring import Prompt, Wiring, public_base_url, relying_party

__all__ = ["Prompt", "Services", "public_base_url", "relying_party"]


@dataclass(frozen=True, slots=True)
class Services:
    """Everything the HTTP layer calls into."""

    settings: Settings
    clock: Clock
    store: Store
    box: SecretBox
    links: Links
    waiters: Waiters
    integrations: IntegrationRegistry
    users: UserDirectory
    tokens: TokenRegistry
    bypass: BypassIssuer
    authlog: AuthLog
    auth: Authenticator
    preauth: Preauth
    admin: Administration
    account: AccountPolicy
    phones: PhoneDirectory
    pushes: PushService
    device: DeviceService
    enrollment: Enrollment
    helpdesk: HelpDesk
    messenger: Messenger
    webhook: WebhookProvider | None
    outbox: OutboxProvider | None
    sms: SmsPasscodes
    calls: PhoneCalls
    invitations: Invitations
    portals: Portals
    security_keys: SecurityKeys
    token_import: TokenImporter
    unenrolled: UnenrolledLockout
    prompt: Prompt
    panel: Panel
    limits: RateLimits
    trash_sweep: TrashSweep

    @classmethod
    def build(cls, settings: Settings, store: Store, box: SecretBox, clock: Clock,
              base_url: str | None = None) -> Services:
        """Wire the services; `base_url` overrides the links' base (CLI commands use the one
        the running service announced)."""
        wiring = Wiring(settings, store, box, clock, base_url)
        return cls(**{field.name: getattr(wiring, field.name)
                      for field in dataclasses.fields(cls)})

    def on_event(self, message: str) -> None:
        """A message on the events channel: an integration changed (drop its cached
        credentials), else a push or phone wake-up (``topic`` or ``topic\nnews``)."""
        topic, newline, news = message.partition("\n")
        if not self.integrations.notice(topic):
            self.waiters.announce(topic, news if newline else None)

    def on_events_reconnect(self) -> None:
        """The subscriber reconnected: messages may have been missed."""
        self.integrations.forget()
        self.waiters.announce_all()

    async def check_store(self) -> None:
        """Raise StoreUnavailable unless Redis answers."""
        await self.store.ping()
