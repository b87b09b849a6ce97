"""Where accepted events wait to be stored: a Redis list, or a table without Redis.

A page must never wait for Koers, so the endpoint only appends a request's events here
(one Redis round trip that also counts the rate limits) and a background drain stores
them in bulk. Without Redis, as on a laptop with SQLite, the table plays the list.
"""

import functools
import json
import logging
import secrets
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from koers.core.limits import over_limit
from koers.tracking.models import Inbox

logger = logging.getLogger(__name__)
QUEUE = "koers:tracking:inbox"
LOCK = "koers:tracking:drain"
SCHEDULED = "koers:tracking:drain-scheduled"

# KEYS: visitor counter, address counter, queue, drain-scheduled flag
# ARGV: record, visitor limit, address limit, milliseconds between drains
# Returns -1 when a limit is reached (nothing queued), 1 when a drain should be queued.
_ACCEPT = """
local visitor = redis.call('INCR', KEYS[1])
if visitor == 1 then redis.call('EXPIRE', KEYS[1], 60) end
local address = redis.call('INCR', KEYS[2])
if address == 1 then redis.call('EXPIRE', KEYS[2], 60) end
if visitor > tonumber(ARGV[2]) or address > tonumber(ARGV[3]) then return -1 end
redis.call('RPUSH', KEYS[3], ARGV[1])
if redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[4]) then return 1 end
return 0
"""


# Compare-and-act on the drain's lock: only its holder may extend or release it.
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
LOCK_SECONDS = 300


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


@functools.cache
def _accept_script():
    return _redis().register_script(_ACCEPT)


def _extend_lock(**call):
    return _redis().register_script(_EXTEND)(**call)


def _release_lock(**call):
    return _redis().register_script(_RELEASE)(**call)


def _rate_keys(visitor: str, address: str) -> tuple[str, str]:
    return f"koers:tracking:rate:v:{visitor}", f"koers:tracking:rate:a:{address}"


def accept(record: dict, *, visitor: str, address: str) -> bool | None:
    """Queue one request's record. None: over a rate limit, nothing queued; True: queued,
    and a drain should be scheduled; False: queued, a drain is already on its way."""
    limits = settings.KOERS_TRACKING_RATE_VISITOR, settings.KOERS_TRACKING_RATE_ADDRESS
    delay_ms = int(settings.KOERS_TRACKING_DRAIN_DELAY * 1000)
    payload = json.dumps(record, separators=(",", ":"))
    if settings.REDIS_URL:
        result = _accept_script()(
            keys=[*_rate_keys(visitor, address), QUEUE, SCHEDULED],
            args=[payload, *limits, max(delay_ms, 1)],
        )
        return None if result == -1 else bool(result) or delay_ms == 0
    # Both counted, as the Redis script does: a visitor id made up per request is still
    # held by its address's limit.
    if over_limit(f"v:{visitor}", limits[0]) | over_limit(f"a:{address}", limits[1]):
        return None
    Inbox.objects.create(payload=payload)
    return delay_ms == 0 or cache.add(SCHEDULED, 1, delay_ms / 1000)


def drain(store: Callable[[list[dict]], None], *, batch: int = 2000, max_batches: int = 50) -> int:
    """Hand waiting records to `store` in batches, oldest first; returns how many, or -1
    when another drain holds the queue.

    One drain runs at a time. A batch is removed from the queue only after `store` has
    committed it, so a crash loses nothing (with Redis it may store a batch twice).
    """
    done = 0
    if settings.REDIS_URL:
        client = _redis()
        token = secrets.token_hex(8)
        if not client.set(LOCK, token, nx=True, ex=LOCK_SECONDS):
            return -1
        try:
            for _ in range(max_batches):
                raw = client.lrange(QUEUE, 0, batch - 1)
                if not raw:
                    break
                _store_safely(store, [json.loads(item) for item in raw])
                # Trim only while still holding the lock: after losing it to a stalled
                # run's timeout, another drain owns the queue's head.
                if not _renew_lock(client, token):
                    logger.error("tracking: the drain lost its lock; stopping")
                    break
                client.ltrim(QUEUE, len(raw), -1)
                done += len(raw)
        finally:
            _release_lock(keys=[LOCK], args=[token], client=client)
        return done
    for _ in range(max_batches):
        with transaction.atomic():
            rows = list(Inbox.objects.select_for_update(skip_locked=True).order_by("pk")[:batch])
            if not rows:
                break
            _store_safely(store, [json.loads(row.payload) for row in rows])
            Inbox.objects.filter(pk__in=[row.pk for row in rows]).delete()
        done += len(rows)
    return done


def _renew_lock(client: redis.Redis, token: str) -> bool:
    return bool(_extend_lock(keys=[LOCK], args=[token, LOCK_SECONDS], client=client))


def _store_safely(store: Callable[[list[dict]], None], records: list[dict]) -> None:
    """Store a batch; if it fails, each record alone, so one bad record cannot block the
    queue: what still fails is logged and dropped."""
    try:
        with transaction.atomic():
            store(records)
    except Exception:
        logger.exception("tracking: a batch failed; storing its records one by one")
        for record in records:
            try:
                with transaction.atomic():
                    store([record])
            except Exception:
                logger.exception("tracking: dropped a record that cannot be stored")


def waiting() -> int:
    """How many requests' records wait to be stored."""
    if settings.REDIS_URL:
        return _redis().llen(QUEUE)
    return Inbox.objects.count()
