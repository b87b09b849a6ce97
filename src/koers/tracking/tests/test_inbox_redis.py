"""The queue as deployed: Redis (a database of its own on the local server)."""

import json

import pytest
import redis
from django.test import Client

from koers.tracking import inbox, ingest, tokens
from koers.tracking.models import Event, Site
from koers.tracking.services.events import events_store

REDIS_URL = "redis://127.0.0.1:6379/12"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


@pytest.fixture
def queue(settings):
    settings.REDIS_URL = REDIS_URL
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    inbox._redis.cache_clear()
    inbox._accept_script.cache_clear()
    ingest._sites.clear()
    yield client
    client.flushdb()
    inbox._redis.cache_clear()
    inbox._accept_script.cache_clear()


@pytest.fixture
def site(db):
    return Site.objects.create(name="Web", allowed_domains="example.nl")


def post(site, visitor="Vis1tor-abcdefghijklm", page="page12345"):
    body = {
        "s": tokens.site_token(site),
        "v": visitor,
        "e": [{"k": "page_view", "u": "https://example.nl/", "t": "Home", "r": "", "p": page}],
    }
    return Client().post(
        "/t/e", json.dumps(body), content_type="text/plain", HTTP_USER_AGENT=BROWSER
    )


def test_requests_queue_in_redis_and_a_drain_stores_them_once(queue, site):
    for number in range(5):
        assert post(site, page=f"page1234{number}").status_code == 204
    # Tests drain when events arrive; here the queue is emptied by that drain.
    assert Event.objects.count() == 5
    assert queue.llen(inbox.QUEUE) == 0
    assert inbox.drain(events_store) == 0
    assert Event.objects.count() == 5


def test_a_drain_leaves_the_queue_to_one_already_at_work(queue, site, settings):
    settings.KOERS_TRACKING_DRAIN_DELAY = 60  # nothing drains by itself
    post(site)
    queue.set(inbox.LOCK, "someone-else")
    assert inbox.drain(events_store) == -1
    assert queue.llen(inbox.QUEUE) == 1
    assert queue.get(inbox.LOCK) == b"someone-else"  # not released by the one that left
    queue.delete(inbox.LOCK)
    assert inbox.drain(events_store) == 1
    assert Event.objects.count() == 1
    assert queue.get(inbox.LOCK) is None


def test_the_rate_limit_counts_in_redis(queue, site, settings):
    settings.KOERS_TRACKING_RATE_VISITOR = 2
    statuses = [post(site, page=f"page1234{n}").status_code for n in range(4)]
    assert statuses == [204, 204, 429, 429]
    assert Event.objects.count() == 2
