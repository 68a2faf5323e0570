"""The domain services of one process, wired together once (by `app.create_app` or the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from authsvc.clock import Clock
from authsvc.crypto import SecretBox
from authsvc.domain.account import AccountPolicy
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
from authsvc.domain.out_of_band import OutOfBandSender
from authsvc.domain.phones import PhoneDirectory
from authsvc.domain.portal import Portals
from authsvc.domain.preauth import Preauth
from authsvc.domain.push import PushService
from authsvc.domain.ratelimits import RateLimits
from authsvc.domain.security_keys import RelyingParty, SecurityKeys
from authsvc.domain.subjects import Subjects
from authsvc.domain.telephony import PhoneCalls, SmsPasscodes
from authsvc.domain.token_import import TokenImporter
from authsvc.domain.tokens import TokenRegistry
from authsvc.domain.transactions import Transactions
from authsvc.domain.unenrolled import UnenrolledLockout
from authsvc.domain.users import UserDirectory
from authsvc.gateways.delivery import OutboxProvider, WebhookProvider
from authsvc.settings import Settings
from authsvc.store import Store


def public_base_url(settings: Settings) -> str:
    """The scheme and host written into links (``--public-host`` or the listening address)."""
    scheme = "https" if settings.tls else "http"
    if settings.public_host:
        return f"{scheme}://{settings.public_host}"
    host = "localhost" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    return f"{scheme}://{host}:{settings.port}"


def relying_party(settings: Settings, base_url: str) -> RelyingParty:
    """RP id, origins and AppID: configured, or derived from the public base URL."""
    origins = [o.strip() for o in (settings.webauthn_origins or base_url).split(",") if o.strip()]
    return RelyingParty(rp_id=settings.webauthn_rp_id or urlsplit(base_url).hostname or "localhost",
                        origins=origins, app_id=settings.u2f_app_id or f"{base_url}/u2f/app-id")


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
    limits: RateLimits

    @classmethod
    def build(cls, settings: Settings, store: Store, box: SecretBox, clock: Clock,
              base_url: str | None = None) -> Services:
        """Wire the services; `base_url` overrides the links' base (CLI commands use the one
        the running service announced)."""
        links = Links(base_url or public_base_url(settings))
        webhook, outbox, messenger = _messaging(settings, store, clock, box)
        authlog, waiters = AuthLog(store), Waiters()
        pushes = PushService(store, box, clock, authlog, waiters)
        users, tokens = UserDirectory(store, clock), TokenRegistry(store, box, clock)
        phones = PhoneDirectory(store, box, clock, links, messenger)
        sms = SmsPasscodes(store, box, clock, messenger)
        calls = PhoneCalls(store, box, clock, messenger, pushes, authlog, links)
        security_keys = SecurityKeys(store, clock, relying_party(settings, links.base_url))
        subjects, limits = Subjects(store), RateLimits(store, clock, settings.rate_limits)
        auth = Authenticator(store, box, clock, authlog, subjects, pushes,
                             OutOfBandSender(store, clock, authlog, pushes, sms, calls),
                             security_keys, Transactions(store, pushes), limits)
        invitations = Invitations(store, clock, users, links, messenger)
        return cls(
            settings=settings, clock=clock, store=store, box=box, links=links, waiters=waiters,
            integrations=IntegrationRegistry(store, box, clock), users=users, tokens=tokens,
            bypass=BypassIssuer(store, box, clock), authlog=authlog, auth=auth,
            preauth=Preauth(store, clock, authlog, subjects, links, pushes, sms, limits),
            account=AccountPolicy(store), phones=phones, pushes=pushes,
            device=DeviceService(store, box, clock, pushes, waiters),
            enrollment=Enrollment(store, clock, users, phones),
            helpdesk=HelpDesk(store, clock, pushes), messenger=messenger, webhook=webhook,
            outbox=outbox, sms=sms, calls=calls, invitations=invitations,
            portals=Portals(store, auth, users, phones, invitations, security_keys),
            security_keys=security_keys, token_import=TokenImporter(store, tokens, users),
            unenrolled=UnenrolledLockout(store, clock), limits=limits)

    async def check_store(self) -> None:
        """Raise StoreUnavailable unless Redis answers."""
        await self.store.ping()


def _messaging(settings: Settings, store: Store, clock: Clock, box: SecretBox
               ) -> tuple[WebhookProvider | None, OutboxProvider | None, Messenger]:
    """The configured delivery provider (a signed webhook, else the outbox) and the messenger
    that sends through it."""
    if settings.delivery == "webhook":
        assert settings.webhook_url and settings.webhook_secret  # noqa: S101 - Settings.check
        webhook = WebhookProvider(store, clock, box, settings.webhook_url,
                                  settings.webhook_secret.value, settings.webhook_max_attempts)
        return webhook, None, Messenger(store, clock, webhook)
    outbox = OutboxProvider(store, clock, box)
    return None, outbox, Messenger(store, clock, outbox)
