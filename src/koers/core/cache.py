"""Django's Redis cache, made cheaper per call for the endpoints that hit it on every
request (API tokens and rate limits, tracking's limits)."""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _Client(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        # Django builds a new redis.Redis around the pool on every call, which costs more
        # than the call itself on loopback; a client is thread-safe, so one per pool will do.
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def count(self, key, timeout: int, calls: int) -> int:
        # SET NX starts the counter with its lifetime (EXPIRE NX would need Redis 7).
        with self.get_client(key, write=True).pipeline(transaction=False) as pipe:
            pipe.set(key, 0, ex=timeout, nx=True)
            pipe.incrby(key, calls)
            return pipe.execute()[1]


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _Client

    def count(self, key: str, timeout: int, calls: int = 1) -> int:
        """Add `calls` to the counter `key` (made with a lifetime of `timeout` seconds) and
        return it, in one round trip."""
        return self._cache.count(self.make_and_validate_key(key), timeout, calls)
