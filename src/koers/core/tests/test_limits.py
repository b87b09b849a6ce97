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


def test_calls_are_told_at_first_and_from_the_one_that_reaches_the_limit():
    with time_machine.travel(MINUTE, tick=False):
        answers = [limits.over_limit_told_in_batches("test:a", 3) for _ in range(5)]
        told = _told("test:a")

    assert answers == [False, False, False, True, True]
    assert told == 5  # the two between were told along with the fourth


def test_calls_other_processes_made_count_once_this_one_tells_again(monkeypatch):
    with time_machine.travel(MINUTE, tick=False):
        assert not limits.over_limit_told_in_batches("test:b", 3)
        cache.incr(limits._window_key("test:b", 60), 5)  # as other processes told it

        monkeypatch.setattr(limits, "TELL_EVERY_SECONDS", 0)  # as a second later
        assert limits.over_limit_told_in_batches("test:b", 3)
        assert _told("test:b") == 7


def test_a_new_window_starts_a_new_count():
    with time_machine.travel(MINUTE, tick=False):
        assert [limits.over_limit_told_in_batches("test:c", 1) for _ in range(2)] == [False, True]
    with time_machine.travel(datetime(2026, 3, 2, 9, 31, 0, tzinfo=UTC), tick=False):
        assert not limits.over_limit_told_in_batches("test:c", 1)
        assert _told("test:c") == 1
