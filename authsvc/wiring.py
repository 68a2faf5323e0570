"""How one process's domain services are built: `Wiring` makes each service once, on first
use, as a small cached property, so adding a service is one field on `services.Services` and one
property here, and the construction order follows the dependencies by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from authsvc.clock import Clock
from authsvc.crypto import SecretBox
from authsvc.domain.access import Access
from authsvc.domain.account import AccountPolicy
from authsvc.domain.admin import Administration
from authsvc.domain.admin.account import AccountAdmin
from authsvc.domain.admin.admins import AdminAdmin
from authsvc.domain.admin.devices import DeviceAdmin
from authsvc.domain.admin.groups import GroupAdmin
from authsvc.domain.admin.integrations import IntegrationAdmin
from authsvc.domain.admin.trash import TrashAdmin
from authsvc.domain.admin.units import UnitAdmin
from authsvc.domain.admin.users import UserAdmin
from authsvc.domain.admin_factors import AdminFactors
from authsvc.domain.admins import AdminAccounts
from authsvc.domain.audit import AdminLog
from authsvc.domain.auth import Authenticator
from authsvc.domain.authlog import AuthLog
from authsvc.domain.bypass import BypassIssuer
from authsvc.domain.counts import UserCounter
from authsvc.domain.device import DeviceService
from authsvc.domain.enrollment import Enrollment
from authsvc.domain.events import Waiters
from authsvc.domain.groups import GroupDirectory
from authsvc.domain.helpdesk import HelpDesk
from authsvc.domain.integrations import IntegrationRegistry
from authsvc.domain.invitations import Invitations
from authsvc.domain.links import Links
from authsvc.domain.messages import Messenger
from authsvc.domain.oidc import Oidc
from authsvc.domain.out_of_band import OutOfBandSender
from authsvc.domain.panel import Panel
from authsvc.domain.phones import PhoneDirectory
from authsvc.domain.portal import Portals
from authsvc.domain.preauth import Preauth
from authsvc.domain.prompt import PromptSessions
from authsvc.domain.prompt_devices import PromptDevices
from authsvc.domain.prompt_flow import PromptFlow
from authsvc.domain.push import PushService
from authsvc.domain.ratelimits import RateLimits
from authsvc.domain.scope import ScopeGuard
from authsvc.domain.security_keys import RelyingParty, SecurityKeys
from authsvc.domain.subjects import Subjects
from authsvc.domain.telephony import PhoneCalls, SmsPasscodes
from authsvc.domain.token_import import TokenImporter
from authsvc.domain.tokens import TokenRegistry
from authsvc.domain.transactions import Transactions
from authsvc.domain.trash import Trash
from authsvc.domain.trash_sweep import TrashSweep
from authsvc.domain.unenrolled import UnenrolledLockout
from authsvc.domain.units import AdminUnits
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
class Prompt:
    """The Duo Prompt: OIDC endpoints, sessions, second factors, devices."""

    oidc: Oidc
    sessions: PromptSessions
    flow: PromptFlow
    devices: PromptDevices


class Wiring:
    """Each service built once, from the ones it needs."""

    def __init__(self, settings: Settings, store: Store, box: SecretBox, clock: Clock,
                 base_url: str | None) -> None:
        self.settings, self.store, self.box, self.clock = settings, store, box, clock
        self._base_url = base_url

    @cached_property
    def links(self) -> Links:
        return Links(self._base_url or public_base_url(self.settings))

    @cached_property
    def _delivery(self) -> tuple[WebhookProvider | None, OutboxProvider | None, Messenger]:
        return _messaging(self.settings, self.store, self.clock, self.box)

    @cached_property
    def webhook(self) -> WebhookProvider | None:
        return self._delivery[0]

    @cached_property
    def outbox(self) -> OutboxProvider | None:
        return self._delivery[1]

    @cached_property
    def messenger(self) -> Messenger:
        return self._delivery[2]

    @cached_property
    def waiters(self) -> Waiters:
        return Waiters()

    @cached_property
    def authlog(self) -> AuthLog:
        return AuthLog(self.store)

    @cached_property
    def pushes(self) -> PushService:
        return PushService(self.store, self.box, self.clock, self.authlog, self.waiters)

    @cached_property
    def users(self) -> UserDirectory:
        return UserDirectory(self.store, self.clock)

    @cached_property
    def tokens(self) -> TokenRegistry:
        return TokenRegistry(self.store, self.box, self.clock)

    @cached_property
    def phones(self) -> PhoneDirectory:
        return PhoneDirectory(self.store, self.box, self.clock, self.links, self.messenger)

    @cached_property
    def sms(self) -> SmsPasscodes:
        return SmsPasscodes(self.store, self.box, self.clock, self.messenger)

    @cached_property
    def calls(self) -> PhoneCalls:
        return PhoneCalls(self.store, self.box, self.clock, self.messenger, self.pushes,
                          self.authlog, self.links)

    @cached_property
    def security_keys(self) -> SecurityKeys:
        return SecurityKeys(self.store, self.clock,
                            relying_party(self.settings, self.links.base_url))

    @cached_property
    def subjects(self) -> Subjects:
        return Subjects(self.store)

    @cached_property
    def limits(self) -> RateLimits:
        return RateLimits(self.store, self.clock, self.settings.rate_limits)

    @cached_property
    def auth(self) -> Authenticator:
        out_of_band = OutOfBandSender(self.store, self.clock, self.authlog, self.pushes,
                                      self.sms, self.calls)
        return Authenticator(self.store, self.box, self.clock, self.authlog, self.subjects,
                             self.pushes, out_of_band, self.security_keys,
                             Transactions(self.store, self.pushes), self.limits)

    @cached_property
    def preauth(self) -> Preauth:
        return Preauth(self.store, self.clock, self.authlog, self.subjects, self.links,
                       self.pushes, self.sms, self.limits)

    @cached_property
    def invitations(self) -> Invitations:
        return Invitations(self.store, self.clock, self.users, self.links, self.messenger,
                           self.box)

    @cached_property
    def helpdesk(self) -> HelpDesk:
        return HelpDesk(self.store, self.clock, self.pushes)

    @cached_property
    def bypass(self) -> BypassIssuer:
        return BypassIssuer(self.store, self.box, self.clock)

    @cached_property
    def token_import(self) -> TokenImporter:
        return TokenImporter(self.store, self.tokens, self.users)

    @cached_property
    def account(self) -> AccountPolicy:
        return AccountPolicy(self.store)

    @cached_property
    def integrations(self) -> IntegrationRegistry:
        return IntegrationRegistry(self.store, self.box, self.clock)

    @cached_property
    def device(self) -> DeviceService:
        return DeviceService(self.store, self.box, self.clock, self.pushes, self.waiters)

    @cached_property
    def enrollment(self) -> Enrollment:
        return Enrollment(self.store, self.clock, self.users, self.phones)

    @cached_property
    def portals(self) -> Portals:
        return Portals(self.store, self.auth, self.users, self.phones, self.invitations,
                       self.security_keys)

    @cached_property
    def unenrolled(self) -> UnenrolledLockout:
        return UnenrolledLockout(self.store, self.clock)

    @cached_property
    def trash(self) -> Trash:
        return Trash(self.store, self.clock)

    @cached_property
    def trash_sweep(self) -> TrashSweep:
        return TrashSweep(self.store, self.clock, self.trash, self.admin.audit)

    @cached_property
    def prompt(self) -> Prompt:
        oidc = Oidc(self.store, self.integrations, self.clock)
        sessions = PromptSessions(self.store, self.clock, self.box, oidc, self.preauth,
                                  self.subjects, self.security_keys, self.authlog)
        flow = PromptFlow(self.store, self.clock, sessions, self.auth, self.preauth,
                          self.subjects, self.security_keys, self.authlog)
        devices = PromptDevices(sessions, self.preauth, self.users, self.phones, self.portals,
                                self.security_keys)
        return Prompt(oidc, sessions, flow, devices)

    @cached_property
    def groups(self) -> GroupDirectory:
        return GroupDirectory(self.store, self.clock)

    @cached_property
    def _audit(self) -> AdminLog:
        return AdminLog(self.store, self.clock)

    @cached_property
    def _access(self) -> Access:
        return Access(self._audit)

    @cached_property
    def _admin_factors(self) -> AdminFactors:
        return AdminFactors(self.store, self.clock, self.auth, self.pushes, self.phones,
                            self.security_keys, self.links)

    @cached_property
    def panel(self) -> Panel:
        return Panel.build(self.store, self.clock, self.box, self._audit, self._access,
                           self._admin_factors, self.users, self.admin.users,
                           counts_fresh_s=self.settings.panel_counts_seconds)

    @cached_property
    def admin(self) -> Administration:
        audit, access = self._audit, self._access
        scope = ScopeGuard(self.store, access)
        return Administration(
            users=UserAdmin(self.store, access, audit, self.users, self.bypass, self.helpdesk,
                            self.invitations, self.trash,
                            UserImporter(self.users, self.phones, self.trash, self.groups),
                            scope),
            devices=DeviceAdmin(access, audit, self.phones, self.tokens, self.token_import,
                                self.security_keys, self.bypass, self.sms, scope),
            account=AccountAdmin(access, audit, self.account, self.authlog, self.invitations,
                                 scope),
            admins=AdminAdmin(access, audit, AdminAccounts(self.store, self.clock, self.links),
                              self.messenger, self._admin_factors, self.store),
            trash=TrashAdmin(access, audit, self.trash, UserCounter(self.store, self.clock),
                             scope),
            groups=GroupAdmin(access, audit, self.groups, self.users, scope),
            integrations=IntegrationAdmin(access, audit, self.integrations, scope),
            units=UnitAdmin(access, audit, AdminUnits(self.store, self.clock)), audit=audit)


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
