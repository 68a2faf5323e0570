"""Account settings are validated field by field: a bad value is 40002 naming the field."""

from __future__ import annotations

import pytest

from authsvc.errors import InvalidParameter
from authsvc.model.names import email_problem, username_problem
from authsvc.model.settings import AccountSettings, validate_update


@pytest.mark.parametrize(("field", "value"), [
    ("timezone", "1"), ("timezone", 1), ("timezone", "Mars/Olympus_Mons"), ("timezone", "../etc"),
    ("fraud_email", "1"), ("fraud_email", "ops@"), ("fraud_email", "a b@example.org"),
    ("caller_id", "call me"), ("lockout_threshold", "0"), ("lockout_threshold", "ten"),
    ("push_timeout", "601"), ("sms_refresh", "maybe"), ("helpdesk_message", "x" * 1025),
])
def test_a_bad_value_is_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidParameter) as caught:
        validate_update({field: value})
    assert caught.value.code == 40002
    assert caught.value.message_detail is not None
    assert caught.value.message_detail.startswith(field)


@pytest.mark.parametrize(("field", "value", "stored"), [
    ("timezone", "Europe/Paris", "Europe/Paris"), ("timezone", "UTC", "UTC"),
    ("fraud_email", "soc@example.org", "soc@example.org"), ("fraud_email", "", ""),
    ("caller_id", "+15555550100", "+15555550100"), ("lockout_threshold", 5, "5"),
])
def test_good_values_are_stored(field: str, value: object, stored: str) -> None:
    assert validate_update({field: value}) == {field: stored}


def test_a_stored_value_the_rules_refuse_reads_back_as_the_default() -> None:
    settings = AccountSettings.from_stored({"timezone": "1", "fraud_email": "1"})
    assert (settings.timezone, settings.fraud_email) == ("UTC", "")


@pytest.mark.parametrize("name", ["alice", "alice.smith", "al@example.org", "corp\\alice",
                                  "o'brien+test", "zoë", "user_1-2"])
def test_allowed_usernames(name: str) -> None:
    assert username_problem(name) is None


@pytest.mark.parametrize(("name", "why"), [
    ("bad user!", "space, '!' not allowed"), ("", "empty"), ("a" * 256, "longer than 255"),
    ("tab\there", "'\\t' not allowed"), ("semi;colon", "';' not allowed"),
])
def test_refused_usernames_say_why(name: str, why: str) -> None:
    problem = username_problem(name)
    assert problem is not None and problem.startswith(why)


@pytest.mark.parametrize(("email", "why"), [
    ("ann", "no @"), ("@example.org", "nothing before the @"), ("a@b@example.org", "more than one @"),
    ("ann@", "nothing after the @ is not a host name"), ("ann@exa mple.org", "contains spaces"),
    ("ann@-example.org", "-example.org after the @ is not a host name"),
])
def test_refused_emails_say_why(email: str, why: str) -> None:
    assert email_problem(email) == why or (email_problem(email) or "").startswith(why)


def test_plain_emails_pass() -> None:
    assert email_problem("ann@example.org") is None
    assert email_problem("o'brien+tag@mail.example.co.uk") is None
