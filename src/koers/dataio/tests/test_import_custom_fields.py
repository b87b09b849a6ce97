"""Imports into custom fields and technologies: mapping, numbers, merging, rejections."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import translation

from koers.activities.models import Activity
from koers.core.models import AuditEntry
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Company, Contact
from koers.dataio import targets
from koers.dataio.models import ImportJob
from koers.dataio.services import imports
from koers.dataio.tests.test_imports import _check_and_run, _file, _import


def _custom(job: ImportJob, *headers: str) -> list[str]:
    """The job's suggested mapping, with these columns put into custom fields."""
    return [
        targets.custom_target(header) if header in headers else name
        for header, name in zip(job.headers, job.mapping, strict=True)
    ]


def test_unknown_headers_stay_unmapped_until_a_custom_field_is_chosen(sales_a, tmp_path):
    path = _file(tmp_path, "Bedrijfsnaam;Tech stack;Vestigingen\nVeldhuis;SAP;3\n", "b.csv")

    job = _import(sales_a, path, target="companies")

    assert job.mapping == ["name", "technologies", ""]
    companies = targets.get("companies")
    assert companies.custom_choice(" Vestigingen ") == "custom:Vestigingen"
    assert companies.custom_choice("x" * 101) == ""  # no name can be that long
    assert targets.get("deals").custom_choice("Vestigingen") == ""  # deals have none


def test_companies_get_custom_fields_with_numbers_as_numbers_and_technologies(sales_a, tmp_path):
    path = _file(
        tmp_path,
        "Bedrijfsnaam;KvK;Technologies;Vestigingen;Groei;Index;Rente;Werknemers;Sector code;Opmerking\n"
        'Veldhuis;01234567;"Exact Online, Salesforce; exact online";5191;1,5;93.994;-36.4;12;'
        "0612;  vooral bouw  \n"
        "Smit;11223344;;;;;;;;\n",
        "companies.csv",
    )
    job = _import(sales_a, path, target="companies")
    headers = ("Vestigingen", "Groei", "Index", "Rente", "Werknemers", "Sector code", "Opmerking")
    imports.import_job_configure(
        actor=sales_a, job=job, mapping=_custom(job, *headers), match_on="kvk_number"
    )

    job = _check_and_run(job)

    assert (job.created_count, job.rejected_count) == (2, 0)
    veldhuis = Company.objects.get(kvk_number="01234567")
    assert veldhuis.technologies == ["Exact Online", "Salesforce"]
    assert veldhuis.custom_fields == {
        "Vestigingen": 5191,
        "Groei": 1.5,
        "Index": 93.994,
        "Rente": -36.4,
        "Werknemers": 12,
        "Sector code": "0612",  # a leading zero is a code, not a number
        "Opmerking": "vooral bouw",
    }
    assert isinstance(veldhuis.custom_fields["Vestigingen"], int)
    smit = Company.objects.get(kvk_number="11223344")
    assert (smit.technologies, smit.custom_fields) == ([], {})
    audit = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Company),
        object_id=veldhuis.pk,
        action="created",
    )
    assert audit.changes["technologies"] == [None, "Exact Online, Salesforce"]
    assert audit.changes["custom_fields"][1].startswith("Groei: 1.5; Index: 93.994;")


def test_a_bad_custom_value_rejects_the_row_naming_row_and_field(sales_a, tmp_path):
    path = _file(
        tmp_path,
        "External ID,Last name,Hobby,Leeftijd\n"
        "c-1,Jansen,zeilen,41\n"
        f"c-2,Bakker,{'x' * 501},38\n"
        "c-3,Visser,schaken,\n",
    )
    job = _import(sales_a, path)
    imports.import_job_configure(
        actor=sales_a, job=job, mapping=_custom(job, "Hobby", "Leeftijd"), match_on="external_id"
    )

    checked = imports.import_job_check(job_id=job.pk)
    assert checked.preview["errors"] == [
        [3, "Custom field “Hobby”: Use at most 500 characters (this has 501)."]
    ]
    job = _check_and_run(job)

    # All or nothing per row: Bakker is not half imported.
    assert (job.created_count, job.rejected_count) == (2, 1)
    assert not Contact.objects.filter(external_id="c-2").exists()
    assert Contact.objects.get(external_id="c-1").custom_fields == {
        "Hobby": "zeilen",
        "Leeftijd": 41,
    }
    assert Contact.objects.get(external_id="c-3").custom_fields == {"Hobby": "schaken"}
    rejection = job.rejections.get()
    assert (rejection.row_number, rejection.values[0]) == (3, "c-2")


def test_updating_a_matched_record_adds_the_files_custom_fields_to_its_own(sales_a, tmp_path):
    kept = ContactFactory(
        owner=sales_a,
        external_id="c-1",
        last_name="Jansen",
        custom_fields={"Leeftijd": 40, "Klantwaarde": "hoog"},
    )
    CompanyFactory(owner=sales_a, kvk_number="01234567", name="Veldhuis", technologies=["SAP"])
    contacts = _file(tmp_path, "External ID,Last name,Leeftijd,Regio\nc-1,Jansen,41,Noord\n")
    job = _import(sales_a, contacts)
    imports.import_job_configure(
        actor=sales_a, job=job, mapping=_custom(job, "Leeftijd", "Regio"), match_on="external_id"
    )

    job = _check_and_run(job)

    assert (job.created_count, job.updated_count) == (0, 1)
    kept.refresh_from_db()
    assert kept.custom_fields == {"Leeftijd": 41, "Klantwaarde": "hoog", "Regio": "Noord"}
    update = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Contact), action="updated"
    )
    assert update.changes == {
        "custom_fields": [
            "Klantwaarde: hoog; Leeftijd: 40",
            "Klantwaarde: hoog; Leeftijd: 41; Regio: Noord",
        ]
    }

    # Technologies are the file's: a list is replaced, not added to.
    companies = _file(tmp_path, "Naam;KvK;Technologies\nVeldhuis;01234567;Exact Online\n", "c.csv")
    _check_and_run(_import(sales_a, companies, target="companies", match_on="kvk_number"))
    assert Company.objects.get(kvk_number="01234567").technologies == ["Exact Online"]


def test_rows_of_one_record_in_a_file_add_up_their_custom_fields(sales_a, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)  # the third row falls in the next batch
    path = _file(
        tmp_path, "External ID,Last name,A,B\nc-1,Jansen,1,\nc-1,Jansen,,x\nc-1,Jansen,3,\n"
    )
    job = _import(sales_a, path)
    imports.import_job_configure(
        actor=sales_a, job=job, mapping=_custom(job, "A", "B"), match_on="external_id"
    )

    _check_and_run(job)

    assert Contact.objects.get().custom_fields == {"A": 3, "B": "x"}


def test_a_record_keeps_at_most_fifty_custom_fields_after_an_import(sales_a, tmp_path):
    ContactFactory(
        owner=sales_a,
        external_id="c-1",
        last_name="Vol",
        custom_fields={f"veld {number}": number for number in range(49)},
    )
    path = _file(tmp_path, "External ID,Last name,Extra,Nog een\nc-1,Vol,1,2\nc-2,Leeg,1,2\n")
    job = _import(sales_a, path)
    imports.import_job_configure(
        actor=sales_a, job=job, mapping=_custom(job, "Extra", "Nog een"), match_on="external_id"
    )

    job = _check_and_run(job)

    assert (job.created_count, job.updated_count, job.rejected_count) == (1, 0, 1)
    assert job.rejections.get().reason == (
        "Custom fields: a record keeps at most 50; with this row it would have 51."
    )
    assert len(Contact.objects.get(external_id="c-1").custom_fields) == 49


def test_a_mapping_refuses_custom_fields_without_a_valid_name_or_more_than_fifty(sales_a, tmp_path):
    headers = [f"Kolom {number}" for number in range(51)]
    path = _file(tmp_path, ",".join(["Last name", *headers]) + "\n" + "x," * 51 + "x\n")
    job = _import(sales_a, path)

    for bad in ("custom:", "custom: ", "custom:" + "x" * 101, "custom:a\x00b"):
        with translation.override("en"), pytest.raises(ValidationError) as raised:
            imports.import_job_configure(
                actor=sales_a, job=job, mapping=["last_name", bad, *[""] * 50], match_on=""
            )
        assert raised.value.message_dict["mapping"] == [
            "Choose a field for each column, or skip it."
        ]
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        imports.import_job_configure(
            actor=sales_a,
            job=job,
            mapping=["last_name", *(targets.custom_target(header) for header in headers)],
            match_on="",
        )
    assert raised.value.message_dict["mapping"] == [
        "At most 50 columns can go into custom fields (chosen: 51)."
    ]


def test_a_saved_mapping_puts_the_same_columns_into_custom_fields_next_time(sales_a, tmp_path):
    first = _file(tmp_path, "Achternaam;Leeftijd\nJansen;41\n", "eerste.csv")
    job = _import(sales_a, first)
    imports.import_job_configure(
        actor=sales_a,
        job=job,
        mapping=["last_name", "custom:leeftijd"],  # a name of the user's own choosing
        match_on="",
        save_as="Klanten",
    )

    second = _file(tmp_path, "achternaam;LEEFTIJD\nBakker;38\n", "tweede.csv")
    job = _check_and_run(_import(sales_a, second))

    assert job.mapping == ["last_name", "custom:leeftijd"]
    assert Contact.objects.get(last_name="Bakker").custom_fields == {"leeftijd": 38}


def test_activities_find_their_contact_by_external_id(sales_a, sales_b, tmp_path):
    company = CompanyFactory(owner=sales_a, name="Veldhuis")
    anna = ContactFactory(owner=sales_a, company=company, external_id="bank-1", email="")
    ContactFactory(owner=sales_b, external_id="bank-2")
    path = _file(
        tmp_path,
        "Contact external ID,Kind,Outcome,When,Subject\n"
        "bank-1,call,no_answer,2008-05-04 10:00,Poging 1\n"
        "bank-1,call,conversation,2008-05-05 10:00,Poging 2\n"
        "bank-2,call,conversation,2008-05-05 10:00,Niet van mij\n"
        "bank-9,call,conversation,2008-05-05 10:00,Onbekend\n",
        "calls.csv",
    )

    job = _import(sales_a, path, target="activities")
    assert job.mapping == ["contact_external_id", "kind", "outcome", "occurred_at", "subject"]
    job = _check_and_run(job)

    assert (job.created_count, job.rejected_count) == (2, 2)
    calls = Activity.objects.order_by("occurred_at")
    assert [(call.contact, call.company, call.outcome) for call in calls] == [
        (anna, company, "no_answer"),
        (anna, company, "conversation"),
    ]
    reasons = dict(job.rejections.values_list("row_number", "reason"))
    assert reasons == {
        4: "Contact external ID: none you can see has the external ID bank-2.",
        5: "Contact external ID: none you can see has the external ID bank-9.",
    }
