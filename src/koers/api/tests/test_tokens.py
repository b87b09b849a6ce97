import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from koers.api.models import ApiToken
from koers.api.services import api_token_authenticate, api_token_create, api_token_revoke

LIST_URL = reverse("api:token-list")


def _make(user, **fields):
    values = {"name": "Website form", "scopes": ["contacts:read"], "days": 90} | fields
    return api_token_create(user=user, **values)


def test_token_create_shows_the_secret_once(sales_a, client_for):
    client = client_for(sales_a)

    response = client.post(
        LIST_URL,
        {"name": "Website form", "scopes": ["contacts:read", "contacts:write"], "days": "30"},
    )

    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("koers_")
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=sales_a)
    assert token.name == "Website form"
    assert token.scopes == ["contacts:read", "contacts:write"]
    assert token.expires_at.date() == (timezone.now() + timedelta(days=30)).date()
    again = client.get(LIST_URL)
    assert again.status_code == 200
    assert secret not in again.content.decode()
    assert token.prefix in again.content.decode()
    assert secret not in str(dict(client.session))


def test_token_create_stores_only_a_hash_of_the_secret(sales_a):
    token, secret = _make(sales_a)

    stored = ApiToken.objects.filter(pk=token.pk).values().get()

    assert all(secret not in str(value) for value in stored.values())
    assert secret.startswith(stored["prefix"])
    assert len(stored["secret_hash"]) == 64


def test_token_authenticate_accepts_the_secret_and_records_its_use(sales_a):
    token, secret = _make(sales_a)

    found = api_token_authenticate(secret=secret)

    assert found == token
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_token_authenticate_refuses_a_wrong_secret(sales_a):
    _token, secret = _make(sales_a)

    assert api_token_authenticate(secret=secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert api_token_authenticate(secret="") is None
    assert api_token_authenticate(secret=secret.removeprefix("koers_")) is None


def test_token_authenticate_refuses_a_revoked_token(sales_a):
    token, secret = _make(sales_a)

    api_token_revoke(user=sales_a, token=token)

    assert api_token_authenticate(secret=secret) is None


def test_token_authenticate_refuses_an_expired_token(sales_a):
    _token, secret = _make(sales_a, days=30)

    with time_machine.travel(timezone.now() + timedelta(days=30, seconds=1)):
        assert api_token_authenticate(secret=secret) is None
    with time_machine.travel(timezone.now() + timedelta(days=29)):
        assert api_token_authenticate(secret=secret) is not None


def test_token_authenticate_refuses_an_inactive_users_token(sales_a):
    _token, secret = _make(sales_a)
    sales_a.is_active = False
    sales_a.save(update_fields=["is_active"])

    assert api_token_authenticate(secret=secret) is None


def test_token_list_shows_revoked_and_expired_tokens_as_such(sales_a, client_for):
    revoked, _secret = _make(sales_a, name="Old script")
    api_token_revoke(user=sales_a, token=revoked)
    expired, _secret = _make(sales_a, name="Last year", days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    active, _secret = _make(sales_a, name="Website form")

    response = client_for(sales_a).get(LIST_URL)

    assert [token.name for token in response.context["tokens"]] == [
        "Website form",
        "Last year",
        "Old script",
    ]
    html = response.content.decode()
    assert f'data-testid="revoke-{active.pk}"' in html
    assert f'data-testid="revoke-{revoked.pk}"' not in html
    assert f'data-testid="revoke-{expired.pk}"' not in html
    assert ">revoked<" in html
    assert ">expired<" in html
    assert ">active<" in html


def test_token_list_shows_only_own_tokens(sales_a, sales_b, client_for):
    _make(sales_b, name="Fleur's script")

    response = client_for(sales_a).get(LIST_URL)

    assert list(response.context["tokens"]) == []
    assert "Fleur&#x27;s script" not in response.content.decode()


def test_token_revoke_stops_the_token(sales_a, client_for):
    token, secret = _make(sales_a)

    response = client_for(sales_a).post(reverse("api:token-revoke", args=[token.pk]))

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_authenticate(secret=secret) is None


def test_token_revoke_of_another_users_token_is_404(sales_a, sales_b, client_for):
    token, secret = _make(sales_b)

    response = client_for(sales_a).post(reverse("api:token-revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert api_token_authenticate(secret=secret) == token


def test_token_revoke_refuses_get(sales_a, client_for):
    token, _secret = _make(sales_a)

    response = client_for(sales_a).get(reverse("api:token-revoke", args=[token.pk]))

    assert response.status_code == 405


def test_token_create_refuses_write_scopes_for_a_read_only_user(read_only_a, client_for):
    client = client_for(read_only_a)

    page = client.get(LIST_URL)
    response = client.post(
        LIST_URL, {"name": "Script", "scopes": ["contacts:read", "contacts:write"], "days": "90"}
    )

    boxes = dict(
        re.findall(
            r'<input type="checkbox" name="scopes" value="([a-z:]+)"([^>]*)>', page.content.decode()
        )
    )
    assert sorted(box for box, attrs in boxes.items() if "disabled" in attrs) == [
        "activities:write",
        "companies:write",
        "contacts:write",
        "deals:write",
        "events:write",
        "imports:write",
        "pipelines:write",
    ]
    # Seven kinds, read and write, except campaigns: the API only reads them.
    assert len(boxes) == 15
    assert "campaigns:write" not in boxes
    assert response.context["secret"] is None
    assert list(response.context["form"].errors) == ["scopes"]
    assert not ApiToken.objects.exists()
    with pytest.raises(ValidationError) as error:
        api_token_create(user=read_only_a, name="Script", scopes=["companies:write"], days=90)
    assert list(error.value.message_dict) == ["scopes"]


def test_token_create_allows_read_scopes_for_a_read_only_user(read_only_a, client_for):
    response = client_for(read_only_a).post(
        LIST_URL, {"name": "Report", "scopes": ["companies:read", "contacts:read"], "days": "365"}
    )

    assert response.context["secret"]
    assert ApiToken.objects.get(user=read_only_a).scopes == ["companies:read", "contacts:read"]


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"name": "", "scopes": ["contacts:read"], "days": "90"}, ["name"]),
        ({"name": "   ", "scopes": ["contacts:read"], "days": "90"}, ["name"]),
        ({"name": "Script", "days": "90"}, ["scopes"]),
        ({"name": "Script", "scopes": ["invoices:read"], "days": "90"}, ["scopes"]),
        ({"name": "Script", "scopes": ["campaigns:write"], "days": "90"}, ["scopes"]),
        ({"name": "Script", "scopes": ["contacts:read"], "days": "0"}, ["days"]),
        ({}, ["name", "scopes", "days"]),
    ],
)
def test_token_create_with_bad_input_names_the_fields(sales_a, client_for, data, fields):
    response = client_for(sales_a).post(LIST_URL, data)

    assert response.status_code == 200
    assert response.context["secret"] is None
    assert sorted(response.context["form"].errors) == sorted(fields)
    assert 'data-testid="form-errors"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_token_create_service_refuses_bad_input(sales_a):
    with pytest.raises(ValidationError) as error:
        api_token_create(user=sales_a, name=" ", scopes=[], days=0)

    assert sorted(error.value.message_dict) == ["days", "name", "scopes"]


def test_profile_links_to_the_tokens_page(sales_a, client_for):
    response = client_for(sales_a).get(reverse("core:profile"))

    assert LIST_URL in response.content.decode()


def test_a_cached_token_stops_working_at_once_when_its_user_is_deactivated(
    admin_user, sales_a, django_capture_on_commit_callbacks
):
    from koers.core.services import user_update

    _token, secret = api_token_create(user=sales_a, name="sync", scopes=["contacts:read"], days=30)
    assert api_token_authenticate(secret=secret) is not None  # now in the cache

    with django_capture_on_commit_callbacks(execute=True):
        user_update(actor=admin_user, user=sales_a, is_active=False)

    assert api_token_authenticate(secret=secret) is None


def test_a_cached_token_stops_working_at_once_when_revoked(sales_a):
    token, secret = api_token_create(user=sales_a, name="sync", scopes=["contacts:read"], days=30)
    assert api_token_authenticate(secret=secret) is not None  # now in the cache

    api_token_revoke(user=sales_a, token=token)

    assert api_token_authenticate(secret=secret) is None


def test_a_stale_copy_cached_while_the_token_was_revoked_is_not_used(sales_a):
    from django.core.cache import cache

    token, secret = api_token_create(user=sales_a, name="sync", scopes=["contacts:read"], days=30)
    assert api_token_authenticate(secret=secret) is not None
    key = f"api-token:{token.secret_hash}"
    before = cache.get(key)

    api_token_revoke(user=sales_a, token=token)
    cache.set(key, before)  # a request that read the row before the revoke caches it late

    assert api_token_authenticate(secret=secret) is None
