"""Activities and call campaigns over the REST API: scopes, teams, logging, filters."""

from datetime import timedelta

import pytest
from django.utils import timezone

from koers.activities.models import Activity
from koers.activities.services import activity_log
from koers.api.scopes import all_scopes
from koers.api.tests.client import bearer, call
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.outreach.models import CallListEntry
from koers.outreach.services import campaign_save, campaign_set_status
from koers.pipeline.factories import DealFactory

ENDPOINTS = [
    ("activities", "get", "/api/v1/activities", "read"),
    ("activities", "get", "/api/v1/activities/{id}", "read"),
    ("activities", "post", "/api/v1/activities", "write"),
    ("activities", "patch", "/api/v1/activities/{id}", "write"),
    ("activities", "delete", "/api/v1/activities/{id}", "write"),
    ("campaigns", "get", "/api/v1/campaigns", "read"),
    ("campaigns", "get", "/api/v1/campaigns/{id}", "read"),
]


@pytest.fixture
def contact(sales_a):
    company = CompanyFactory(owner=sales_a, name="Veldhuis B.V.")
    return ContactFactory(owner=sales_a, company=company, last_name="Smit")


@pytest.fixture
def task(sales_a, contact):
    return activity_log(
        actor=sales_a,
        kind="task",
        subject="Offerte nabellen",
        contact=contact,
        done=False,
        due_at=timezone.now() + timedelta(days=2),
    )


@pytest.fixture
def campaign(manager, sales_a, contact):
    campaign = campaign_save(
        actor=manager, agents=[sales_a], contact_filter={}, name="Najaarsronde", goal="Afspraken"
    )
    CallListEntry.objects.create(campaign=campaign, contact=contact)
    return campaign


@pytest.mark.parametrize(("kind", "method", "path", "access"), ENDPOINTS)
def test_a_token_without_the_scope_is_refused_on_every_endpoint(
    sales_a, contact, task, campaign, kind, method, path, access
):
    scopes = [scope for scope in all_scopes() if scope != f"{kind}:{access}"]
    record = {"activities": task, "campaigns": campaign}[kind]
    body = {"kind": "note", "subject": "Nieuw", "contact_id": contact.pk}

    response = call(bearer(sales_a, scopes), method, path.format(id=record.pk), body)

    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert f"{kind}:{access}" in response.json()["message"]
    task.refresh_from_db()
    assert (Activity.objects.count(), task.done_at) == (1, None)


def test_a_user_of_team_b_cannot_read_change_list_or_log_on_team_as_activities(
    sales_b, task, contact
):
    theirs = bearer(sales_b)

    listed = theirs.get("/api/v1/activities", {"contact_id": contact.pk}).json()["results"]
    answers = [
        call(theirs, method, f"/api/v1/activities/{task.pk}", {"outcome": "conversation"})
        for method in ("get", "patch", "delete")
    ]
    logged = call(
        theirs,
        "post",
        "/api/v1/activities",
        {"kind": "note", "subject": "Meegelezen", "contact_id": contact.pk},
    )

    assert listed == []
    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert {answer.json()["code"] for answer in answers} == {"not_found"}
    assert logged.status_code == 422
    assert logged.json()["errors"] == [
        {"field": "contact_id", "message": "Choose a contact you can see."}
    ]
    task.refresh_from_db()
    assert (task.done_at, task.outcome) == (None, "")
    assert list(Activity.objects.all()) == [task]


def test_a_call_is_logged_on_the_contact_and_its_company(sales_a, contact):
    response = call(
        bearer(sales_a),
        "post",
        "/api/v1/activities",
        {
            "kind": "call",
            "subject": "Gesproken met de CFO",
            "direction": "outbound",
            "outcome": "conversation",
            "contact_id": contact.pk,
            "occurred_at": "2026-01-15T10:30:00+01:00",
        },
    )

    assert response.status_code == 201
    body = response.json()
    activity = Activity.objects.get(pk=body["id"])
    assert (activity.contact, activity.company, activity.owner) == (
        contact,
        contact.company,
        sales_a,
    )
    assert (body["company_id"], body["owner_id"], body["created_by_id"]) == (
        contact.company_id,
        sales_a.pk,
        sales_a.pk,
    )
    assert body["occurred_at"] == body["done_at"] == "2026-01-15T09:30:00Z"
    assert (body["kind"], body["outcome"], body["due_at"]) == ("call", "conversation", None)


def test_every_bad_field_of_an_activity_is_named_at_once(sales_a, contact):
    client = bearer(sales_a)

    refused = call(
        client,
        "post",
        "/api/v1/activities",
        {"kind": "call", "subject": "", "due_at": "2026-01-15T10:30:00", "done": "soms"},
    )
    planned_without_due = call(
        client,
        "post",
        "/api/v1/activities",
        {"kind": "fax", "subject": "Later", "contact_id": contact.pk, "done": False},
    )

    assert refused.status_code == planned_without_due.status_code == 422
    assert {error["field"] for error in refused.json()["errors"]} == {"subject", "due_at", "done"}
    assert {error["field"] for error in planned_without_due.json()["errors"]} == {
        "kind",
        "due_at",
    }
    assert not Activity.objects.exists()


def test_lists_filter_activities_by_record_kind_and_state(sales_a, contact, task):
    deal = DealFactory(owner=sales_a, company=contact.company)
    note = activity_log(actor=sales_a, kind="note", subject="Notitie", contact=contact)
    on_deal = activity_log(actor=sales_a, kind="call", subject="Belletje", deal=deal)
    client = bearer(sales_a)

    def ids(**filters):
        return [row["id"] for row in client.get("/api/v1/activities", filters).json()["results"]]

    assert ids() == [on_deal.pk, note.pk, task.pk]
    assert ids(sort="occurred") == [task.pk, note.pk, on_deal.pk]
    assert ids(contact_id=contact.pk) == [note.pk, task.pk]
    assert ids(company_id=contact.company_id) == [on_deal.pk, note.pk, task.pk]
    assert ids(deal_id=deal.pk) == [on_deal.pk]
    assert ids(kind="note") == [note.pk]
    assert ids(state="planned") == [task.pk]
    assert ids(state="done") == [on_deal.pk, note.pk]
    assert ids(owner="me", limit=1) == [on_deal.pk]


def test_patch_marks_a_task_done_and_only_its_people_may_delete_it(sales_a, colleague_a, task):
    done = call(bearer(sales_a), "patch", f"/api/v1/activities/{task.pk}", {"outcome": "no_answer"})
    not_theirs = bearer(colleague_a).delete(f"/api/v1/activities/{task.pk}")
    reopened = call(bearer(sales_a), "patch", f"/api/v1/activities/{task.pk}", {"done": False})
    deleted = bearer(sales_a).delete(f"/api/v1/activities/{task.pk}")

    assert done.status_code == 200
    assert (done.json()["outcome"], done.json()["done_at"] is not None) == ("no_answer", True)
    assert not_theirs.status_code == 403
    assert not_theirs.json()["message"] == (
        "Only its author, the person it is for, or a manager may."
    )
    assert reopened.status_code == 422
    assert reopened.json()["errors"][0]["field"] == "done"
    assert deleted.status_code == 204
    assert not Activity.objects.exists()


def test_agents_see_their_own_campaigns_and_managers_see_all(
    manager, sales_a, colleague_a, sales_b, campaign
):
    campaign_set_status(actor=manager, campaign=campaign, status="active")
    draft = campaign_save(
        actor=manager, agents=[colleague_a], contact_filter={}, name="Winter", goal="Afspraken"
    )

    def ids(user, **filters):
        listed = bearer(user).get("/api/v1/campaigns", filters).json()["results"]
        return [row["id"] for row in listed]

    agent = bearer(sales_a).get(f"/api/v1/campaigns/{campaign.pk}").json()
    outsider = bearer(sales_b).get(f"/api/v1/campaigns/{campaign.pk}")

    assert ids(sales_a) == [campaign.pk]
    assert ids(sales_b) == []
    assert ids(manager) == [draft.pk, campaign.pk]
    assert ids(manager, status="active") == [campaign.pk]
    assert ids(manager, sort="name") == [campaign.pk, draft.pk]
    assert (agent["name"], agent["status"], agent["agent_ids"]) == (
        "Najaarsronde",
        "active",
        [sales_a.pk],
    )
    assert (agent["open_entries"], agent["total_entries"], agent["owner_id"]) == (
        1,
        1,
        manager.pk,
    )
    assert outsider.status_code == 404
    assert outsider.json()["code"] == "not_found"
