"""A busy client's calls are told to the shared cache in batches, yet counted in full."""

from datetime import UTC, datetime

import time_machine
from django.core.cache import cache

from koers.core import limits

# Frozen within one minute: every call falls in the same window.
MINUTE = datetime(2026, 3, 2, 9, 30, 10, tzinfo=UTC)


def _told(name: str) -> int | None:
    """What the shared cache counted under `name` this minute."""
    return cache.get(limits._window_key(name, 60))


def test_calls_are_told_in_batches_of_a_tenth_of_what_is_left():
    with time_machine.travel(MINUTE, tick=False):
        assert not any(limits.over_limit_told_in_batches("test:a", 100) for _ in range(5))
        assert _told("test:a") == 1  # the first call; the next ones wait for more
        assert not any(limits.over_limit_told_in_batches("test:a", 100) for _ in range(5))
        assert _told("test:a") == 10  # nine waiting: a tenth of the 99 left, so told


def test_near_the_limit_every_call_is_told():
    with time_machine.travel(MINUTE, tick=False):
        answers = [limits.over_limit_told_in_batches("test:b", 3) for _ in range(5)]
        told = _told("test:b")

    assert answers == [False, False, False, True, True]
    assert told == 5


def test_calls_other_processes_made_count_once_this_one_tells_again(monkeypatch):
    with time_machine.travel(MINUTE, tick=False):
        assert not limits.over_limit_told_in_batches("test:c", 100)
        cache.incr(limits._window_key("test:c", 60), 200)  # as other processes told it
        assert not limits.over_limit_told_in_batches("test:c", 100)  # not heard of yet

        monkeypatch.setattr(limits, "TELL_EVERY_SECONDS", 0)  # as a second later
        assert limits.over_limit_told_in_batches("test:c", 100)
        assert _told("test:c") == 203


def test_room_is_made_from_tallies_with_nothing_to_tell(monkeypatch):
    monkeypatch.setattr(limits, "_tallies", {})
    monkeypatch.setattr(limits, "TALLIES_MAX", 2)
    with time_machine.travel(MINUTE, tick=False):
        limits.over_limit_told_in_batches("test:d", 100)  # told at once: nothing left
        limits.over_limit_told_in_batches("test:e", 100)
        limits.over_limit_told_in_batches("test:e", 100)  # one call waiting
        limits.over_limit_told_in_batches("test:f", 100)

        assert "test:d" not in limits._tallies
        assert limits._tallies["test:e"][2] == 1  # its waiting call is kept


def test_a_new_window_starts_a_new_count():
    with time_machine.travel(MINUTE, tick=False):
        assert [limits.over_limit_told_in_batches("test:g", 1) for _ in range(2)] == [False, True]
    with time_machine.travel(datetime(2026, 3, 2, 9, 31, 0, tzinfo=UTC), tick=False):
        assert not limits.over_limit_told_in_batches("test:g", 1)
        assert _told("test:g") == 1
