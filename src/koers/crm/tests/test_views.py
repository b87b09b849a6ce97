import pytest
from django.urls import reverse
from django.utils import translation

from koers.core.models import AuditEntry, SavedView
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Company, Contact, LifecycleStage


@pytest.fixture
def company_a(sales_a):
    return CompanyFactory(name="Noordelijk Bouw B.V.", owner=sales_a)


@pytest.fixture
def company_b(sales_b):
    return CompanyFactory(name="Zuidelijk Transport B.V.", owner=sales_b)


@pytest.fixture
def contact_b(company_b, sales_b):
    return ContactFactory(company=company_b, owner=sales_b, last_name="Zuiderwijk")


VALID_COMPANY = {
    "name": "Stroomlijn Software B.V.",
    "legal_form": "bv",
    "kvk_number": "01234567",
    "vat_number": "NL004495445B01",
    "phone": "030 123 4567",
    "street": "Oudegracht 1",
    "postcode": "3511 AA",
    "city": "Utrecht",
    "country": "NL",
    "lifecycle_stage": "prospect",
}


def post_company(client, **changes):
    data = {**VALID_COMPANY, **changes}
    return client.post(reverse("crm:company-create"), data)


def test_creating_a_company_redirects_to_it_with_normalised_values(sales_a, client_for):
    client = client_for(sales_a)

    response = post_company(client, owner=sales_a.pk, phone="0301234567")

    company = Company.objects.get()
    assert response.url == company.get_absolute_url()
    assert company.phone == "+31301234567"
    detail = client.get(response.url).content.decode()
    assert "030 123 4567" in detail
    assert "NL004495445B01" in detail


@pytest.mark.parametrize(
    ("field", "bad_value", "expected"),
    [
        ("kvk_number", "1234", {"en": ("KvK number", "8 digits"), "nl": ("KvK-nummer", "8 cijfers")}),
        ("vat_number", "NL123456789B90", {"en": ("VAT number", "valid VAT"), "nl": ("Btw-nummer", "geldig btw")}),
        ("phone", "12", {"en": ("Phone", "valid phone"), "nl": ("Telefoon", "geldig telefoon")}),
        ("postcode", "12345", {"en": ("Postcode", "Dutch postcode"), "nl": ("Postcode", "Nederlandse postcode")}),
    ],
)  # fmt: skip
@pytest.mark.parametrize("language", ["en", "nl"])
def test_an_invalid_value_is_refused_naming_its_field_and_the_form_keeps_the_rest(
    sales_a, client_for, field, bad_value, expected, language
):
    client = client_for(sales_a, language=language)

    response = post_company(client, **{field: bad_value}, owner=sales_a.pk)

    assert response.status_code == 200
    assert not Company.objects.exists()
    form = response.context["form"]
    assert list(form.errors) == [field]
    label, words = expected[language]
    with translation.override(language):
        summary = dict(form.error_summary())
    assert words in summary[label]
    page = response.content.decode()
    assert f"<strong>{label}</strong>" in page
    assert 'value="Stroomlijn Software B.V."' in page
    assert 'value="Oudegracht 1"' in page
    assert f'value="{bad_value}"' in page


def test_an_invalid_email_on_a_contact_names_the_field(sales_a, client_for, company_a):
    client = client_for(sales_a, language="nl")

    response = client.post(
        reverse("crm:contact-create"),
        {
            "first_name": "Jan",
            "last_name": "Jansen",
            "email": "jan@@bakker",
            "company": company_a.pk,
            "lifecycle_stage": "lead",
            "owner": sales_a.pk,
        },
    )

    assert list(response.context["form"].errors) == ["email"]
    assert "<strong>E-mailadres</strong>" in response.content.decode()
    assert 'value="Jansen"' in response.content.decode()
    assert not Contact.objects.exists()


def test_a_contact_created_from_a_company_shows_on_that_company(sales_a, client_for, company_a):
    client = client_for(sales_a)
    form_page = client.get(reverse("crm:contact-create") + f"?company={company_a.pk}")
    assert form_page.context["form"].initial["company"] == company_a.pk

    client.post(
        reverse("crm:contact-create"),
        {
            "first_name": "Els",
            "name_prefix": "van",
            "last_name": "Dijk",
            "email": "els@noordelijk.nl",
            "company": company_a.pk,
            "lifecycle_stage": "lead",
            "owner": sales_a.pk,
        },
    )

    detail = client.get(company_a.get_absolute_url()).content.decode()
    assert "Els van Dijk" in detail


def test_editing_records_the_change_in_the_history_on_the_page(sales_a, client_for, company_a):
    client = client_for(sales_a)
    old_city = "Zwolle"  # not left to the factory, which might pick Groningen
    Company.objects.filter(pk=company_a.pk).update(city=old_city)
    data = {**VALID_COMPANY, "name": company_a.name, "city": "Groningen", "postcode": "9711 AA"}

    client.post(reverse("crm:company-edit", args=[company_a.pk]), {**data, "owner": sales_a.pk})

    response = client.get(company_a.get_absolute_url())
    assert AuditEntry.objects.filter(object_id=company_a.pk, action="updated").exists()
    latest = response.context["history"][0]
    assert latest.action == "updated"
    assert ("city", old_city, "Groningen") in [(c.field, c.old, c.new) for c in latest.changes]
    assert f'<del class="text-secondary">{old_city}</del> → Groningen' in response.content.decode()


def test_delete_and_restore_through_the_trash(sales_a, client_for, company_a):
    client = client_for(sales_a)

    deleted = client.post(reverse("crm:company-delete", args=[company_a.pk]), follow=True)
    restore_url = reverse("crm:company-restore", args=[company_a.pk])
    assert f'action="{restore_url}"' in deleted.content.decode()  # the message offers undo
    assert client.get(company_a.get_absolute_url()).status_code == 404
    assert company_a.name in client.get(reverse("crm:trash")).content.decode()
    assert company_a.name not in client.get(reverse("crm:company-list")).content.decode()

    response = client.post(reverse("crm:company-restore", args=[company_a.pk]))
    assert response.url == company_a.get_absolute_url()
    assert client.get(company_a.get_absolute_url()).status_code == 200


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "crm:company-detail"),
        ("get", "crm:company-edit"),
        ("post", "crm:company-edit"),
        ("post", "crm:company-delete"),
        ("post", "crm:company-restore"),
    ],
)
def test_another_teams_company_is_not_found_at_any_url(
    sales_a, client_for, company_b, method, name
):
    if name.endswith("restore"):  # a restore looks in the trash: put it there
        Company.objects.filter(pk=company_b.pk).update(deleted_at=company_b.updated_at)
    client = client_for(sales_a)
    response = getattr(client, method)(reverse(name, args=[company_b.pk]), VALID_COMPANY)
    assert response.status_code == 404
    company_b.refresh_from_db()
    assert (company_b.deleted_at is not None) == name.endswith("restore")
    assert company_b.name == "Zuidelijk Transport B.V."


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "crm:contact-detail"),
        ("get", "crm:contact-edit"),
        ("post", "crm:contact-edit"),
        ("post", "crm:contact-delete"),
        ("post", "crm:contact-restore"),
    ],
)
def test_another_teams_contact_is_not_found_at_any_url(
    sales_a, client_for, contact_b, method, name
):
    if name.endswith("restore"):
        Contact.objects.filter(pk=contact_b.pk).update(deleted_at=contact_b.updated_at)
    client = client_for(sales_a)
    response = getattr(client, method)(reverse(name, args=[contact_b.pk]), {"last_name": "X"})
    assert response.status_code == 404
    contact_b.refresh_from_db()
    assert contact_b.last_name == "Zuiderwijk"
    assert (contact_b.deleted_at is not None) == name.endswith("restore")


def test_lists_search_and_picker_show_only_visible_records(
    sales_a, client_for, company_a, company_b, contact_b
):
    client = client_for(sales_a)

    companies = client.get(reverse("crm:company-list")).content.decode()
    contacts = client.get(reverse("crm:contact-list")).content.decode()
    search = client.get(reverse("crm:search"), {"q": "zuid"}).content.decode()
    pick = client.get(reverse("crm:company-pick"), {"q": "transport"}).content.decode()
    filtered = client.get(reverse("crm:contact-list"), {"company_id": company_b.pk})

    assert company_a.name in companies
    assert company_b.name not in companies
    assert "Zuiderwijk" not in contacts
    assert company_b.name not in search
    assert "Zuiderwijk" not in search
    assert company_b.name not in pick
    assert filtered.context["page"].rows == []
    assert filtered.context["company"] is None


def test_a_manager_sees_every_team(manager, client_for, company_a, company_b):
    page = client_for(manager).get(reverse("crm:company-list")).content.decode()
    assert company_a.name in page
    assert company_b.name in page


def test_read_only_users_see_records_but_cannot_change_them(read_only_a, client_for, company_a):
    client = client_for(read_only_a)

    assert client.get(company_a.get_absolute_url()).status_code == 200
    assert client.get(reverse("crm:company-create")).status_code == 403
    assert client.post(reverse("crm:company-delete", args=[company_a.pk])).status_code == 403
    assert post_company(client).status_code == 403
    assert not Company.objects.filter(name=VALID_COMPANY["name"]).exists()


def test_list_filters_sort_and_paginate(manager, client_for, sales_a):
    for n in range(30):
        CompanyFactory(
            name=f"Bedrijf {n:02d}",
            city="Zwolle" if n % 2 else "Delft",
            lifecycle_stage=LifecycleStage.CUSTOMER if n < 10 else LifecycleStage.PROSPECT,
            owner=sales_a,
        )
    client = client_for(manager)

    response = client.get(
        reverse("crm:company-list"),
        {"city": "zwolle", "lifecycle_stage": "customer", "sort": "-name", "per_page": "25"},
    )
    assert [c.name for c in response.context["page"].rows] == [
        "Bedrijf 09",
        "Bedrijf 07",
        "Bedrijf 05",
        "Bedrijf 03",
        "Bedrijf 01",
    ]

    first = client.get(reverse("crm:company-list"), {"per_page": "25"})
    assert first.context["page"].has_next
    assert first.context["page"].total is None  # counted by the footer's own request
    footer = client.get(reverse("crm:company-list"), {"per_page": "25", "count": "1"})
    assert footer.context["page"].total == 30
    assert "1–25 of 30" in footer.content.decode()

    second = client.get(reverse("crm:company-list"), {"per_page": "25", "page": "2"})
    assert second.context["page"].total == 30  # the last page knows without counting
    assert [c.name for c in second.context["page"].rows] == [f"Bedrijf {n}" for n in range(25, 30)]
    assert "26–30 of 30" in second.content.decode()

    past_the_end = client.get(reverse("crm:company-list"), {"per_page": "25", "page": "9"})
    assert past_the_end.context["page"].number == 1
    assert "page=1&amp;count=1" in past_the_end.content.decode()  # the footer counts page 1
    assert client.get(reverse("crm:company-list"), {"page": "9" * 30}).status_code == 200


def test_the_list_answers_htmx_with_the_table_only(manager, client_for, company_a):
    response = client_for(manager).get(
        reverse("crm:company-list"),
        {"q": "noord"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="record-list",
    )
    page = response.content.decode()
    assert company_a.name in page
    assert "<html" not in page


@pytest.mark.parametrize("url_name", ["crm:company-list", "crm:contact-list"])
def test_a_list_page_runs_the_same_number_of_queries_whatever_its_size(
    manager, client_for, django_assert_max_num_queries, url_name, sales_a
):
    client = client_for(manager)
    for _ in range(3):
        ContactFactory(company__owner=sales_a, owner=sales_a)
    with django_assert_max_num_queries(12) as small:
        client.get(reverse(url_name), {"per_page": "100"})
    for _ in range(60):
        ContactFactory(company__owner=sales_a, owner=sales_a)
    with django_assert_max_num_queries(12) as large:
        client.get(reverse(url_name), {"per_page": "100"})
    assert len(large.captured_queries) == len(small.captured_queries)


def test_company_detail_queries_do_not_grow_with_its_contacts(
    manager, client_for, django_assert_max_num_queries, company_a, sales_a
):
    client = client_for(manager)
    ContactFactory(company=company_a, owner=sales_a)
    # A first request fills the per-process content type cache (the audit trail's lookup),
    # so that the counts below do not depend on which tests ran before.
    client.get(company_a.get_absolute_url())
    # 21, none of them per row. The page itself 9: session, user, visibility, company, its
    # contacts and their count, subsidiaries, audit trail, unread notifications. The panels
    # 12: account team 3 (members; the count and the list of active users for its form),
    # deals 3 (stall days, deals, their count), ICP fit 1 (the criteria) and timeline 5
    # (done and planned activities, stage changes, web events, the task form's owners).
    with django_assert_max_num_queries(21) as few:
        client.get(company_a.get_absolute_url())
    for _ in range(40):
        ContactFactory(company=company_a, owner=sales_a)
    with django_assert_max_num_queries(21) as many:
        client.get(company_a.get_absolute_url())
    assert len(many.captured_queries) == len(few.captured_queries)


def test_saved_views_keep_a_filter_for_their_owner_and_can_be_shared(
    sales_a, colleague_a, client_for
):
    client = client_for(sales_a)
    client.post(
        reverse("core:saved-view-save"),
        {
            "list_name": "crm.companies",
            "name": "Klanten in Utrecht",
            "query": "?city=Utrecht&lifecycle_stage=customer",
            "next": reverse("crm:company-list"),
        },
    )
    client.post(
        reverse("core:saved-view-save"),
        {
            "list_name": "crm.companies",
            "name": "Gedeeld",
            "query": "lifecycle_stage=lead",
            "is_shared": "on",
            "next": reverse("crm:company-list"),
        },
    )

    own_views = client.get(reverse("crm:company-list")).context["saved_views"]
    colleague_views = (
        client_for(colleague_a).get(reverse("crm:company-list")).context["saved_views"]
    )

    assert [(v.name, v.query) for v in own_views] == [
        ("Gedeeld", "lifecycle_stage=lead"),
        ("Klanten in Utrecht", "city=Utrecht&lifecycle_stage=customer"),
    ]
    assert [v.name for v in colleague_views] == ["Gedeeld"]
    shared = SavedView.objects.get(name="Gedeeld")
    client_for(colleague_a).post(reverse("core:saved-view-delete", args=[shared.pk]))
    assert SavedView.objects.filter(pk=shared.pk).exists()


def test_the_start_page_shows_the_users_own_numbers(sales_a, client_for, company_a):
    ContactFactory.create_batch(3, company=company_a, owner=sales_a, lifecycle_stage="lead")
    response = client_for(sales_a).get(reverse("core:start"))
    section = dict(response.context["sections"])["crm/partials/start_section.html"]
    assert section["my_companies"] == 1
    assert section["my_contacts"] == 3
    assert section["chart"]["values"] == [3]
    assert section["chart"]["links"] == [
        f"{reverse('crm:contact-list')}?owner=me&lifecycle_stage=lead"
    ]


def test_a_posted_company_id_of_another_team_reveals_nothing(sales_a, client_for, company_b):
    response = client_for(sales_a).post(
        reverse("crm:contact-create"), {"last_name": "", "company": company_b.pk}
    )

    assert response.status_code == 200
    assert company_b.name not in response.content.decode()
    assert "company" in response.context["form"].errors


def test_a_contact_of_a_company_in_the_trash_can_still_be_edited(sales_a, client_for, company_a):
    contact = ContactFactory(company=company_a, owner=sales_a, last_name="Jansen")
    company_a.deleted_at = company_a.updated_at
    company_a.save()

    response = client_for(sales_a).post(
        reverse("crm:contact-edit", args=[contact.pk]),
        {"last_name": "Jansen", "job_title": "Inkoper", "company": company_a.pk,
         "lifecycle_stage": "lead", "owner": sales_a.pk},
    )  # fmt: skip

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.job_title == "Inkoper"


def test_the_trash_lists_contacts_apart_and_pages_through_them(sales_a, client_for):
    contacts = ContactFactory.create_batch(30, company=None, owner=sales_a)
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(
        deleted_at=contacts[0].updated_at
    )
    client = client_for(sales_a)

    first = client.get(reverse("crm:trash"), {"kind": "contacts", "per_page": "25"})
    second = client.get(reverse("crm:trash"), {"kind": "contacts", "per_page": "25", "page": "2"})

    assert len(first.context["page"].rows) == 25
    assert first.context["page"].has_next
    assert len(second.context["page"].rows) == 5
    assert not client.get(reverse("crm:trash")).context["page"].rows  # no companies deleted


def test_a_linked_company_of_another_team_is_named_but_not_linked(
    sales_a, client_for, company_a, company_b
):
    contact = ContactFactory(company=company_b, owner=sales_a)
    Company.objects.filter(pk=company_a.pk).update(parent=company_b)
    client = client_for(sales_a)

    contact_page = client.get(contact.get_absolute_url()).content.decode()
    company_page = client.get(company_a.get_absolute_url()).content.decode()

    for page in (contact_page, company_page):
        assert company_b.name in page
        assert company_b.get_absolute_url() not in page


def test_technologies_are_typed_as_one_line_and_shown_as_badges(sales_a, client_for):
    client = client_for(sales_a)

    response = post_company(
        client, owner=sales_a.pk, technologies="Exact Online, Salesforce; exact online,, HubSpot"
    )

    company = Company.objects.get()
    assert response.url == company.get_absolute_url()
    assert company.technologies == ["Exact Online", "Salesforce", "HubSpot"]
    # Editing shows them on one line again, and keeps the custom fields the form has not.
    Company.objects.filter(pk=company.pk).update(custom_fields={"vestigingen": 3})
    edit = client.get(reverse("crm:company-edit", args=[company.pk])).content.decode()
    assert 'value="Exact Online, Salesforce, HubSpot"' in edit
    client.post(
        reverse("crm:company-edit", args=[company.pk]),
        {**VALID_COMPANY, "owner": sales_a.pk, "technologies": "SAP"},
    )
    company.refresh_from_db()
    assert company.technologies == ["SAP"]
    assert company.custom_fields == {"vestigingen": 3}


def test_a_too_long_technology_is_refused_next_to_its_field(sales_a, client_for):
    client = client_for(sales_a)

    response = post_company(client, owner=sales_a.pk, technologies="Exact, " + "x" * 101)

    assert response.status_code == 200
    assert not Company.objects.exists()
    assert list(response.context["form"].errors) == ["technologies"]
    assert "Use at most 100 characters (this has 101)." in response.content.decode()


def test_detail_pages_show_technologies_and_custom_fields_only_when_there_are_any(
    sales_a, client_for, company_a
):
    client = client_for(sales_a)
    contact = ContactFactory(company=company_a, owner=sales_a)

    company_page = client.get(company_a.get_absolute_url()).content.decode()
    contact_page = client.get(contact.get_absolute_url()).content.decode()
    assert 'data-testid="custom-fields"' not in company_page
    assert 'data-testid="custom-fields"' not in contact_page

    Company.objects.filter(pk=company_a.pk).update(
        technologies=["Exact Online", "<b>SAP</b>"],
        custom_fields={"vestigingen": 3, "Branche": "bouw", "groei": 1.5},
    )
    Contact.objects.filter(pk=contact.pk).update(custom_fields={"leeftijd": 41})
    company_page = client.get(company_a.get_absolute_url()).content.decode()
    contact_page = client.get(contact.get_absolute_url()).content.decode()

    assert '<span class="badge bg-azure-lt me-1 mb-1 text-wrap text-break">Exact Online</span>' in (
        company_page
    )
    assert "&lt;b&gt;SAP&lt;/b&gt;" in company_page  # escaped, as any value
    # By name, case-blind, whatever order the database keeps them in.
    assert company_page.index(">Branche</dt>") < company_page.index(">groei</dt>")
    assert company_page.index(">groei</dt>") < company_page.index(">vestigingen</dt>")
    assert 'data-testid="custom-field">1.5</dd>' in company_page
    assert '>leeftijd</dt><dd class="col-7 text-break" data-testid="custom-field">41</dd>' in (
        contact_page
    )


def test_saving_a_company_unchanged_keeps_a_technology_with_a_comma_whole(sales_a, client_for):
    client = client_for(sales_a)
    company = CompanyFactory(
        owner=sales_a,
        technologies=["Foo, Inc.", "SAP"],
        **{name: value for name, value in VALID_COMPANY.items() if name != "lifecycle_stage"},
    )
    url = reverse("crm:company-edit", args=[company.pk])
    typed = client.get(url).context["form"]["technologies"].value()

    response = client.post(
        url, {**VALID_COMPANY, "owner": sales_a.pk, "technologies": "Foo, Inc., SAP"}
    )

    assert response.status_code == 302
    assert typed == "Foo, Inc., SAP"
    company.refresh_from_db()
    assert company.technologies == ["Foo, Inc.", "SAP"]
