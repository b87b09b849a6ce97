"""Events over the API: reported in batches, read back, only for contacts one may see."""

import pytest

from koers.api.tests.client import bearer, call
from koers.crm.factories import ContactFactory
from koers.scoring.models import EngagementScore
from koers.tracking.models import Event


@pytest.fixture
def mine(sales_a):
    return ContactFactory(owner=sales_a, email="eva@example.nl")


@pytest.fixture
def theirs(sales_b):
    return ContactFactory(owner=sales_b, email="joost@example.nl")


@pytest.mark.parametrize(
    ("method", "path", "access"),
    [
        ("get", "/api/v1/events", "read"),
        ("get", "/api/v1/events/{id}", "read"),
        ("post", "/api/v1/events", "write"),
    ],
)
def test_a_token_without_the_scope_is_refused(sales_a, mine, method, path, access):
    event = Event.objects.create(kind="page_view", contact=mine, occurred_at=mine.created_at)
    other = "write" if access == "read" else "read"
    client = bearer(sales_a, ["contacts:read", "contacts:write", f"events:{other}"])
    body = {"events": [{"kind": "download", "contact_id": mine.pk}]}
    response = call(client, method, path.format(id=event.pk), body)
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert Event.objects.count() == 1


def test_a_batch_stores_what_it_can_and_names_what_it_cannot(
    sales_a, mine, theirs, django_capture_on_commit_callbacks
):
    body = {
        "events": [
            {"kind": "quote_view", "email": "EVA@example.nl", "title": "Offerte 12"},
            {"kind": "download", "contact_id": theirs.pk},  # another team's contact
            {"kind": "page_view", "email": "nobody@example.nl"},
            {"kind": "page_view"},
            {"kind": "page_view", "contact_id": mine.pk, "occurred_at": "2999-01-01T00:00:00Z"},
        ]
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = call(bearer(sales_a), "post", "/api/v1/events", body)

    data = response.json()
    assert (data["stored"], data["failed"]) == (1, 4)
    assert [(r["status"], [e["field"] for e in r["errors"]]) for r in data["results"]] == [
        ("stored", []),
        ("error", ["contact_id"]),
        ("error", ["email"]),
        ("error", ["contact_id"]),
        ("error", ["occurred_at"]),
    ]
    event = Event.objects.get()
    assert (event.kind, event.contact, event.title) == ("quote_view", mine, "Offerte 12")
    assert EngagementScore.objects.get(contact=mine).score > 0  # counts like a tracked event


def test_a_batch_takes_at_most_a_thousand_events(sales_a, mine):
    body = {"events": [{"kind": "page_view", "contact_id": mine.pk}] * 1001}
    response = call(bearer(sales_a), "post", "/api/v1/events", body)
    assert response.status_code == 422
    assert not Event.objects.exists()


def test_stage_changes_cannot_be_reported(sales_a, mine):
    body = {"events": [{"kind": "stage_reached", "contact_id": mine.pk}]}
    assert call(bearer(sales_a), "post", "/api/v1/events", body).status_code == 422


def test_team_b_cannot_list_or_read_team_as_events(sales_a, sales_b, mine):
    event = Event.objects.create(kind="page_view", contact=mine, occurred_at=mine.created_at)
    assert bearer(sales_b).get("/api/v1/events").json()["results"] == []
    assert bearer(sales_b).get(f"/api/v1/events/{event.pk}").status_code == 404
    listed = bearer(sales_a).get(f"/api/v1/events?contact_id={mine.pk}").json()["results"]
    assert [row["id"] for row in listed] == [event.pk]


def test_a_replayed_batch_with_the_same_idempotency_key_stores_nothing_new(sales_a, mine):
    client = bearer(sales_a)
    body = {"events": [{"kind": "download", "contact_id": mine.pk}]}
    first = call(client, "post", "/api/v1/events", body, **{"Idempotency-Key": "k1"})
    again = call(client, "post", "/api/v1/events", body, **{"Idempotency-Key": "k1"})
    assert first.json() == again.json()
    assert Event.objects.count() == 1


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"properties": {"x": float("nan")}}, "properties.x"),
        ({"properties": {"x": float("inf")}}, "properties.x"),
        ({"properties": {"x": "a\u0000b"}}, "properties.x"),
        ({"properties": {"x": "\ud800"}}, "properties.x"),
        ({"title": "\ud800"}, "title"),
        ({"occurred_at": "0001-01-01T00:00:00Z"}, "occurred_at"),
    ],
)
def test_odd_values_are_refused_by_name_without_failing(sales_a, mine, event, field):
    import json

    body = json.dumps({"events": [{"kind": "download", "contact_id": mine.pk, **event}]})
    response = bearer(sales_a).post("/api/v1/events", body, content_type="application/json")
    assert response.status_code in (200, 422), response.content
    errors = response.json().get("errors") or response.json()["results"][0]["errors"]
    assert any(error["field"].endswith(field.split(".")[-1]) for error in errors), errors
    assert not Event.objects.exists()


def test_stage_changes_are_left_to_the_deals_api(sales_a, mine):
    Event.objects.create(kind="stage_reached", contact=mine, occurred_at=mine.created_at)
    assert bearer(sales_a).get("/api/v1/events").json()["results"] == []
