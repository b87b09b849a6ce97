"""Counting calls per minute (or any window) in the cache: the API's tokens, the public
tracking endpoints."""

import time

from django.core.cache import cache


def over_limit(name: str, limit: int, *, window: int = 60) -> bool:
    """Count one more request under `name` in the current window of `window` seconds;
    True when that makes more than `limit`. Each window has its own key, so a count never
    outlives its window (whatever timeout the cache gives a key it increments)."""
    key = f"koers:limit:{name}:{int(time.time() // window)}"
    if hasattr(cache, "count"):  # Redis (koers.core.cache): one round trip
        return cache.count(key, window * 2) > limit
    if cache.add(key, 1, window * 2):
        return limit < 1
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window * 2)
        return False


def seconds_left(*, window: int = 60) -> int:
    """Until the current window ends: what a refused caller is told to wait."""
    return window - int(time.time()) % window
