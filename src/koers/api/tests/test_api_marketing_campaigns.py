"""Marketing campaigns over the REST API: scopes, who may set them up, round trips,
every bad field named, Idempotency-Key."""

from datetime import date
from decimal import Decimal

import pytest

from koers.api.scopes import all_scopes
from koers.api.tests.client import bearer, call
from koers.core.models import User
from koers.tracking.models import Campaign

BASE = "/api/v1/marketing-campaigns"
ENDPOINTS = [
    ("get", BASE, "read"),
    ("get", BASE + "/{id}", "read"),
    ("post", BASE, "write"),
    ("patch", BASE + "/{id}", "write"),
    ("delete", BASE + "/{id}", "write"),
]


@pytest.fixture
def marketer(make_user, team_a):
    return make_user(User.Role.MARKETING, team_a, username="noor")


@pytest.fixture
def campaign(db):
    return Campaign.objects.create(
        name="Beurs Utrecht",
        channel=Campaign.Channel.EVENT,
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 3, 3),
        spend=Decimal("2500.00"),
        utm_campaign="beurs-2026",
    )


@pytest.mark.parametrize(("method", "path", "access"), ENDPOINTS)
def test_a_token_without_the_scope_is_refused_on_every_endpoint(
    marketer, campaign, method, path, access
):
    scopes = [scope for scope in all_scopes() if scope != f"marketing_campaigns:{access}"]
    body = {"name": "Nieuw", "channel": "social"}

    response = call(bearer(marketer, scopes), method, path.format(id=campaign.pk), body)

    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert f"marketing_campaigns:{access}" in response.json()["message"]
    assert Campaign.objects.count() == 1
    campaign.refresh_from_db()
    assert campaign.name == "Beurs Utrecht"


def test_everyone_reads_campaigns_filtered_by_channel_page_by_page(sales_b, campaign):
    Campaign.objects.create(name="Zoekadvertenties", channel=Campaign.Channel.SEARCH_ADS)
    Campaign.objects.create(name="Webinar AI", channel=Campaign.Channel.WEBINAR)
    client = bearer(sales_b)

    first = client.get(f"{BASE}?sort=name&limit=2").json()
    rest = client.get(f"{BASE}?sort=name&limit=2&cursor={first['next']}").json()
    events = client.get(f"{BASE}?channel=event").json()
    one = client.get(f"{BASE}/{campaign.pk}").json()

    names = [row["name"] for row in first["results"] + rest["results"]]
    assert names == ["Beurs Utrecht", "Webinar AI", "Zoekadvertenties"]
    assert rest["next"] is None
    assert [row["id"] for row in events["results"]] == [campaign.pk]
    assert one == {
        "id": campaign.pk,
        "name": "Beurs Utrecht",
        "channel": "event",
        "starts_on": "2026-03-01",
        "ends_on": "2026-03-03",
        "spend": "2500.00",
        "utm_campaign": "beurs-2026",
        "owner_id": None,
        "created_at": one["created_at"],
    }


def test_sales_of_any_team_may_not_set_up_campaigns_and_change_nothing(sales_b, campaign):
    # A read-only user cannot even be given a write token (see test_tokens).
    client = bearer(sales_b)

    made = call(client, "post", BASE, {"name": "Nieuw", "channel": "social"})
    changed = call(client, "patch", f"{BASE}/{campaign.pk}", {"name": "Anders"})
    deleted = call(client, "delete", f"{BASE}/{campaign.pk}")

    assert made.status_code == changed.status_code == deleted.status_code == 403
    assert made.json() == {
        "code": "forbidden",
        "message": "Only admins, managers and marketing may set up websites and campaigns.",
        "errors": [],
    }
    campaign.refresh_from_db()
    assert campaign.name == "Beurs Utrecht"
    assert Campaign.objects.count() == 1


def test_marketing_creates_changes_and_deletes_a_campaign(marketer, manager):
    client = bearer(marketer)
    body = {
        "name": " Voorjaarsmailing ",
        "channel": "email",
        "starts_on": "2026-04-01",
        "ends_on": "2026-04-30",
        "spend": "750.5",
        "utm_campaign": "Voorjaar-2026",
        "owner_id": manager.pk,
    }

    made = call(client, "post", BASE, body)
    pk = made.json()["id"]
    changed = call(client, "patch", f"{BASE}/{pk}", {"spend": "900", "ends_on": None})
    read = client.get(f"{BASE}/{pk}")
    deleted = call(client, "delete", f"{BASE}/{pk}")
    gone = client.get(f"{BASE}/{pk}")

    assert made.status_code == 201
    assert {key: made.json()[key] for key in body} == {
        "name": "Voorjaarsmailing",
        "channel": "email",
        "starts_on": "2026-04-01",
        "ends_on": "2026-04-30",
        "spend": "750.50",
        "utm_campaign": "voorjaar-2026",
        "owner_id": manager.pk,
    }
    assert changed.status_code == 200
    assert (changed.json()["spend"], changed.json()["ends_on"]) == ("900.00", None)
    assert changed.json()["name"] == "Voorjaarsmailing"  # what was not sent stays
    assert changed.json()["owner_id"] == manager.pk
    assert read.json() == changed.json()
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert gone.json()["code"] == "not_found"
    assert not Campaign.objects.exists()


def test_every_bad_field_of_a_campaign_is_named_at_once(marketer, campaign):
    client = bearer(marketer)

    schema = call(
        client, "post", BASE, {"name": "X", "channel": "pigeon", "spend": "-1", "owner_id": 0}
    )
    rules = call(
        client,
        "post",
        BASE,
        {
            "name": "  ",
            "channel": "social",
            "utm_campaign": "BEURS-2026",
            "starts_on": "2026-05-02",
            "ends_on": "2026-05-01",
        },
    )
    patched = call(
        client, "patch", f"{BASE}/{campaign.pk}", {"ends_on": "2026-01-01", "name": "  "}
    )

    assert schema.status_code == rules.status_code == patched.status_code == 422
    assert {error["field"] for error in schema.json()["errors"]} == {
        "channel",
        "spend",
        "owner_id",
    }
    assert rules.json()["errors"] == [
        {"field": "name", "message": "Give the campaign a name."},
        {
            "field": "utm_campaign",
            "message": "Another campaign already uses this UTM campaign value.",
        },
        {"field": "ends_on", "message": "The campaign cannot end before it starts."},
    ]
    assert {error["field"] for error in patched.json()["errors"]} == {"name", "ends_on"}
    assert Campaign.objects.count() == 1
    campaign.refresh_from_db()
    assert (campaign.name, campaign.ends_on) == ("Beurs Utrecht", date(2026, 3, 3))


def test_a_replayed_post_with_the_same_idempotency_key_creates_nothing_new(marketer):
    client = bearer(marketer)
    body = {"name": "LinkedIn najaar", "channel": "social"}

    first = call(client, "post", BASE, body, **{"Idempotency-Key": "mc-1"})
    again = call(client, "post", BASE, body, **{"Idempotency-Key": "mc-1"})
    other = call(
        client, "post", BASE, {"name": "Anders", "channel": "social"}, **{"Idempotency-Key": "mc-1"}
    )

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Campaign.objects.count() == 1
