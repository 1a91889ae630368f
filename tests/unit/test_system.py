"""The id generator: ids made later sort after earlier ones, whatever the clock does."""

from __future__ import annotations

from ocp.adapters.system import TimeOrderedIds

A_MILLISECOND_NS = 1_767_225_600_000 * 1_000_000


def test_ids_keep_sorting_when_the_counter_wraps_within_one_millisecond():
    ids = TimeOrderedIds(clock_ns=lambda: A_MILLISECOND_NS)  # the clock stands still
    ids._counter = (1 << 24) - 3  # three ids before the 24-bit counter wraps
    made = [ids.new_id() for _ in range(8)]
    assert made == sorted(made) and len(set(made)) == len(made)
    assert all(len(i) == 24 for i in made)


def test_ids_keep_sorting_when_the_clock_steps_back():
    now = [A_MILLISECOND_NS]
    ids = TimeOrderedIds(clock_ns=lambda: now[0])
    first = ids.new_id()
    now[0] -= 5_000 * 1_000_000  # five seconds back
    ids._counter = (1 << 24) - 1
    after_step = [ids.new_id() for _ in range(3)]
    assert [first, *after_step] == sorted([first, *after_step])
    assert len({first, *after_step}) == 4
