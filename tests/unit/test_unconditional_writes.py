"""A PATCH without If-Match is unconditional (API.md): a change another request made in the
meantime makes it apply again to the latest version, never answer 412. Found by the mixed
workload benchmark (concurrent profile edits of one user)."""

from __future__ import annotations

import pytest

from ocp.domain.errors import StaleVersion
from ocp.domain.users import ProfileChanges
from tests.builders import signed_up


async def test_a_profile_edit_without_if_match_wins_over_a_concurrent_one(client, container):
    me = await signed_up(client, container)
    users, identity = container.users(), container.profile_service()
    first, second = await users.get(me.id), await users.get(me.id)  # both read version 1
    await identity.update_profile(first, ProfileChanges(full_name="First"))
    saved = await identity.update_profile(second, ProfileChanges(bio="second"))
    stored = await users.get(me.id)
    assert (stored.full_name, stored.bio, stored.version) == ("First", "second", saved.version)
    assert stored.version == 3


async def test_a_profile_edit_with_a_stale_if_match_is_refused(client, container):
    me = await signed_up(client, container)
    users, identity = container.users(), container.profile_service()
    first, second = await users.get(me.id), await users.get(me.id)
    await identity.update_profile(first, ProfileChanges(full_name="First"))
    with pytest.raises(StaleVersion):
        await identity.update_profile(second, ProfileChanges(bio="late"), if_match=1)
