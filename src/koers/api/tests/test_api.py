"""The REST API over HTTP: tokens and scopes, teams, errors, cursors, Idempotency-Key."""

from datetime import timedelta

import pytest
from django.test import Client

from koers.api import api as api_module
from koers.api.tests.client import bearer, call
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Company, Contact

ENDPOINTS = [
    ("get", "/api/v1/{kind}", "read"),
    ("get", "/api/v1/{kind}/{id}", "read"),
    ("post", "/api/v1/{kind}", "write"),
    ("patch", "/api/v1/{kind}/{id}", "write"),
    ("delete", "/api/v1/{kind}/{id}", "write"),
    ("post", "/api/v1/{kind}/bulk", "write"),
]
BODIES = {"companies": {"name": "Nieuw B.V."}, "contacts": {"last_name": "Nieuw"}}


@pytest.fixture
def records(sales_a):
    company = CompanyFactory(owner=sales_a, name="Veldhuis B.V.")
    return {
        "companies": company,
        "contacts": ContactFactory(owner=sales_a, company=company, last_name="Smit"),
    }


@pytest.mark.parametrize("kind", ["companies", "contacts"])
@pytest.mark.parametrize(("method", "path", "access"), ENDPOINTS)
def test_a_token_without_the_scope_is_refused_on_every_endpoint(
    sales_a, records, kind, method, path, access
):
    other = "companies" if kind == "contacts" else "contacts"
    # Everything but this scope: the other kind in full, and this kind's other access.
    scopes = [
        f"{other}:read",
        f"{other}:write",
        f"{kind}:{'write' if access == 'read' else 'read'}",
    ]
    url = path.format(kind=kind, id=records[kind].pk)
    count = type(records[kind]).objects.count()

    body = {"records": [BODIES[kind]]} if url.endswith("/bulk") else BODIES[kind]
    response = call(bearer(sales_a, scopes), method, url, body)

    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert f"{kind}:{access}" in response.json()["message"]
    assert type(records[kind]).objects.count() == count


@pytest.mark.parametrize("kind", ["companies", "contacts"])
def test_a_user_of_team_b_cannot_read_change_or_list_team_as_records(
    sales_a, sales_b, records, kind
):
    theirs = bearer(sales_b)
    record = records[kind]

    listed = theirs.get(f"/api/v1/{kind}").json()["results"]
    assert record.pk not in [row["id"] for row in listed]
    for method in ("get", "patch", "delete"):
        response = call(theirs, method, f"/api/v1/{kind}/{record.pk}", {"city": "Elders"})
        assert response.status_code == 404, method
        assert response.json()["code"] == "not_found"
    record.refresh_from_db()
    assert record.deleted_at is None
    # The owner's own token sees it.
    mine = bearer(sales_a).get(f"/api/v1/{kind}/{record.pk}")
    assert mine.status_code == 200
    assert mine.json()["id"] == record.pk


def test_a_contact_cannot_be_linked_to_a_company_the_user_cannot_see(sales_b, records):
    response = call(
        bearer(sales_b),
        "post",
        "/api/v1/contacts",
        {"last_name": "Slim", "company_id": records["companies"].pk},
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "company_id", "message": "Choose a company you can see."}
    ]
    assert not Contact.objects.filter(last_name="Slim").exists()


def test_calls_without_a_valid_token_get_401_in_json(sales_a):
    for headers in ({}, {"Authorization": "Bearer koers_wrong"}, {"Authorization": "Basic x"}):
        response = Client(headers=headers).get("/api/v1/contacts")
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"


def test_create_normalises_and_every_bad_field_is_named_at_once(sales_a):
    client = bearer(sales_a)

    made = call(
        client,
        "post",
        "/api/v1/contacts",
        {"last_name": "Jansen", "email": " Jan@Voorbeeld.NL ", "phone": "06-12345678"},
    )
    refused = call(
        client,
        "post",
        "/api/v1/contacts",
        {"last_name": "Fout", "email": "jan@", "phone": "0612", "lifecycle_stage": "koning"},
    )
    missing = call(client, "post", "/api/v1/contacts", {"email": 12})

    assert made.status_code == 201
    assert (made.json()["email"], made.json()["phone"]) == ("jan@voorbeeld.nl", "+31612345678")
    assert made.json()["owner_id"] == sales_a.pk
    assert refused.status_code == 422
    assert {error["field"] for error in refused.json()["errors"]} == {
        "email",
        "phone",
        "lifecycle_stage",
    }
    assert missing.status_code == 422
    assert {error["field"] for error in missing.json()["errors"]} == {"last_name", "email"}


def test_patch_changes_only_the_fields_given_and_delete_moves_to_the_trash(sales_a, records):
    client = bearer(sales_a)
    company = records["companies"]

    response = call(client, "patch", f"/api/v1/companies/{company.pk}", {"city": "Zwolle"})

    assert response.status_code == 200
    company.refresh_from_db()
    assert (company.city, company.name) == ("Zwolle", "Veldhuis B.V.")
    assert client.delete(f"/api/v1/companies/{company.pk}").status_code == 204
    company.refresh_from_db()
    assert company.deleted_at is not None
    assert client.get(f"/api/v1/companies/{company.pk}").status_code == 404


def test_a_replayed_post_with_the_same_idempotency_key_creates_nothing_new(sales_a):
    client = bearer(sales_a)
    body = {"name": "Eenmalig B.V."}

    first = call(client, "post", "/api/v1/companies", body, **{"Idempotency-Key": "abc-1"})
    again = call(client, "post", "/api/v1/companies", body, **{"Idempotency-Key": "abc-1"})
    other = call(
        client, "post", "/api/v1/companies", {"name": "Anders"}, **{"Idempotency-Key": "abc-1"}
    )

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Company.objects.filter(name="Eenmalig B.V.").count() == 1
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert not Company.objects.filter(name="Anders").exists()


def test_lists_page_with_a_cursor_in_the_chosen_order(sales_a):
    for name in ["Eva", "Bram", "Anna", "Dirk", "Carla", "Gijs", "Fleur"]:
        ContactFactory(owner=sales_a, first_name=name, name_prefix="", last_name="Smit")
    client = bearer(sales_a)

    seen, cursor, pages = [], "", 0
    while True:
        page = client.get("/api/v1/contacts", {"limit": 3, "cursor": cursor, "sort": "-name"})
        body = page.json()
        seen += [row["first_name"] for row in body["results"]]
        pages += 1
        if not body["next"]:
            break
        cursor = body["next"]

    assert pages == 3
    assert seen == ["Gijs", "Fleur", "Eva", "Dirk", "Carla", "Bram", "Anna"]
    tampered = client.get("/api/v1/contacts", {"cursor": cursor + "x"})
    assert tampered.status_code == 422
    assert tampered.json()["errors"][0]["field"] == "cursor"
    filtered = client.get("/api/v1/contacts", {"q": "fleur"}).json()["results"]
    assert [row["first_name"] for row in filtered] == ["Fleur"]


def test_a_token_over_its_rate_gets_429_with_retry_after(sales_a, monkeypatch):
    monkeypatch.setattr(api_module, "RATE_LIMIT", 3)
    client = bearer(sales_a)

    answers = [client.get("/api/v1/companies") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert 0 < int(answers[-1]["Retry-After"]) <= 60


def test_the_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/openapi.json").json()

    assert "/api/v1/contacts" in schema["paths"]
    assert "/api/v1/companies/{record_id}" in schema["paths"]
    assert client.get("/api/docs").status_code == 200


def test_bulk_creates_updates_and_reports_each_record_on_its_own(sales_a, sales_b):
    mine = ContactFactory(owner=sales_a, email="anna@smit.nl", first_name="Anna")
    theirs = ContactFactory(owner=sales_b, email="bram@elders.nl", first_name="Bram")
    records = [
        {"last_name": "Nieuw", "email": "nieuw@x.nl"},
        {"last_name": "Smit", "email": " ANNA@smit.nl ", "job_title": "Directeur"},
        {"last_name": "Fout", "email": "fout@", "phone": "0612"},
        {"last_name": "Elders", "email": "bram@elders.nl"},  # someone else's: not touched
    ]

    response = call(
        bearer(sales_a),
        "post",
        "/api/v1/contacts/bulk",
        {"match_on": "email", "records": records},
        **{"Idempotency-Key": "bulk-1"},
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["created"], body["updated"], body["failed"]) == (2, 1, 1)
    assert [result["status"] for result in body["results"]] == [
        "created", "updated", "error", "created"
    ]  # fmt: skip
    assert body["results"][1]["id"] == mine.pk
    assert {error["field"] for error in body["results"][2]["errors"]} == {"email"}
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.job_title, mine.first_name) == ("Directeur", "Anna")
    assert theirs.last_name != "Elders"
    # A retry of the same call writes nothing again.
    again = call(
        bearer(sales_a),
        "post",
        "/api/v1/contacts/bulk",
        {"match_on": "email", "records": records},
        **{"Idempotency-Key": "bulk-1"},
    )
    assert Contact.objects.filter(email="nieuw@x.nl").count() == 1
    assert again.status_code == 200


def test_bulk_takes_at_most_a_thousand_records(sales_a):
    records = [{"name": f"Bedrijf {n}"} for n in range(1001)]

    response = call(bearer(sales_a), "post", "/api/v1/companies/bulk", {"records": records})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "records"
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    ("kind", "match_on", "blank"),
    [("contacts", "external_id", " "), ("contacts", "email", "  "), ("companies", "domain", " ")],
)
def test_a_blank_match_key_never_updates_a_record_without_one(sales_a, kind, match_on, blank):
    if kind == "contacts":
        existing = ContactFactory(owner=sales_a, external_id="", email="", last_name="Blijft")
        record = {"last_name": "Nieuw", match_on: blank}
    else:
        existing = CompanyFactory(owner=sales_a, domain="", name="Blijft B.V.")
        record = {"name": "Nieuw B.V.", match_on: blank}

    body = call(
        bearer(sales_a), "post", f"/api/v1/{kind}/bulk", {"match_on": match_on, "records": [record]}
    ).json()

    assert body["results"][0]["status"] == "created"
    existing.refresh_from_db()
    assert "Blijft" in str(existing)


def test_a_linked_company_that_does_not_exist_or_is_hidden_gets_the_same_answer(
    sales_a, sales_b, records
):
    client = bearer(sales_b)
    hidden = call(
        client,
        "post",
        "/api/v1/contacts",
        {"last_name": "X", "company_id": records["companies"].pk},
    )
    missing = call(client, "post", "/api/v1/contacts", {"last_name": "X", "company_id": 999_999})
    parent = call(client, "post", "/api/v1/companies", {"name": "Y", "parent_id": 999_999})

    assert (
        hidden.json()["errors"]
        == missing.json()["errors"]
        == [{"field": "company_id", "message": "Choose a company you can see."}]
    )
    assert parent.json()["errors"][0]["field"] == "parent_id"


def test_answers_kept_for_idempotency_keys_are_forgotten_after_a_day(sales_a):
    import time_machine
    from django.utils import timezone

    from koers.api.models import IdempotentRequest
    from koers.api.services import idempotent_requests_prune

    call(bearer(sales_a), "post", "/api/v1/companies", {"name": "A"}, **{"Idempotency-Key": "k"})
    assert idempotent_requests_prune() == 0

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert idempotent_requests_prune() == 1

    assert not IdempotentRequest.objects.exists()
