"""The contract of the audit trail, run on every adapter; each module running it gives an
`audit_log` fixture."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocp.domain.audit import AuditEntry

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def an_entry(n: int, actor: str = "admin", target: str = "u1", action: str = "user.deactivated"):
    return AuditEntry(
        id=f"evt_{n:04d}",
        at=NOW + timedelta(seconds=n),
        action=action,
        actor_id=actor,
        target_type="user",
        target_id=target,
        changes={"is_active": [True, False]},
        request_id=f"req-{n}",
    )


class AuditLogContract:
    async def test_entries_read_back_newest_first_and_an_append_again_changes_nothing(
        self, audit_log
    ):
        entries = [an_entry(n) for n in range(1, 6)]
        await audit_log.append(entries[:3])
        again = [an_entry(2, actor="someone-else"), *entries[3:]]  # a retried fan-out
        await audit_log.append(again)
        found = await audit_log.list_before(
            actor_id=None, target_id=None, action=None, before_id=None, limit=10
        )
        assert found == list(reversed(entries))  # the first write of evt_0002 stands
        page = await audit_log.list_before(
            actor_id=None, target_id=None, action=None, before_id="evt_0004", limit=2
        )
        assert [e.id for e in page] == ["evt_0003", "evt_0002"]

    async def test_filters_combine(self, audit_log):
        await audit_log.append(
            [
                an_entry(1, actor="a1", target="t1", action="user.deactivated"),
                an_entry(2, actor="a1", target="t2", action="user.role_changed"),
                an_entry(3, actor="a2", target="t1", action="user.role_changed"),
            ]
        )

        async def ids(**filters):
            query = {"actor_id": None, "target_id": None, "action": None} | filters
            found = await audit_log.list_before(before_id=None, limit=10, **query)
            return [e.id for e in found]

        assert await ids(actor_id="a1") == ["evt_0002", "evt_0001"]
        assert await ids(target_id="t1") == ["evt_0003", "evt_0001"]
        assert await ids(action="user.role_changed", actor_id="a2") == ["evt_0003"]
        assert await ids(actor_id="nobody") == []
