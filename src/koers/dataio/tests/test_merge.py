import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from koers.activities import services as activity_services
from koers.activities.models import AccountTeamMember, Activity
from koers.core.models import AuditEntry
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Company, Contact
from koers.dataio.models import Merge
from koers.dataio.services.merges import company_merge, contact_merge, merge_undo
from koers.pipeline import services as pipeline_services
from koers.pipeline.factories import PipelineFactory
from koers.pipeline.models import Deal, DealContact


@pytest.fixture
def company_a(sales_a):
    return CompanyFactory(
        owner=sales_a, name="Veldhuis Techniek B.V.", city="Utrecht", domain="veldhuis.nl"
    )


@pytest.fixture
def pair(sales_a, company_a):
    """Jan de Vries twice: once with his email, once with his mobile number."""
    survivor = ContactFactory(
        company=company_a,
        owner=sales_a,
        first_name="Jan",
        name_prefix="de",
        last_name="Vries",
        email="",
        phone="+31301234567",
        mobile="",
        job_title="Inkoper",
    )
    merged = ContactFactory(
        company=company_a,
        owner=sales_a,
        first_name="Jan",
        name_prefix="de",
        last_name="Vreis",
        email="jan.devries@veldhuis.nl",
        phone="",
        mobile="+31612345678",
        job_title="Hoofd inkoop",
    )
    return survivor, merged


def _audit(record, action):
    return list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(record),
            object_id=record.pk,
            action=action,
        ).values_list("changes", flat=True)
    )


def test_contact_merge_moves_activities_and_deals_to_the_survivor_and_trashes_the_other(
    sales_a, pair
):
    survivor, merged = pair
    call = activity_services.activity_log(
        actor=sales_a, kind="call", subject="Gebeld", contact=merged
    )
    note = activity_services.activity_log(
        actor=sales_a, kind="note", subject="Notitie", contact=survivor
    )
    pipeline = PipelineFactory()
    deal = pipeline_services.deal_create(
        actor=sales_a, name="Uitbreiding", pipeline=pipeline, contacts=[(merged, "champion")]
    )
    both = pipeline_services.deal_create(
        actor=sales_a,
        name="Verlenging",
        pipeline=pipeline,
        contacts=[(survivor, "decision_maker"), (merged, "user")],
    )

    merge = contact_merge(
        actor=sales_a,
        survivor=survivor,
        merged=merged,
        values={"email": merged.email, "mobile": merged.mobile, "last_name": survivor.last_name},
    )

    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert (survivor.email, survivor.mobile, survivor.phone, survivor.job_title) == (
        "jan.devries@veldhuis.nl",
        "+31612345678",
        "+31301234567",
        "Inkoper",
    )
    assert merged.is_deleted
    assert list(Activity.objects.filter(contact=survivor).order_by("pk")) == [call, note]
    assert list(survivor.deals.order_by("pk")) == [deal, both]
    # Already on the survivor's deal: that role stays with the merged contact, in the trash.
    assert list(DealContact.objects.filter(contact=merged).values_list("deal", flat=True)) == [
        both.pk
    ]
    assert merge.moved == {
        "activities.activity.contact": [call.pk],
        "pipeline.dealcontact.contact": [DealContact.objects.get(deal=deal, contact=survivor).pk],
    }
    assert merge.survivor_before == {"email": "", "mobile": ""}
    assert (merge.kind, merge.survivor_id, merge.merged_id, merge.actor) == (
        "contact",
        survivor.pk,
        merged.pk,
        sales_a,
    )
    survivor_changes = _audit(survivor, AuditEntry.Action.UPDATED)
    assert {"email": ["", "jan.devries@veldhuis.nl"], "mobile": ["", "+31612345678"]} in (
        survivor_changes
    )
    assert {"merged_with": [None, {"id": merged.pk, "name": "Jan de Vreis"}]} in survivor_changes
    assert _audit(merged, AuditEntry.Action.UPDATED) == [
        {"merged_into": [None, {"id": survivor.pk, "name": "Jan de Vries"}]}
    ]
    assert len(_audit(merged, AuditEntry.Action.DELETED)) == 1


def test_merge_undo_restores_both_records_and_their_links_exactly(sales_a, pair):
    survivor, merged = pair
    call = activity_services.activity_log(
        actor=sales_a, kind="call", subject="Gebeld", contact=merged
    )
    pipeline = PipelineFactory()
    deal = pipeline_services.deal_create(
        actor=sales_a, name="Uitbreiding", pipeline=pipeline, contacts=[(merged, "champion")]
    )
    columns = [
        field.attname for field in Contact._meta.concrete_fields if field.name != "updated_at"
    ]
    before = {
        pk: values
        for pk, *values in Contact.objects.filter(pk__in=[survivor.pk, merged.pk]).values_list(
            "pk", *columns
        )
    }
    merge = contact_merge(
        actor=sales_a,
        survivor=survivor,
        merged=merged,
        values={"email": merged.email, "job_title": merged.job_title, "company": None},
    )

    merge_undo(actor=sales_a, merge=merge)

    after = {
        pk: values
        for pk, *values in Contact.objects.filter(pk__in=[survivor.pk, merged.pk]).values_list(
            "pk", *columns
        )
    }
    assert after == before
    assert Activity.objects.get(pk=call.pk).contact_id == merged.pk
    assert list(deal.contacts.all()) == [merged]
    merge.refresh_from_db()
    assert merge.undone_at is not None
    survivor_changes = _audit(survivor, AuditEntry.Action.UPDATED)
    assert {"merged_with": [{"id": merged.pk, "name": "Jan de Vreis"}, None]} in [
        {key: value for key, value in changes.items() if key == "merged_with"}
        for changes in survivor_changes
    ]
    assert len(_audit(merged, AuditEntry.Action.RESTORED)) == 1
    with pytest.raises(ValidationError):
        merge_undo(actor=sales_a, merge=merge)


def test_company_merge_moves_contacts_deals_activities_team_and_subsidiaries(
    sales_a, colleague_a, company_a
):
    other = CompanyFactory(owner=sales_a, name="Veldhuis Techniek", city="Utrecht", phone="")
    company_a.parent = other
    company_a.save(update_fields=["parent"])
    subsidiary = CompanyFactory(owner=sales_a, parent=other)
    person = ContactFactory(company=other, owner=sales_a)
    deal = pipeline_services.deal_create(
        actor=sales_a, name="Onderhoud", pipeline=PipelineFactory(), company=other
    )
    visit = activity_services.activity_log(
        actor=sales_a, kind="visit", subject="Bezoek", company=other
    )
    activity_services.account_team_add(
        actor=sales_a, company=company_a, user=colleague_a, role="ae"
    )
    twin = activity_services.account_team_add(
        actor=sales_a, company=other, user=colleague_a, role="ae"
    )
    support = activity_services.account_team_add(
        actor=sales_a, company=other, user=sales_a, role="ae"
    )

    phone = company_a.phone

    merge = company_merge(
        actor=sales_a, survivor=company_a, merged=other, values={"phone": "030 123 4567"}
    )

    company_a.refresh_from_db()
    assert company_a.phone == "+31301234567"  # normalised by the crm service
    assert company_a.parent is None  # not its own parent
    assert Contact.objects.get(pk=person.pk).company == company_a
    assert Deal.objects.get(pk=deal.pk).company == company_a
    assert Activity.objects.get(pk=visit.pk).company == company_a
    assert Company.objects.get(pk=subsidiary.pk).parent == company_a
    assert AccountTeamMember.objects.get(pk=support.pk).company == company_a
    assert AccountTeamMember.objects.get(pk=twin.pk).company == other  # already there
    assert Company.objects.get(pk=other.pk).is_deleted
    assert sorted(merge.moved) == [
        "activities.accountteammember.company",
        "activities.activity.company",
        "crm.company.parent",
        "crm.contact.company",
        "pipeline.deal.company",
    ]

    merge_undo(actor=sales_a, merge=merge)

    company_a.refresh_from_db()
    assert (company_a.parent, company_a.phone) == (other, phone)
    assert Contact.objects.get(pk=person.pk).company == other
    assert Deal.objects.get(pk=deal.pk).company == other
    assert Company.objects.get(pk=subsidiary.pk).parent == other
    assert not Company.objects.get(pk=other.pk).is_deleted


def test_a_do_not_call_of_either_contact_stays_on_the_survivor(sales_a, pair):
    survivor, merged = pair
    merged.do_not_call = True
    merged.save(update_fields=["do_not_call"])

    contact_merge(actor=sales_a, survivor=survivor, merged=merged, values={"do_not_call": False})

    survivor.refresh_from_db()
    assert survivor.do_not_call


def test_nobody_merges_records_they_cannot_see_or_may_not_change(sales_b, read_only_a, pair):
    survivor, merged = pair
    with pytest.raises(PermissionDenied):
        contact_merge(actor=sales_b, survivor=survivor, merged=merged, values={})
    with pytest.raises(PermissionDenied):
        contact_merge(actor=read_only_a, survivor=survivor, merged=merged, values={})
    assert not Merge.objects.exists()
    assert not Contact.objects.filter(deleted_at__isnull=False).exists()


def test_a_record_merged_again_later_is_undone_in_order(sales_a, pair, company_a):
    survivor, merged = pair
    third = ContactFactory(company=company_a, owner=sales_a, first_name="Jan", last_name="Vries")
    first = contact_merge(actor=sales_a, survivor=survivor, merged=merged, values={})
    second = contact_merge(actor=sales_a, survivor=third, merged=survivor, values={})

    with pytest.raises(ValidationError):
        merge_undo(actor=sales_a, merge=first)

    merge_undo(actor=sales_a, merge=second)
    merge_undo(actor=sales_a, merge=first)
    assert (
        Contact.objects.filter(pk__in=[survivor.pk, merged.pk, third.pk], deleted_at=None).count()
        == 3
    )


# Through the pages.


def test_merging_on_the_pair_page_takes_the_picked_values_and_offers_undo(
    sales_a, pair, client_for
):
    survivor, merged = pair
    client = client_for(sales_a)
    url = reverse("dataio:duplicate-pair", args=["contact", survivor.pk, merged.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"jan.devries@veldhuis.nl" in page.content

    response = client.post(
        url, {"survivor": str(survivor.pk), "email": "second", "job_title": "first"}, follow=True
    )

    survivor.refresh_from_db()
    assert survivor.email == "jan.devries@veldhuis.nl"
    assert survivor.job_title == "Inkoper"
    assert Contact.objects.get(pk=merged.pk).is_deleted
    merge = Merge.objects.get()
    assert response.redirect_chain[-1][0] == survivor.get_absolute_url()
    undo_url = reverse("dataio:merge-undo", args=[merge.pk])
    assert undo_url.encode() in response.content

    response = client.post(undo_url, follow=True)

    assert response.status_code == 200
    assert not Contact.objects.get(pk=merged.pk).is_deleted
    survivor.refresh_from_db()
    assert survivor.email == ""


def test_the_survivor_can_be_the_second_record(sales_a, pair, client_for):
    survivor, merged = pair
    client = client_for(sales_a)
    url = reverse("dataio:duplicate-pair", args=["contact", survivor.pk, merged.pk])

    client.post(url, {"survivor": str(merged.pk), "job_title": "first"})

    merged.refresh_from_db()
    assert not merged.is_deleted
    assert merged.job_title == "Inkoper"
    assert Contact.objects.get(pk=survivor.pk).is_deleted


def test_read_only_users_see_the_pair_but_cannot_merge(read_only_a, pair, client_for):
    survivor, merged = pair
    client = client_for(read_only_a)
    url = reverse("dataio:duplicate-pair", args=["contact", survivor.pk, merged.pk])

    page = client.get(url)
    response = client.post(url, {"survivor": str(survivor.pk)})

    assert page.status_code == 200
    assert b'data-testid="merge"' not in page.content
    assert response.status_code == 403
    assert not Merge.objects.exists()


def test_a_pair_of_another_team_does_not_exist_for_you(sales_b, pair, client_for):
    survivor, merged = pair
    client = client_for(sales_b)
    url = reverse("dataio:duplicate-pair", args=["contact", survivor.pk, merged.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"survivor": str(survivor.pk)}).status_code == 404
    merge = contact_merge(actor=pair[0].owner, survivor=survivor, merged=merged, values={})
    assert client.post(reverse("dataio:merge-undo", args=[merge.pk])).status_code == 404


def test_two_companies_are_merged_on_their_pair_page(sales_a, company_a, client_for):
    other = CompanyFactory(owner=sales_a, name="Veldhuis Techniek", city="Utrecht", industry="")
    person = ContactFactory(company=other, owner=sales_a)
    client = client_for(sales_a, language="nl")
    url = reverse("dataio:duplicate-pair", args=["company", other.pk, company_a.pk])

    page = client.get(url)
    client.post(url, {"survivor": str(company_a.pk), "name": "second", "industry": "first"})

    assert page.status_code == 200
    assert "Veldhuis Techniek B.V." in page.content.decode()
    company_a.refresh_from_db()
    assert company_a.name == "Veldhuis Techniek"
    assert Contact.objects.get(pk=person.pk).company == company_a
    assert Company.objects.get(pk=other.pk).is_deleted


def test_a_company_merge_keeps_the_technologies_and_custom_fields_of_both_and_undoes(
    sales_a, company_a, client_for
):
    Company.objects.filter(pk=company_a.pk).update(
        technologies=["Exact Online", "SAP"], custom_fields={"vestigingen": 3, "regio": "Noord"}
    )
    other = CompanyFactory(
        owner=sales_a,
        name="Veldhuis Techniek",
        technologies=["sap", "HubSpot"],
        custom_fields={"vestigingen": 4, "branche": "bouw"},
    )
    client = client_for(sales_a)
    url = reverse("dataio:duplicate-pair", args=["company", company_a.pk, other.pk])

    page = client.get(url).content.decode()
    assert "Exact Online, SAP" in page
    assert "branche: bouw; vestigingen: 4" in page
    assert "Both records&#x27; values are kept." in page
    client.post(url, {"survivor": str(company_a.pk), "name": "first"})

    company_a.refresh_from_db()
    assert company_a.technologies == ["Exact Online", "SAP", "HubSpot"]
    assert company_a.custom_fields == {"vestigingen": 3, "regio": "Noord", "branche": "bouw"}

    merge_undo(actor=sales_a, merge=Merge.objects.get())

    company_a.refresh_from_db()
    assert company_a.technologies == ["Exact Online", "SAP"]
    assert company_a.custom_fields == {"vestigingen": 3, "regio": "Noord"}
    technologies = [changes.get("technologies") for changes in _audit(company_a, "updated")]
    assert ["Exact Online, SAP", "Exact Online, SAP, HubSpot"] in technologies  # merged
    assert ["Exact Online, SAP, HubSpot", "Exact Online, SAP"] in technologies  # undone


def test_a_contact_merge_takes_the_custom_fields_asked_for(sales_a, pair):
    survivor, merged = pair
    Contact.objects.filter(pk=survivor.pk).update(custom_fields={"leeftijd": 40})
    Contact.objects.filter(pk=merged.pk).update(custom_fields={"leeftijd": 41, "regio": "Oost"})
    survivor.refresh_from_db()

    contact_merge(
        actor=sales_a, survivor=survivor, merged=merged, values={"custom_fields": {"leeftijd": 41}}
    )

    survivor.refresh_from_db()
    assert survivor.custom_fields == {"leeftijd": 41}


def test_a_merge_past_the_limit_of_custom_fields_asks_for_one_record_and_takes_it(
    sales_a, company_a
):
    own = {f"eigen {n}": n for n in range(30)}
    Company.objects.filter(pk=company_a.pk).update(custom_fields=own)
    company_a.refresh_from_db()
    other = CompanyFactory(
        owner=sales_a, name="Veldhuis Techniek", custom_fields={f"ander {n}": n for n in range(30)}
    )

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        company_merge(actor=sales_a, survivor=company_a, merged=other, values={})
    company_merge(actor=sales_a, survivor=company_a, merged=other, values={"custom_fields": own})

    assert refused.value.message_dict == {
        "custom_fields": [
            "Together the two records have 60 custom fields, more than the 50 one record "
            "may have: choose one record's."
        ]
    }
    company_a.refresh_from_db()
    assert company_a.custom_fields == own
    assert Company.objects.get(pk=other.pk).is_deleted


def test_the_pair_page_lets_one_pick_technologies_and_custom_fields_past_the_limit(
    sales_a, company_a, client_for
):
    mine, theirs = [f"Mijn {n}" for n in range(30)], [f"Hun {n}" for n in range(30)]
    Company.objects.filter(pk=company_a.pk).update(
        technologies=mine, custom_fields={f"eigen {n}": n for n in range(30)}
    )
    other = CompanyFactory(
        owner=sales_a,
        name="Veldhuis Techniek",
        technologies=theirs,
        custom_fields={f"ander {n}": n for n in range(30)},
    )
    client = client_for(sales_a)
    url = reverse("dataio:duplicate-pair", args=["company", company_a.pk, other.pk])

    page = client.get(url).content.decode()
    response = client.post(
        url,
        {
            "survivor": str(company_a.pk),
            "name": "first",
            "technologies": "first",
            "custom_fields": "second",
        },
    )

    assert page.count("Together these hold more than 50, the most one record may have") == 4
    assert 'name="technologies" value="second"' in page
    assert 'name="custom_fields" value="second"' in page
    assert "Both records&#x27; values are kept." not in page
    assert response.status_code == 302
    company_a.refresh_from_db()
    assert company_a.technologies == mine
    assert company_a.custom_fields == {f"ander {n}": n for n in range(30)}
    assert Company.objects.get(pk=other.pk).is_deleted
