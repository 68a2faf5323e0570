"""The Admin Panel's own services, built together: sign-in and sessions, administrators'
second factors, and the reads and bulk actions of its pages (every change a page makes goes
through the administration facades, `Services.admin`)."""

from __future__ import annotations

from dataclasses import dataclass

from authsvc.clock import Clock
from authsvc.crypto import SecretBox
from authsvc.domain.access import Access
from authsvc.domain.admin.bulk import BulkActions
from authsvc.domain.admin.dashboard import Dashboard
from authsvc.domain.admin.directory import UserFinder
from authsvc.domain.admin.users import UserAdmin
from authsvc.domain.admin_factors import AdminFactors
from authsvc.domain.admin_sessions import AdminSessions
from authsvc.domain.admins import AdminAccounts
from authsvc.domain.audit import AdminLog
from authsvc.domain.scope import ScopeGuard
from authsvc.domain.units import AdminUnits
from authsvc.domain.users import UserDirectory
from authsvc.store import Store


@dataclass(frozen=True, slots=True)
class Panel:
    """Sessions, second factors, the Users page's finder, the Dashboard, bulk actions."""

    sessions: AdminSessions
    factors: AdminFactors
    finder: UserFinder
    dashboard: Dashboard
    bulk: BulkActions

    @classmethod
    def build(cls, store: Store, clock: Clock, box: SecretBox, audit: AdminLog, access: Access,
              factors: AdminFactors, users: UserDirectory, user_admin: UserAdmin, *,
              counts_fresh_s: float) -> Panel:
        """Wire the panel's services over the domain's."""
        accounts = AdminAccounts(store, clock, factors.links)
        scope = ScopeGuard(store, access)
        return cls(sessions=AdminSessions(store, clock, box, accounts, audit,
                                          AdminUnits(store, clock)), factors=factors,
                   finder=UserFinder(store, access, users, scope),
                   dashboard=Dashboard(store, clock, access, counts_fresh_s),
                   bulk=BulkActions(store, access, user_admin))
