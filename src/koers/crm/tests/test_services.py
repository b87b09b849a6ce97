from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from koers.core.models import AuditEntry
from koers.core.selectors import audit_trail_for
from koers.crm import services
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Company, Contact


def test_company_create_normalises_identifiers_and_records_the_audit_entry(sales_a):
    company = services.company_create(
        actor=sales_a,
        name="  Bakker Installatietechniek B.V. ",
        legal_form=Company.LegalForm.BV,
        kvk_number="0123 4567",
        vat_number="nl004495445b01",
        phone="030-123 4567",
        postcode="3511ab",
        country="NL",
        domain="https://www.bakker-installatie.nl/",
        owner=sales_a,
    )

    company.refresh_from_db()
    assert company.name == "Bakker Installatietechniek B.V."
    assert company.kvk_number == "01234567"
    assert company.vat_number == "NL004495445B01"
    assert company.phone == "+31301234567"
    assert company.postcode == "3511 AB"
    assert company.domain == "bakker-installatie.nl"
    entry = AuditEntry.objects.get(object_id=company.pk, action=AuditEntry.Action.CREATED)
    assert entry.actor == sales_a
    assert entry.changes["kvk_number"] == [None, "01234567"]


def test_company_create_names_every_invalid_field_at_once(sales_a):
    with pytest.raises(ValidationError) as raised:
        services.company_create(
            actor=sales_a,
            name="Foutief B.V.",
            kvk_number="123",
            vat_number="NL123456789B90",
            phone="12",
            country="NL",
        )

    assert set(raised.value.message_dict) == {"kvk_number", "vat_number", "phone"}
    assert not Company.objects.exists()


def test_company_create_requires_a_name(sales_a):
    with pytest.raises(ValidationError) as raised:
        services.company_create(actor=sales_a, name="", country="NL")
    assert "name" in raised.value.message_dict


def test_read_only_users_cannot_write(read_only_a):
    with pytest.raises(PermissionDenied):
        services.company_create(actor=read_only_a, name="Nope", country="NL")


def test_company_update_records_only_what_changed(sales_a, colleague_a):
    company = CompanyFactory(owner=sales_a, city="Utrecht")

    services.company_update(actor=sales_a, company=company, city="Amersfoort", owner=colleague_a)
    services.company_update(actor=sales_a, company=company, city="Amersfoort")

    updates = AuditEntry.objects.filter(object_id=company.pk, action=AuditEntry.Action.UPDATED)
    assert updates.count() == 1
    assert updates.get().changes == {
        "city": ["Utrecht", "Amersfoort"],
        "owner": [
            {"id": sales_a.pk, "name": str(sales_a)},
            {"id": colleague_a.pk, "name": str(colleague_a)},
        ],
    }
    with translation.override("en"):
        history = audit_trail_for(instance=company)
    assert [(c.field, c.old, c.new) for c in history[0].changes] == [
        ("city", "Utrecht", "Amersfoort"),
        ("owner", str(sales_a), str(colleague_a)),
    ]


def test_a_company_cannot_be_its_own_parent_or_hang_under_an_invisible_one(sales_a, sales_b):
    company = CompanyFactory(owner=sales_a)
    other_team = CompanyFactory(owner=sales_b)

    with pytest.raises(ValidationError) as own:
        services.company_update(actor=sales_a, company=company, parent=company)
    with pytest.raises(ValidationError) as invisible:
        services.company_update(actor=sales_a, company=company, parent=other_team)

    assert "parent" in own.value.message_dict
    assert "parent" in invisible.value.message_dict


def test_contact_create_normalises_email_and_phones(sales_a):
    company = CompanyFactory(owner=sales_a)

    contact = services.contact_create(
        actor=sales_a,
        first_name="Jan",
        name_prefix="van der",
        last_name="Berg",
        email="Jan.vanderBerg@Example.NL",
        phone="010 - 414 12 34",
        mobile="06-12345678",
        company=company,
        owner=sales_a,
    )

    assert contact.email == "jan.vanderberg@example.nl"
    assert contact.phone == "+31104141234"
    assert contact.mobile == "+31612345678"
    assert str(contact) == "Jan van der Berg"


def test_contact_cannot_join_a_company_of_another_team(sales_a, sales_b):
    other_team = CompanyFactory(owner=sales_b)
    with pytest.raises(ValidationError) as raised:
        services.contact_create(
            actor=sales_a, last_name="Jansen", company=other_team, owner=sales_a
        )
    assert "company" in raised.value.message_dict


def test_delete_moves_to_the_trash_and_restore_brings_back(sales_a):
    contact = ContactFactory(company__owner=sales_a, owner=sales_a)

    services.record_delete(actor=sales_a, record=contact)
    contact.refresh_from_db()
    assert contact.deleted_at is not None
    assert contact.deleted_by == sales_a

    services.record_restore(actor=sales_a, record=contact)
    contact.refresh_from_db()
    assert contact.deleted_at is None
    actions = list(
        AuditEntry.objects.filter(object_id=contact.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["deleted", "restored"]


def test_trash_purge_erases_old_records_and_their_audited_values(sales_a):
    old = ContactFactory(company=None, owner=sales_a, email="weg@example.nl")
    # A title no factory gives, so the update always changes something.
    services.contact_update(actor=sales_a, contact=old, job_title="Inkoper (tijdelijk)")
    recent = ContactFactory(company=None, owner=sales_a)
    services.record_delete(actor=sales_a, record=old)
    services.record_delete(actor=sales_a, record=recent)
    Contact.objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=31))

    erased = services.trash_purge(older_than_days=30)

    assert erased == 1
    assert not Contact.objects.filter(pk=old.pk).exists()
    assert Contact.objects.filter(pk=recent.pk).exists()
    entries = AuditEntry.objects.filter(object_id=old.pk, content_type__model="contact")
    assert entries.count() == 2
    assert all(entry.changes == {} and entry.object_repr == "" for entry in entries)


def test_moving_a_contact_between_two_companies_of_the_same_name_is_saved_and_audited(sales_a):
    first = CompanyFactory(name="Bakker B.V.", owner=sales_a)
    second = CompanyFactory(name="Bakker B.V.", owner=sales_a)
    contact = ContactFactory(company=first, owner=sales_a)

    services.contact_update(actor=sales_a, contact=contact, company=second)

    contact.refresh_from_db()
    assert contact.company == second
    entry = AuditEntry.objects.get(object_id=contact.pk, action=AuditEntry.Action.UPDATED)
    assert entry.changes["company"] == [
        {"id": first.pk, "name": "Bakker B.V."},
        {"id": second.pk, "name": "Bakker B.V."},
    ]


def test_a_record_keeps_a_linked_company_the_editor_cannot_see(sales_a, sales_b):
    other_team = CompanyFactory(owner=sales_b)
    contact = ContactFactory(company=other_team, owner=sales_a)
    subsidiary = CompanyFactory(parent=other_team, owner=sales_a)

    services.contact_update(actor=sales_a, contact=contact, company=other_team, job_title="Inkoper")
    services.company_update(actor=sales_a, company=subsidiary, parent=other_team, city="Ede")

    contact.refresh_from_db()
    subsidiary.refresh_from_db()
    assert (contact.job_title, contact.company) == ("Inkoper", other_team)
    assert (subsidiary.city, subsidiary.parent) == ("Ede", other_team)


def test_phone_and_vat_numbers_follow_the_companys_country(sales_a):
    company = services.company_create(
        actor=sales_a,
        name="Berliner Software GmbH",
        country="DE",
        phone="030 1234567",
        vat_number="136695976",
        owner=sales_a,
    )
    contact = services.contact_create(
        actor=sales_a, last_name="Schmidt", company=company, phone="030 7654321", owner=sales_a
    )

    assert company.phone == "+49301234567"
    assert company.vat_number == "DE136695976"
    assert contact.phone == "+49307654321"


def test_a_company_cannot_become_the_parent_of_its_own_parent(sales_a):
    holding = CompanyFactory(owner=sales_a)
    daughter = CompanyFactory(owner=sales_a, parent=holding)
    granddaughter = CompanyFactory(owner=sales_a, parent=daughter)

    with pytest.raises(ValidationError) as raised:
        services.company_update(actor=sales_a, company=holding, parent=granddaughter)

    assert "parent" in raised.value.message_dict
    holding.refresh_from_db()
    assert holding.parent is None


def test_trash_purge_records_that_live_records_lost_their_link(sales_a):
    gone = CompanyFactory(name="Failliet B.V.", owner=sales_a)
    stays = ContactFactory(company=gone, owner=sales_a)
    subsidiary = CompanyFactory(parent=gone, owner=sales_a)
    services.record_delete(actor=sales_a, record=gone)
    Company.objects.filter(pk=gone.pk).update(deleted_at=timezone.now() - timedelta(days=31))

    services.trash_purge(older_than_days=30)

    stays.refresh_from_db()
    subsidiary.refresh_from_db()
    assert stays.company is None
    assert subsidiary.parent is None
    unlinked = AuditEntry.objects.get(object_id=stays.pk, content_type__model="contact")
    assert unlinked.changes == {"company": [{"id": gone.pk, "name": "Failliet B.V."}, None]}
    assert unlinked.actor is None
    assert AuditEntry.objects.filter(object_id=subsidiary.pk, changes__has_key="parent").exists()


def test_the_city_filter_follows_an_edited_city(sales_a):
    company = CompanyFactory(city="Utrecht", owner=sales_a)

    services.company_update(actor=sales_a, company=company, city="'s-Hertogenbosch")

    company.refresh_from_db()
    assert company.city_key == "'s-hertogenbosch"


def test_a_new_contact_with_an_address_that_objected_before_comes_in_uncallable(sales_a):
    objected = services.contact_create(actor=sales_a, last_name="Nee", email="nee@x.nl")
    services.contact_update(actor=sales_a, contact=objected, do_not_call=True)

    again = services.contact_create(actor=sales_a, last_name="Weer", email="NEE@x.nl")
    other = services.contact_create(actor=sales_a, last_name="Ander", email="ander@x.nl")

    assert (again.do_not_call, other.do_not_call) == (True, False)


def test_emptying_the_trash_does_not_put_people_on_the_suppression_list(sales_a):
    from koers.crm.models import Suppression

    contact = services.contact_create(actor=sales_a, last_name="Weg", email="weg@x.nl")
    services.record_delete(actor=sales_a, record=contact)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        services.trash_purge(older_than_days=30)

    assert not Suppression.objects.exists()
    assert (
        services.contact_create(actor=sales_a, last_name="Weg", email="weg@x.nl").do_not_call
        is False
    )


def test_technologies_and_custom_fields_are_trimmed_and_kept_once(sales_a):
    company = services.company_create(
        actor=sales_a,
        name="Veldhuis B.V.",
        technologies=["  Exact Online ", "Salesforce", "exact online", "HubSpot"],
        custom_fields={" branche ": "  bouw ", "vestigingen": 3, "omzetgroei": -1.5, "leeg": " "},
    )
    contact = services.contact_create(
        actor=sales_a, last_name="Smit", custom_fields={"leeftijd": 41, "hobby": "zeilen"}
    )

    company.refresh_from_db()
    contact.refresh_from_db()
    # The first spelling of a technology stays; an empty text is no value.
    assert company.technologies == ["Exact Online", "Salesforce", "HubSpot"]
    assert company.custom_fields == {"branche": "bouw", "vestigingen": 3, "omzetgroei": -1.5}
    assert contact.custom_fields == {"leeftijd": 41, "hobby": "zeilen"}
    created = AuditEntry.objects.get(
        content_type__model="company", object_id=company.pk, action=AuditEntry.Action.CREATED
    )
    assert created.changes["technologies"] == [None, "Exact Online, Salesforce, HubSpot"]
    assert created.changes["custom_fields"] == [
        None,
        "branche: bouw; omzetgroei: -1.5; vestigingen: 3",
    ]


def test_invalid_technologies_and_custom_fields_are_refused_naming_the_field(sales_a):
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        services.company_create(
            actor=sales_a,
            name="Foutief B.V.",
            technologies=["Exact", "x" * 101, ""],
            custom_fields={
                "": 1,
                "lang": "y" * 501,
                "oneindig": float("inf"),
                "waar": True,
                "lijst": [1, 2],
                "nul": "a\x00b",
            },
        )

    errors = raised.value.message_dict
    assert set(errors) == {"technologies", "custom_fields"}
    assert "Use at most 100 characters (this has 101)." in " ".join(errors["technologies"])
    assert "A technology needs a name." in errors["technologies"]
    custom = "\n".join(errors["custom_fields"])
    assert "Custom field name “”: A custom field needs a name." in custom
    assert "Custom field “lang”: Use at most 500 characters (this has 501)." in custom
    assert "Custom field “oneindig”: Use a number between" in custom
    assert "Custom field “waar”: Use a text or a number, not yes/no." in custom
    assert "Custom field “lijst”: Use a text or a number." in custom
    assert "Custom field “nul”: This text holds control characters." in custom
    assert not Company.objects.exists()


def test_at_most_fifty_technologies_and_custom_fields(sales_a):
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        services.company_create(
            actor=sales_a,
            name="Veel B.V.",
            technologies=[f"Tool {number}" for number in range(51)],
            custom_fields={f"veld {number}": number for number in range(51)},
        )

    errors = raised.value.message_dict
    assert errors["technologies"] == ["At most 50 technologies (this has 51)."]
    assert errors["custom_fields"] == ["At most 50 custom fields (this has 51)."]
    # Repeats do not count: these are fifty.
    company = services.company_create(
        actor=sales_a,
        name="Genoeg B.V.",
        technologies=[f"Tool {number % 50}" for number in range(80)],
    )
    assert len(company.technologies) == 50


def test_changing_custom_fields_is_saved_and_audited_even_when_only_the_type_changes(sales_a):
    company = services.company_create(actor=sales_a, name="Veldhuis", custom_fields={"maat": 5})

    services.company_update(actor=sales_a, company=company, custom_fields={"maat": "5"})
    company.refresh_from_db()
    assert company.custom_fields == {"maat": "5"}
    services.company_update(actor=sales_a, company=company, technologies=["SAP"])
    # The same values again change nothing.
    services.company_update(
        actor=sales_a, company=company, technologies=["SAP"], custom_fields={"maat": "5"}
    )

    updates = AuditEntry.objects.filter(
        object_id=company.pk, action=AuditEntry.Action.UPDATED
    ).order_by("id")
    assert [entry.changes for entry in updates] == [
        {"custom_fields": ["maat: 5", "maat: 5"]},
        {"technologies": ["", "SAP"]},
    ]
