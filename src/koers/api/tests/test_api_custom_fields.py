"""Technologies and custom fields through the API: create, read, list, PATCH, bulk."""

import json

from koers.api.tests.client import bearer, call
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Company, Contact


def test_a_company_round_trips_its_technologies_and_custom_fields(sales_a):
    client = bearer(sales_a)

    created = call(
        client,
        "post",
        "/api/v1/companies",
        {
            "name": "Veldhuis B.V.",
            "technologies": [" Exact Online", "Salesforce", "exact online"],
            "custom_fields": {"vestigingen": 3, "groei": 1.5, "branche": " bouw ", "weg": None},
        },
    )

    assert created.status_code == 201
    body = created.json()
    assert body["technologies"] == ["Exact Online", "Salesforce"]
    assert body["custom_fields"] == {"vestigingen": 3, "groei": 1.5, "branche": "bouw"}
    company_id = body["id"]
    assert (
        client.get(f"/api/v1/companies/{company_id}").json()["custom_fields"]
        == (body["custom_fields"])
    )
    listed = client.get("/api/v1/companies").json()["results"]
    assert [(row["technologies"], row["custom_fields"]) for row in listed] == [
        (["Exact Online", "Salesforce"], {"vestigingen": 3, "groei": 1.5, "branche": "bouw"})
    ]

    # A change sets the names sent, removes those sent as null and keeps the others.
    changed = call(
        client,
        "patch",
        f"/api/v1/companies/{company_id}",
        {"custom_fields": {"vestigingen": 4, "groei": None, "regio": "Noord"}},
    )

    assert changed.status_code == 200
    assert changed.json()["custom_fields"] == {
        "vestigingen": 4,
        "branche": "bouw",
        "regio": "Noord",
    }
    assert changed.json()["technologies"] == ["Exact Online", "Salesforce"]  # not sent: kept
    replaced = call(client, "patch", f"/api/v1/companies/{company_id}", {"technologies": []})
    assert replaced.json()["technologies"] == []
    assert Company.objects.get(pk=company_id).custom_fields == {
        "vestigingen": 4,
        "branche": "bouw",
        "regio": "Noord",
    }


def test_bad_custom_fields_are_refused_naming_the_field(sales_a):
    client = bearer(sales_a)
    company = CompanyFactory(owner=sales_a, custom_fields={"bestaand": 1})

    too_long = call(
        client,
        "patch",
        f"/api/v1/companies/{company.pk}",
        {"custom_fields": {"notitie": "x" * 501}, "technologies": ["x" * 101]},
    )
    not_text = call(
        client, "post", "/api/v1/contacts", {"last_name": "Smit", "custom_fields": {"ja": True}}
    )
    blank_name = call(
        client, "post", "/api/v1/contacts", {"last_name": "Smit", "custom_fields": {" ": 1}}
    )
    too_many = call(
        client,
        "post",
        "/api/v1/contacts",
        {"last_name": "Smit", "custom_fields": {f"f{n}": n for n in range(51)}},
    )
    infinite = client.post(
        "/api/v1/contacts",
        '{"last_name": "Smit", "custom_fields": {"x": Infinity}}',
        content_type="application/json",
    )

    assert too_long.status_code == 422
    assert {error["field"] for error in too_long.json()["errors"]} == {
        "custom_fields",
        "technologies",
    }
    company.refresh_from_db()
    assert company.custom_fields == {"bestaand": 1}
    for response in (not_text, blank_name, too_many, infinite):
        assert response.status_code == 422, response.content
        assert [error["field"] for error in response.json()["errors"]] == ["custom_fields"]
    assert "Custom field “ja”: Use a text or a number, not yes/no." in json.dumps(
        not_text.json(), ensure_ascii=False
    )
    assert "Custom field name “”: A custom field needs a name." in json.dumps(
        blank_name.json(), ensure_ascii=False
    )
    assert not Contact.objects.exists()


def test_bulk_upsert_adds_custom_fields_to_matched_contacts(sales_a):
    kept = ContactFactory(
        owner=sales_a, external_id="crm-1", last_name="Jansen", custom_fields={"leeftijd": 40}
    )

    response = call(
        bearer(sales_a),
        "post",
        "/api/v1/contacts/bulk",
        {
            "match_on": "external_id",
            "records": [
                {"external_id": "crm-1", "last_name": "Jansen", "custom_fields": {"regio": "Oost"}},
                {"external_id": "crm-2", "last_name": "Bakker", "custom_fields": {"leeftijd": 38}},
                {"external_id": "crm-3", "last_name": "Visser", "custom_fields": {"x": "y" * 501}},
            ],
        },
    )

    body = response.json()
    assert (body["created"], body["updated"], body["failed"]) == (1, 1, 1)
    assert body["results"][2]["errors"][0]["field"] == "custom_fields"
    kept.refresh_from_db()
    assert kept.custom_fields == {"leeftijd": 40, "regio": "Oost"}
    assert Contact.objects.get(external_id="crm-2").custom_fields == {"leeftijd": 38}


def test_the_schema_documents_the_fields_and_their_limits(sales_a):
    schema = bearer(sales_a).get("/api/openapi.json").json()["components"]["schemas"]

    custom = schema["CompanyIn"]["properties"]["custom_fields"]
    assert custom["maxProperties"] == 50
    assert custom["propertyNames"] == {"maxLength": 100, "minLength": 1}
    assert schema["CompanyIn"]["properties"]["technologies"]["maxItems"] == 50
    assert schema["ContactOut"]["properties"]["custom_fields"]["type"] == "object"
    assert "technologies" not in schema["ContactOut"]["properties"]


def test_text_that_is_not_valid_unicode_is_refused_naming_the_field(sales_a):
    client = bearer(sales_a)

    bad_value = call(
        client, "post", "/api/v1/companies", {"name": "A", "custom_fields": {"a": "x\ud800y"}}
    )
    bad_name = call(
        client, "post", "/api/v1/companies", {"name": "B", "custom_fields": {"x\udfffy": 1}}
    )
    bad_technology = call(
        client, "post", "/api/v1/companies", {"name": "C", "technologies": ["x\udc00"]}
    )

    for response, field in (
        (bad_value, "custom_fields"),
        (bad_name, "custom_fields"),
        (bad_technology, "technologies"),
    ):
        assert response.status_code == 422, response.content
        assert [error["field"] for error in response.json()["errors"]] == [field]
    assert bad_value.json()["errors"][0]["message"] == (
        "Custom field “a”: This text holds characters that are not valid Unicode."
    )
    # The name is quoted with � in place of what cannot be sent.
    assert bad_name.json()["errors"][0]["message"] == (
        "Custom field name “x\ufffdy”: This text holds characters that are not valid Unicode."
    )
    assert bad_technology.json()["errors"][0]["message"] == (
        "“x\ufffd”: This text holds characters that are not valid Unicode."
    )
    assert not Company.objects.exists()


def test_bulk_refuses_only_the_record_with_text_that_is_not_valid_unicode(sales_a):
    response = call(
        bearer(sales_a),
        "post",
        "/api/v1/companies/bulk",
        {
            "records": [
                {"name": "Goed B.V.", "custom_fields": {"regio": "Oost"}},
                {"name": "Fout B.V.", "custom_fields": {"x\ud800": "y"}},
                {"name": "Ook fout B.V.", "technologies": ["SAP", "x\udc00"]},
                {"name": "Ook goed B.V.", "technologies": ["SAP"]},
            ]
        },
        # The answer is stored for a retry: it must hold no lone surrogate either.
        **{"Idempotency-Key": "bulk-unicode"},
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["failed"]) == (2, 0, 2)
    assert [result["status"] for result in body["results"]] == [
        "created",
        "error",
        "error",
        "created",
    ]
    assert [error["field"] for error in body["results"][1]["errors"]] == ["custom_fields"]
    assert [error["field"] for error in body["results"][2]["errors"]] == ["technologies"]
    assert sorted(Company.objects.values_list("name", flat=True)) == ["Goed B.V.", "Ook goed B.V."]


def test_custom_field_names_equal_once_trimmed_are_refused_as_given_twice(sales_a):
    client = bearer(sales_a)
    company = CompanyFactory(owner=sales_a, custom_fields={"a": 0})

    created = call(
        client, "post", "/api/v1/companies", {"name": "A", "custom_fields": {"a": 1, " a": 2}}
    )
    changed = call(
        client, "patch", f"/api/v1/companies/{company.pk}", {"custom_fields": {"a ": 1, "a": None}}
    )

    for response in (created, changed):
        assert response.status_code == 422, response.content
        assert response.json()["errors"] == [
            {"field": "custom_fields", "message": "The custom field “a” is given twice."}
        ]
    assert list(Company.objects.values_list("custom_fields", flat=True)) == [{"a": 0}]
