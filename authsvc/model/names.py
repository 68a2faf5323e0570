"""The syntax of usernames and email addresses: one rule each, used by the Admin API, the bulk
enrollment CSV, the account settings and the CLI.

A username (or alias) is 1-255 characters of letters and digits (any script) and the
punctuation in `USERNAME_PUNCTUATION`: enough for ``alice``, ``alice.smith``, ``al@example.org``,
``DOMAIN\\alice`` and ``o'brien+test``, and nothing that needs quoting in a log line, a CSV or a
shell (no spaces, no ``!``, no control characters). Names are compared lowercased.

An email address is checked for shape only (one ``@``, a name before it, a host name after it);
whether it receives mail is the mail system's business.
"""

from __future__ import annotations

import re

USERNAME_PUNCTUATION = ".-_@+'\\"
MAX_USERNAME_LENGTH = 255
MAX_EMAIL_LENGTH = 254
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def username_problem(name: str) -> str | None:
    """Why `name` cannot be a username or alias (None if it can)."""
    if not name:
        return "empty"
    if len(name) > MAX_USERNAME_LENGTH:
        return f"longer than {MAX_USERNAME_LENGTH} characters"
    bad = sorted({char for char in name if not (char.isalnum() or char in USERNAME_PUNCTUATION)})
    if bad:
        shown = ", ".join("space" if char == " " else repr(char) for char in bad)
        return (f"{shown} not allowed: use letters, digits and "
                f"{' '.join(USERNAME_PUNCTUATION)}")
    return None


def email_problem(email: str) -> str | None:
    """Why `email` is not an email address (None if it looks like one)."""
    if len(email) > MAX_EMAIL_LENGTH:
        return f"longer than {MAX_EMAIL_LENGTH} characters"
    if not email.isprintable() or any(char.isspace() for char in email):
        return "contains spaces or control characters"
    local, at, domain = email.rpartition("@")
    if not at:
        return "no @"
    if not local:
        return "nothing before the @"
    if "@" in local:
        return "more than one @"
    labels = domain.split(".")
    if not all(_HOST_LABEL.fullmatch(label) for label in labels):
        return f"{domain or 'nothing'} after the @ is not a host name"
    return None
