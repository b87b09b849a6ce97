"""What API calls skip and keep: the middleware they pass by, the writes and queries a
busy token no longer makes, and the caches that must still follow every change."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from koers.api.models import ApiToken
from koers.api.services import api_token_authenticate, api_token_create
from koers.api.tests.client import bearer
from koers.core.models import RoleVisibility, User
from koers.core.services import role_visibility_set
from koers.crm.factories import ContactFactory


def test_an_api_call_ignores_the_session_and_speaks_the_token_users_language(sales_a, client_for):
    browser = client_for(sales_a)  # logged in: a session cookie goes along
    sales_a.language = "nl"
    sales_a.save(update_fields=["language"])
    _token, secret = api_token_create(user=sales_a, name="t", scopes=["contacts:read"], days=1)

    answer = browser.get("/api/v1/contacts", headers={"Authorization": "Bearer koers_wrong"})
    assert answer.status_code == 401  # the session does not stand in for a token
    assert "Cookie" in answer["Vary"]
    assert "sessionid" not in answer.cookies  # no session touched, none sent back

    answer = Client().get(
        "/api/v1/contacts/bulk-nothing", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code in (404, 405, 422)
    answer = Client().get("/api/v1/contacts?limit=0", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 422
    assert answer["Content-Language"] == "nl"
    assert answer.json()["message"] == "Sommige velden zijn niet geldig."


def test_an_api_call_before_its_token_is_known_speaks_the_installations_language(db):
    answer = Client().get("/api/v1/contacts")
    assert answer.status_code == 401
    assert answer["Content-Language"] == "nl"
    assert answer.json()["code"] == "unauthenticated"


def test_the_api_docs_page_still_takes_the_whole_way(db):
    answer = Client().get("/api/docs")
    assert answer.status_code == 200
    assert answer["X-Frame-Options"] == "DENY"  # from the clickjacking middleware


def test_unknown_api_paths_get_djangos_404(db):
    assert Client().get("/api/v1/nothing-here").status_code == 404


def test_a_busy_token_records_its_use_once_a_minute_not_on_every_call(sales_a):
    _token, secret = api_token_create(user=sales_a, name="t", scopes=["contacts:read"], days=1)
    api_token_authenticate(secret=secret)  # cached, and its use recorded

    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert api_token_authenticate(secret=secret) is not None

    assert queries.captured_queries == []
    assert ApiToken.objects.get().last_used_at is not None


def test_a_list_call_asks_the_database_only_for_the_page(sales_a):
    ContactFactory.create_batch(3, owner=sales_a)
    client = bearer(sales_a)
    assert client.get("/api/v1/contacts").status_code == 200  # token cached

    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/api/v1/contacts")

    assert len(answer.json()["results"]) == 3
    assert len(queries.captured_queries) == 1  # no token, role or last-used query


def test_a_cached_token_follows_a_change_of_what_its_role_sees(
    admin_user, sales_a, colleague_a, django_capture_on_commit_callbacks
):
    mine = ContactFactory(owner=sales_a)
    ContactFactory(owner=colleague_a)  # same team: visible while the role sees its team
    client = bearer(sales_a)
    assert len(client.get("/api/v1/contacts").json()["results"]) == 2

    with django_capture_on_commit_callbacks(execute=True):
        role_visibility_set(actor=admin_user, scopes={User.Role.SALES: RoleVisibility.Scope.OWN})

    results = client.get("/api/v1/contacts").json()["results"]
    assert [row["id"] for row in results] == [mine.pk]


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "koers.core.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
        }
    }
    from django.core.cache import cache

    cache.clear()
    yield cache
    cache.clear()


def test_the_redis_cache_counts_in_one_call_and_keeps_the_first_lifetime(redis_cache):
    assert [redis_cache.count("calls", 60) for _ in range(3)] == [1, 2, 3]
    client = redis_cache._cache.get_client(write=True)
    assert client is redis_cache._cache.get_client(write=True)  # one client, reused
    ttl = client.ttl(redis_cache.make_key("calls"))
    assert 0 < ttl <= 60


def test_the_rate_limit_refuses_the_call_over_the_limit_with_redis(
    sales_a, redis_cache, monkeypatch
):
    from koers.api import api as api_module

    monkeypatch.setattr(api_module, "RATE_LIMIT", 2)
    client = bearer(sales_a)
    with time_machine.travel(datetime(2026, 3, 2, 9, 30, 10, tzinfo=UTC), tick=False):
        statuses = [client.get("/api/v1/contacts").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_a_token_read_in_this_process_is_dropped_when_its_generation_moves(sales_a, monkeypatch):
    from django.core.cache import cache
    from django.utils import timezone

    from koers.api import services

    token, secret = api_token_create(user=sales_a, name="t", scopes=["contacts:read"], days=1)
    assert api_token_authenticate(secret=secret) is not None  # read here, and cached

    with CaptureQueriesContext(connection) as queries:
        assert api_token_authenticate(secret=secret) is not None
    assert queries.captured_queries == []  # from this process's copy

    # Revoked in another process: the row and the shared generation change, not the copy.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    cache.incr(f"api-token-generation:{token.secret_hash}")
    monkeypatch.setattr(services, "CHECK_EVERY_SECONDS", 0)  # as at the next check

    assert api_token_authenticate(secret=secret) is None


def test_a_copy_read_before_a_revoke_in_this_process_is_not_put_back(sales_a):
    import time

    from koers.api import services
    from koers.api.services import api_token_revoke

    token, secret = api_token_create(user=sales_a, name="t", scopes=["contacts:read"], days=1)
    drops = services._drops  # a call in another thread begins and reads the token

    api_token_revoke(user=sales_a, token=token)  # meanwhile, this process revokes it
    services._keep_here(token.secret_hash, (1, time.monotonic(), time.monotonic(), token), drops)

    assert token.secret_hash not in services._read_here
    assert api_token_authenticate(secret=secret) is None


def test_a_token_revoked_in_this_process_stops_at_once(sales_a):
    from koers.api.services import api_token_revoke

    token, secret = api_token_create(user=sales_a, name="t", scopes=["contacts:read"], days=1)
    assert api_token_authenticate(secret=secret) is not None  # read here

    api_token_revoke(user=sales_a, token=token)

    assert api_token_authenticate(secret=secret) is None  # within the second, too


def test_a_token_whose_generation_was_lost_is_read_again(sales_a):
    """A cache that lost the generation (evicted, flushed) after a revoke must not bring
    back a copy read before it."""
    from django.core.cache import cache

    from koers.api.services import api_token_revoke

    token, secret = api_token_create(user=sales_a, name="t", scopes=["contacts:read"], days=1)
    assert api_token_authenticate(secret=secret) is not None
    api_token_revoke(user=sales_a, token=token)
    cache.delete(f"api-token-generation:{token.secret_hash}")

    assert api_token_authenticate(secret=secret) is None
