"""The authenticator with groups, in process against a real Redis: awaited round trips per
passcode counted with a counting client (one in the common case, with or without groups), and
a group change landing between a decision's read and its commit (the decision is redone)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from authsvc.clock import SystemClock
from authsvc.crypto import SecretBox
from authsvc.domain.auth_requests import AuthRequest, Passcode
from authsvc.domain.bypass import BypassRequest
from authsvc.domain.groups import GroupChanges, GroupDirectory
from authsvc.domain.users import UserChanges
from authsvc.model.attempts import AttemptOutcome
from authsvc.model.integrations import Integration, IntegrationType, Role
from authsvc.services import Services
from authsvc.settings import Settings
from authsvc.store import Store
from authsvc.store.redis_client import parse_redis_url
from tests.store.counting import CountingRedis

APP = Integration(ikey="DIAPP", name="app", type=IntegrationType.AUTH, role=Role.OWNER,
                  sealed_skey="", created=0)


@pytest.fixture
async def services(redis_url: str, box: SecretBox, tmp_path: Path
                   ) -> AsyncIterator[Services]:
    store = Store(CountingRedis(parse_redis_url(redis_url), wait_replicas=0))  # as one Redis
    await store.start()
    yield Services.build(Settings(data_dir=tmp_path), store, box, SystemClock())
    await store.close()


async def user_with_code(services: Services, name: str) -> tuple[str, str]:
    user = await services.users.add(UserChanges(username=name))
    codes = await services.bypass.issue(user.user_id, BypassRequest(count=1, reuse_count=0))
    return user.user_id, codes[0]


async def passcode(services: Services, name: str, code: str) -> tuple[str, int]:
    """(result, awaited round trips) of one passcode attempt."""
    redis = services.store.redis
    assert isinstance(redis, CountingRedis)
    before = redis.awaited
    answer = await services.auth.auth(AuthRequest(APP, username=name, proof=Passcode(code)))
    return answer.verdict.result.value, redis.awaited - before


async def test_a_passcode_costs_one_round_trip_with_or_without_groups(
        services: Services) -> None:
    """The rate limiters' admission and the decision computed from the process's copy of the
    user, in one write; after a group changed: that attempt refused as stale, the load, the
    group records re-read and the decision (four), then one again."""
    groups = GroupDirectory(services.store, services.clock)
    _, plain_code = await user_with_code(services, "plain")
    member_id, member_code = await user_with_code(services, "member")
    for name in ("one", "two"):
        group = await groups.create(GroupChanges(name=name))
        await groups.add_member(await services.users.get(member_id), group.group_id)
    for name, code in (("plain", plain_code), ("member", member_code)):
        await passcode(services, name, code)  # warm: name, settings and group caches
        assert await passcode(services, name, code) == ("allow", 1)
    await groups.update(group.group_id, GroupChanges(switches={"push_enabled": False}))
    assert await passcode(services, "member", member_code) == ("allow", 4)  # records re-read
    assert await passcode(services, "member", member_code) == ("allow", 1)


async def test_a_group_disabled_between_read_and_commit_denies_the_attempt(
        services: Services) -> None:
    groups = GroupDirectory(services.store, services.clock)
    user_id, code = await user_with_code(services, "racer")
    group = await groups.create(GroupChanges(name="staff"))
    await groups.add_member(await services.users.get(user_id), group.group_id)
    attempts = services.store.attempts
    decide, calls = attempts.decide, list[str]()

    async def change_first(*args: Any, **kwargs: Any) -> AttemptOutcome:
        if not calls:  # the admin's change lands after this decision read the user
            await groups.update(group.group_id, GroupChanges(status="disabled"))
        outcome = await decide(*args, **kwargs)
        calls.append(outcome.status.name)
        return outcome

    attempts.decide = change_first  # type: ignore[method-assign]
    result, _ = await passcode(services, "racer", code)
    # The user's state moved (its groups_v is part of the digest the decision names).
    assert (result, calls) == ("deny", ["STALE_VIEW", "DISABLED"])


async def test_an_unpermitted_user_is_refused_before_any_factor(services: Services) -> None:
    groups = GroupDirectory(services.store, services.clock)
    _, code = await user_with_code(services, "outsider")
    group = await groups.create(GroupChanges(name="staff"))
    limited = dataclasses.replace(APP, groups_allowed=(group.group_id,))
    answer = await services.auth.auth(AuthRequest(limited, username="outsider",
                                                  proof=Passcode(code)))
    assert (answer.verdict.result.value, answer.verdict.reason) == \
        ("deny", "user_not_in_permitted_group")
    assert (await passcode(services, "outsider", code))[0] == "allow"  # code not consumed
