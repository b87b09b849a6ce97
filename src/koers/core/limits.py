"""Counting calls per minute (or any window) in the cache: the API's tokens, the public
tracking endpoints."""

import threading
import time

from django.core.cache import cache


def _window_key(name: str, window: int) -> str:
    # Each window has its own key, so a count never outlives its window (whatever timeout
    # the cache gives a key it increments).
    return f"koers:limit:{name}:{int(time.time() // window)}"


def _count(key: str, window: int, calls: int = 1) -> int:
    """Add `calls` to the count under `key`; return the count."""
    if hasattr(cache, "count"):  # Redis (koers.core.cache): one round trip
        return cache.count(key, window * 2, calls)
    if cache.add(key, calls, window * 2):
        return calls
    try:
        return cache.incr(key, calls)
    except ValueError:  # expired between add and incr
        cache.add(key, calls, window * 2)
        return calls


def over_limit(name: str, limit: int, *, window: int = 60) -> bool:
    """Count one more request under `name` in the current window of `window` seconds;
    True when that makes more than `limit`."""
    return _count(_window_key(name, window), window) > limit


# The calls of the busiest counters are told to the cache in batches: name → [window key,
# the count the cache last gave, calls since, when told (monotonic), window].
_tallies: dict[str, list] = {}
_tallies_lock = threading.Lock()
TELL_EVERY_SECONDS = 1.0
# A batch is at most this share of what the cache's count left of the limit: a process
# that has not heard of the others' calls may so pass the limit by a tenth of it at most.
TELL_SHARE = 10
TALLIES_MAX = 1000


def over_limit_told_in_batches(name: str, limit: int, *, window: int = 60) -> bool:
    """As over_limit, for a client that may call many times a second (an API token): this
    process adds its calls to the cache's count once a second, or sooner when they make a
    tenth of what is left of the limit, instead of on every call. Each process may so
    pass the limit by a tenth of it before it learns of the others' calls."""
    key, now = _window_key(name, window), time.monotonic()
    with _tallies_lock:
        tally = _tallies.get(name)
        if tally is None or tally[0] != key:
            if len(_tallies) >= TALLIES_MAX:
                _forget_tallies()
            tally = _tallies[name] = [key, 0, 0, float("-inf"), window]
        tally[2] += 1
        batch = max(1, (limit - tally[1]) // TELL_SHARE)
        if now - tally[3] < TELL_EVERY_SECONDS and tally[2] < batch:
            return False
        calls, tally[2], tally[3] = tally[2], 0, now
    count = _count(key, window, calls)
    with _tallies_lock:
        tally[1] = max(tally[1], count)
    return count > limit


def _forget_tallies() -> None:
    """Make room: first the tallies with no calls to tell or of a window that is over,
    then, if a thousand are busy in this window, all of them (losing a second of calls)."""
    for name, tally in list(_tallies.items()):
        if tally[2] == 0 or tally[0] != _window_key(name, tally[4]):
            del _tallies[name]
    if len(_tallies) >= TALLIES_MAX:
        _tallies.clear()


def seconds_left(*, window: int = 60) -> int:
    """Until the current window ends: what a refused caller is told to wait."""
    return window - int(time.time()) % window
