"""The domain services of one process, wired together once (by `app.create_app` or the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from authsvc.clock import Clock
from authsvc.crypto import SecretBox
from authsvc.domain.access import Access
from authsvc.domain.account import AccountPolicy
from authsvc.domain.admin import Administration
from authsvc.domain.admin.account import AccountAdmin
from authsvc.domain.admin.devices import DeviceAdmin
from authsvc.domain.admin.trash import TrashAdmin
from authsvc.domain.admin.users import UserAdmin
from authsvc.domain.audit import AdminLog
from authsvc.domain.auth import Authenticator
from authsvc.domain.authlog import AuthLog
from authsvc.domain.bypass import BypassIssuer
from authsvc.domain.counts import UserCounter
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
from authsvc.domain.security_keys import RelyingParty, SecurityKeys
from authsvc.domain.subjects import Subjects
from authsvc.domain.telephony import PhoneCalls, SmsPasscodes
from authsvc.domain.token_import import TokenImporter
from authsvc.domain.tokens import TokenRegistry
from authsvc.domain.transactions import Transactions
from authsvc.domain.trash import Trash
from authsvc.domain.trash_sweep import TrashSweep
from authsvc.domain.unenrolled import UnenrolledLockout
from authsvc.domain.user_import import UserImporter
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
    trash_sweep: TrashSweep

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
        phones, sms = (PhoneDirectory(store, box, clock, links, messenger),
                       SmsPasscodes(store, box, clock, messenger))
        calls = PhoneCalls(store, box, clock, messenger, pushes, authlog, links)
        security_keys = SecurityKeys(store, clock, relying_party(settings, links.base_url))
        subjects = Subjects(store)
        auth = Authenticator(store, box, clock, authlog, subjects, pushes,
                             OutOfBandSender(store, clock, authlog, pushes, sms, calls),
                             security_keys, Transactions(store, pushes))
        invitations = Invitations(store, clock, users, links, messenger, box)
        helpdesk, bypass = HelpDesk(store, clock, pushes), BypassIssuer(store, box, clock)
        token_import, account = TokenImporter(store, tokens, users), AccountPolicy(store)
        trash = Trash(store, clock)
        admin = _administration(store, clock, trash=trash, users=users, bypass=bypass,
                                helpdesk=helpdesk, invitations=invitations, phones=phones,
                                tokens=tokens, token_import=token_import,
                                security_keys=security_keys, sms=sms, account=account,
                                authlog=authlog)
        return cls(
            settings=settings, clock=clock, store=store, box=box, links=links, waiters=waiters,
            integrations=IntegrationRegistry(store, box, clock), users=users, tokens=tokens,
            bypass=bypass, authlog=authlog, auth=auth, admin=admin,
            preauth=Preauth(store, clock, authlog, subjects, links, pushes, sms),
            account=account, phones=phones, pushes=pushes,
            device=DeviceService(store, box, clock, pushes, waiters),
            enrollment=Enrollment(store, clock, users, phones),
            helpdesk=helpdesk, messenger=messenger, webhook=webhook,
            outbox=outbox, sms=sms, calls=calls, invitations=invitations,
            portals=Portals(store, auth, users, phones, invitations, security_keys),
            security_keys=security_keys, token_import=token_import,
            unenrolled=UnenrolledLockout(store, clock),
            trash_sweep=TrashSweep(store, clock, trash, admin.audit))

    async def check_store(self) -> None:
        """Raise StoreUnavailable unless Redis answers."""
        await self.store.ping()


def _administration(store: Store, clock: Clock, *, trash: Trash, users: UserDirectory,
                    bypass: BypassIssuer, helpdesk: HelpDesk, invitations: Invitations,
                    phones: PhoneDirectory, tokens: TokenRegistry, token_import: TokenImporter,
                    security_keys: SecurityKeys, sms: SmsPasscodes, account: AccountPolicy,
                    authlog: AuthLog) -> Administration:
    """The administration facades: each checks the permission table and logs every change."""
    audit = AdminLog(store, clock)
    access = Access(audit)
    return Administration(
        users=UserAdmin(store, access, audit, users, bypass, helpdesk, invitations, trash,
                        UserImporter(users, phones, trash)),
        devices=DeviceAdmin(access, audit, phones, tokens, token_import, security_keys, bypass,
                            sms),
        account=AccountAdmin(access, audit, account, authlog, invitations),
        trash=TrashAdmin(access, audit, trash, UserCounter(store, clock)), audit=audit)


def _messaging(settings: Settings, store: Store, clock: Clock, box: SecretBox
               ) -> tuple[WebhookProvider | None, OutboxProvider | None, Messenger]:
    """The configured delivery provider (a signed webhook, else the outbox) and the messenger
    that sends through it."""
    if settings.delivery == "webhook":
        assert settings.webhook_url and settings.webhook_secret  # noqa: S101 - Settings.check
        webhook = WebhookProvider(store, clock, settings.webhook_url,
                                  settings.webhook_secret.value, settings.webhook_max_attempts)
        return webhook, None, Messenger(store, clock, webhook)
    outbox = OutboxProvider(store, clock, box)
    return None, outbox, Messenger(store, clock, outbox)
