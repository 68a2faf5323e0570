"""Administrators' second factors: each administrator who enrolls one gets an internal subject.

Administrators are not Duo users (seed 001: "Duo administrator accounts are unique from Duo user
accounts"), but their second factor is decided by the same code as a user's: the same push
transactions (Verified Push), Duo Mobile passcodes, WebAuthn sign-count checks, lockout and
fatigue limits. So each administrator holding a factor has an *internal subject*: a user record
(``as:{u:<subject id>}:...``) that holds the admin's phone and security keys, and that
`Authenticator.auth` decides like any user's.

An internal subject is kept out of everything administrators see about users:

- its id starts with ``DZ`` (users' ids start with ``DU``) and is random, stored only in the
  administrator's record (never returned by the Admin API);
- it claims no name in the username index and is not in the users listing, so no lookup by
  name, no page of users and no counter sees it; its phone and keys are not in the phone and
  security-key listings;
- the Auth API and the prompt cannot authenticate it (only the panel's own integration can, and
  that integration can authenticate nothing else), and the user directory answers "not found"
  for its id, so no Admin API call reads or changes it;
- its attempts are not written to the authentication log: an administrator's sign-ins are in
  the administrator log (``admin_login``, ``admin_login_error``, ``admin_2fa_error``).
"""

from __future__ import annotations

from dataclasses import dataclass

from authsvc.model.integrations import Integration, IntegrationType
from authsvc.model.roles import Role

SUBJECT_PREFIX = "DZ"
PANEL_IKEY = "DIAUTHSVCADMINPANEL0"
PANEL_NAME = "authsvc Admin Panel"

# The panel's own integration: never stored, never callable over HTTP (no secret key); only
# the panel's second-factor checks use it.
PANEL_INTEGRATION = Integration(ikey=PANEL_IKEY, name=PANEL_NAME, type=IntegrationType.AUTH,
                                role=Role.OWNER, sealed_skey="", created=0)


def is_admin_subject(user_id: str | None) -> bool:
    """True for the id of an administrator's internal subject."""
    return bool(user_id) and str(user_id).startswith(SUBJECT_PREFIX)


def may_authenticate(user_id: str | None, integration: Integration) -> bool:
    """Only the panel's integration authenticates internal subjects, and only them."""
    return is_admin_subject(user_id) == (integration.ikey == PANEL_IKEY)


@dataclass(frozen=True, slots=True)
class AdminFactor:
    """One second factor an administrator holds, as the sign-in and the Administrators page
    show it: a Duo Mobile phone (push and passcodes once activated) or a security key."""

    kind: str  # "phone" | "security_key"
    factor_id: str  # phone id, or the key's credential id
    name: str
    active: bool  # a phone whose app is activated; always True for a key
    created: int
