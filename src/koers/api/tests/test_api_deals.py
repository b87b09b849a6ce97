"""Deals and pipelines over the REST API: scopes, teams, amounts, moves through stages."""

from decimal import Decimal

import pytest

from koers.api.scopes import all_scopes
from koers.api.tests.client import bearer, call
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.pipeline.factories import DealFactory, PipelineFactory
from koers.pipeline.models import Deal, Pipeline, StageChange

ENDPOINTS = [
    ("deals", "get", "/api/v1/deals", "read"),
    ("deals", "get", "/api/v1/deals/{id}", "read"),
    ("deals", "post", "/api/v1/deals", "write"),
    ("deals", "patch", "/api/v1/deals/{id}", "write"),
    ("deals", "delete", "/api/v1/deals/{id}", "write"),
    ("pipelines", "get", "/api/v1/pipelines", "read"),
    ("pipelines", "get", "/api/v1/pipelines/{id}", "read"),
    ("pipelines", "post", "/api/v1/pipelines", "write"),
    ("pipelines", "patch", "/api/v1/pipelines/{id}", "write"),
]


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="Nieuwe klanten", sales_model="inbound")


@pytest.fixture
def company(sales_a):
    return CompanyFactory(owner=sales_a, name="Veldhuis B.V.")


@pytest.fixture
def deal(sales_a, pipeline, company):
    return DealFactory(owner=sales_a, pipeline=pipeline, company=company, name="Planning 2026")


def stage_id(pipeline, key):
    return pipeline.stages.get(key=key).pk


@pytest.mark.parametrize(("kind", "method", "path", "access"), ENDPOINTS)
def test_a_token_without_the_scope_is_refused_on_every_endpoint(
    sales_a, deal, pipeline, kind, method, path, access
):
    scopes = [scope for scope in all_scopes() if scope != f"{kind}:{access}"]
    record = {"deals": deal, "pipelines": pipeline}[kind]
    body = {"name": "Nieuw", "pipeline_id": pipeline.pk, "sales_model": "inbound"}
    counts = (Deal.objects.count(), Pipeline.objects.count())

    response = call(bearer(sales_a, scopes), method, path.format(id=record.pk), body)

    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert f"{kind}:{access}" in response.json()["message"]
    assert (Deal.objects.count(), Pipeline.objects.count()) == counts
    deal.refresh_from_db()
    assert (deal.name, deal.deleted_at) == ("Planning 2026", None)


def test_a_user_of_team_b_cannot_read_change_list_or_link_team_as_deals(
    sales_a, sales_b, deal, pipeline, company
):
    theirs = bearer(sales_b)
    contact = ContactFactory(owner=sales_a, company=company)

    listed = theirs.get("/api/v1/deals", {"pipeline_id": pipeline.pk}).json()["results"]
    answers = [
        call(theirs, method, f"/api/v1/deals/{deal.pk}", {"name": "Overgenomen"})
        for method in ("get", "patch", "delete")
    ]
    linked_company = call(
        theirs,
        "post",
        "/api/v1/deals",
        {"name": "Slim", "pipeline_id": pipeline.pk, "company_id": company.pk},
    )
    linked_contact = call(
        theirs,
        "post",
        "/api/v1/deals",
        {"name": "Slim", "pipeline_id": pipeline.pk, "contacts": [{"contact_id": contact.pk}]},
    )

    assert listed == []
    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert {answer.json()["code"] for answer in answers} == {"not_found"}
    assert linked_company.status_code == linked_contact.status_code == 422
    assert linked_company.json()["errors"] == [
        {"field": "company_id", "message": "Choose a company you can see."}
    ]
    assert linked_contact.json()["errors"] == [
        {"field": "contacts", "message": "Choose contacts you can see."}
    ]
    deal.refresh_from_db()
    assert (deal.name, deal.deleted_at) == ("Planning 2026", None)
    assert not Deal.objects.filter(name="Slim").exists()
    mine = bearer(sales_a).get("/api/v1/deals").json()["results"]
    assert [row["id"] for row in mine] == [deal.pk]


def test_a_deal_is_created_in_the_first_open_stage_with_its_amounts_as_text(
    sales_a, pipeline, company
):
    contact = ContactFactory(owner=sales_a, company=company)

    response = call(
        bearer(sales_a),
        "post",
        "/api/v1/deals",
        {
            "name": " Planning voor 40 monteurs ",
            "pipeline_id": pipeline.pk,
            "company_id": company.pk,
            "amount_one_off": "2500",
            "amount_recurring": 500.5,
            "expected_close_on": "2026-03-31",
            "contacts": [{"contact_id": contact.pk, "dmu_role": "decision_maker"}],
        },
    )

    assert response.status_code == 201
    body = response.json()
    deal = Deal.objects.get(pk=body["id"])
    assert (deal.name, deal.owner, deal.value) == (
        "Planning voor 40 monteurs",
        sales_a,
        Decimal("8506.00"),
    )
    assert body["stage_id"] == stage_id(pipeline, "qualify")
    assert (body["status"], body["company_id"], body["owner_id"]) == (
        "open",
        company.pk,
        sales_a.pk,
    )
    assert (body["amount_one_off"], body["amount_recurring"], body["value"]) == (
        "2500.00",
        "500.50",
        "8506.00",
    )
    assert body["expected_close_on"] == "2026-03-31"
    assert body["contacts"] == [{"contact_id": contact.pk, "dmu_role": "decision_maker"}]
    fetched = bearer(sales_a).get(f"/api/v1/deals/{deal.pk}").json()
    assert fetched == body | {"updated_at": fetched["updated_at"]}


def test_patch_changes_fields_and_moves_the_deal_through_its_stages(sales_a, deal, pipeline):
    client = bearer(sales_a)
    contact = ContactFactory(owner=sales_a, company=deal.company, dmu_role="user")
    url = f"/api/v1/deals/{deal.pk}"

    to_proposal = call(
        client,
        "patch",
        url,
        {
            "amount_one_off": "1000.00",
            "expected_close_on": "2026-06-30",
            "contacts": [{"contact_id": contact.pk, "dmu_role": "decision_maker"}],
            "stage_id": stage_id(pipeline, "proposal"),
        },
    )
    won = call(client, "patch", url, {"stage_id": stage_id(pipeline, "won")})

    assert to_proposal.status_code == 200
    assert to_proposal.json()["stage_id"] == stage_id(pipeline, "proposal")
    assert to_proposal.json()["value"] == "13000.00"  # 1,000 + 12 × 1,000
    assert won.status_code == 200
    assert (won.json()["status"], won.json()["stage_id"]) == ("won", stage_id(pipeline, "won"))
    assert won.json()["won_at"] is not None
    deal.refresh_from_db()
    assert (deal.status, deal.amount_one_off, deal.name) == (
        "won",
        Decimal("1000"),
        "Planning 2026",
    )
    moves = StageChange.objects.filter(deal=deal).order_by("at", "id")
    assert [(move.from_stage.key, move.to_stage.key) for move in moves] == [
        ("qualify", "proposal"),
        ("proposal", "won"),
    ]


def test_a_refused_move_changes_nothing_of_the_same_patch(sales_a, deal, pipeline):
    response = call(
        bearer(sales_a),
        "patch",
        f"/api/v1/deals/{deal.pk}",
        {"name": "Verloren zaak", "stage_id": stage_id(pipeline, "lost")},
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "lost_reason", "message": "Say why the deal was lost."}
    ]
    deal.refresh_from_db()
    assert (deal.name, deal.status, deal.stage.key) == ("Planning 2026", "open", "qualify")


def test_every_bad_field_of_a_deal_is_named_at_once(sales_a, pipeline):
    client = bearer(sales_a)
    retired = PipelineFactory(is_active=False)

    refused = call(
        client,
        "post",
        "/api/v1/deals",
        {"name": "", "pipeline_id": "x", "probability": 101, "amount_one_off": "-1"},
    )
    retired_pipeline = call(
        client, "post", "/api/v1/deals", {"name": "Oud", "pipeline_id": retired.pk}
    )

    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid"
    assert {error["field"] for error in refused.json()["errors"]} == {
        "name",
        "pipeline_id",
        "probability",
        "amount_one_off",
    }
    assert retired_pipeline.status_code == 422
    assert retired_pipeline.json()["errors"] == [
        {"field": "pipeline_id", "message": "Choose a pipeline that is in use."}
    ]
    assert not Deal.objects.exists()


def test_delete_moves_a_deal_to_the_trash(sales_a, deal):
    client = bearer(sales_a)

    response = client.delete(f"/api/v1/deals/{deal.pk}")

    assert response.status_code == 204
    deal.refresh_from_db()
    assert (deal.deleted_at is not None, deal.deleted_by) == (True, sales_a)
    assert client.get(f"/api/v1/deals/{deal.pk}").status_code == 404
    assert client.get("/api/v1/deals").json()["results"] == []


def test_deals_page_by_value_with_a_cursor_that_fits_only_its_own_sort(sales_a, pipeline):
    for recurring in ["300", "100", "500", "200", "400"]:
        DealFactory(owner=sales_a, pipeline=pipeline, amount_recurring=Decimal(recurring))
    client = bearer(sales_a)

    first = client.get("/api/v1/deals", {"sort": "-value", "limit": 2}).json()
    rest = client.get(
        "/api/v1/deals", {"sort": "-value", "limit": 3, "cursor": first["next"]}
    ).json()
    other_sort = client.get("/api/v1/deals", {"sort": "-updated", "cursor": first["next"]})

    values = [row["value"] for row in first["results"] + rest["results"]]
    assert values == ["6000.00", "4800.00", "3600.00", "2400.00", "1200.00"]
    assert rest["next"] is None
    assert other_sort.status_code == 422
    assert other_sort.json()["errors"][0]["field"] == "cursor"


def test_every_user_reads_the_same_pipelines_with_their_stages(sales_b, pipeline):
    client = bearer(sales_b)

    listed = client.get("/api/v1/pipelines").json()["results"]
    one = client.get(f"/api/v1/pipelines/{pipeline.pk}").json()

    assert [row["id"] for row in listed] == [pipeline.pk]
    assert one == listed[0]
    assert [(stage["key"], stage["name"], stage["kind"]) for stage in one["stages"]] == [
        ("qualify", "Qualify", "open"),
        ("needs_analysis", "Needs analysis", "open"),
        ("proposal", "Proposal", "open"),
        ("negotiation", "Negotiation", "open"),
        ("won", "Won", "won"),
        ("lost", "Lost", "lost"),
    ]
    assert one["stages"][2]["required"] == ["amount", "expected_close_on"]


def test_managers_set_pipelines_up_and_sales_may_not(manager, sales_a, pipeline):
    made = call(
        bearer(manager), "post", "/api/v1/pipelines", {"sales_model": "outbound", "name": "Koud"}
    )
    changed = call(bearer(manager), "patch", f"/api/v1/pipelines/{pipeline.pk}", {"stall_days": 30})
    refused = call(bearer(sales_a), "post", "/api/v1/pipelines", {"sales_model": "inbound"})
    unchanged = call(
        bearer(sales_a), "patch", f"/api/v1/pipelines/{pipeline.pk}", {"is_active": False}
    )
    unknown = call(bearer(manager), "post", "/api/v1/pipelines", {"sales_model": "carrier pigeon"})

    assert made.status_code == 201
    assert (made.json()["name"], made.json()["sales_model"]) == ("Koud", "outbound")
    assert made.json()["stages"][0]["key"] == "prospect"
    assert changed.status_code == 200
    assert changed.json()["stall_days"] == 30
    assert refused.status_code == unchanged.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert refused.json()["message"] == "Only managers and administrators may change pipelines."
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {"field": "sales_model", "message": "Choose one of the sales models."}
    ]
    pipeline.refresh_from_db()
    assert (pipeline.stall_days, pipeline.is_active) == (30, True)
    assert Pipeline.objects.count() == 2


def test_a_deals_people_the_caller_cannot_see_are_neither_named_nor_removed(
    sales_a, sales_b, manager
):
    from koers.crm.factories import ContactFactory
    from koers.pipeline.models import DealContact

    deal = DealFactory(owner=sales_b)
    hidden = ContactFactory(owner=sales_a)
    visible = ContactFactory(owner=sales_b)
    DealContact.objects.create(deal=deal, contact=hidden, dmu_role="champion")
    DealContact.objects.create(deal=deal, contact=visible, dmu_role="user")
    client = bearer(sales_b)

    shown = client.get(f"/api/v1/deals/{deal.pk}").json()["contacts"]
    changed = call(client, "patch", f"/api/v1/deals/{deal.pk}", {"contacts": []})

    assert [row["contact_id"] for row in shown] == [visible.pk]
    assert changed.status_code == 200
    assert list(deal.deal_contacts.values_list("contact_id", flat=True)) == [hidden.pk]


def test_a_deal_list_names_only_the_people_the_caller_may_see(sales_a, sales_b):
    from koers.pipeline.models import DealContact

    deal = DealFactory(owner=sales_b)
    hidden = ContactFactory(owner=sales_a)
    visible = ContactFactory(owner=sales_b)
    DealContact.objects.create(deal=deal, contact=hidden, dmu_role="champion")
    DealContact.objects.create(deal=deal, contact=visible, dmu_role="user")

    [row] = bearer(sales_b).get("/api/v1/deals").json()["results"]

    assert [person["contact_id"] for person in row["contacts"]] == [visible.pk]
