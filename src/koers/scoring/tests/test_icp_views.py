"""The ICP pages: everyone reads the profile, the learned weights and the lookalikes;
admins, managers and marketing change the profile; the company page shows its fit."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from koers.core.models import User
from koers.crm.factories import CompanyFactory
from koers.crm.models import LifecycleStage
from koers.scoring import fit
from koers.scoring.models import CompanyFit, IcpCriterion, ScoringJob

CHANGING = [User.Role.ADMIN, User.Role.MANAGER, User.Role.MARKETING]
NOT_CHANGING = [User.Role.SALES, User.Role.SUCCESS, User.Role.READ_ONLY]
CRITERION_POST = {"attribute": "industry", "industry_values": ["62", "69"], "weight": "4"}


def company(**fields):
    values = {
        "industry": "",
        "employee_band": "",
        "revenue_band": "",
        "postcode": "",
        "country": "NL",
        "technologies": [],
        "custom_fields": {},
        **fields,
    }
    return CompanyFactory(**values)


@pytest.fixture
def marketer(make_user, team_a):
    return make_user(User.Role.MARKETING, team_a, username="mila")


@pytest.fixture
def criterion(db):
    return IcpCriterion.objects.create(attribute="region", values=["10", "35"], weight=2)


def _counts(html: str) -> list[str]:
    return re.findall(r'data-testid="grade-count">([^<]+)<', html)


# Who may do what


@pytest.mark.parametrize("role", CHANGING + NOT_CHANGING)
def test_everyone_may_read_the_icp_pages(role, make_user, client_for, criterion):
    client = client_for(make_user(role))
    for name in ["scoring:icp", "scoring:icp-learn", "scoring:icp-lookalikes"]:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
    html = client.get(reverse("scoring:icp")).content.decode()
    assert "Region (postcode area)" in html
    assert "10 or 35" in html
    may_change = role in CHANGING
    assert (reverse("scoring:icp-criterion-create") in html) is may_change
    assert (reverse("scoring:icp-criterion-edit", args=[criterion.pk]) in html) is may_change


@pytest.mark.parametrize("role", NOT_CHANGING)
def test_only_admins_managers_and_marketing_change_the_profile(
    role, make_user, client_for, criterion, django_capture_on_commit_callbacks
):
    client = client_for(make_user(role))
    edit = reverse("scoring:icp-criterion-edit", args=[criterion.pk])
    delete = reverse("scoring:icp-criterion-delete", args=[criterion.pk])
    create = reverse("scoring:icp-criterion-create")
    with django_capture_on_commit_callbacks() as queued:
        for url in [create, edit, delete]:
            assert client.get(url).status_code == 403
        assert client.post(create, CRITERION_POST).status_code == 403
        assert client.post(edit, CRITERION_POST).status_code == 403
        assert client.post(delete).status_code == 403
        assert client.post(reverse("scoring:icp-learn")).status_code == 403
    assert queued == []
    assert list(IcpCriterion.objects.values_list("attribute", "weight")) == [("region", 2)]
    assert not ScoringJob.objects.exists()


@pytest.mark.parametrize("role", CHANGING)
def test_admins_managers_and_marketing_open_every_form(role, make_user, client_for, criterion):
    client = client_for(make_user(role))
    for url in [
        reverse("scoring:icp-criterion-create"),
        reverse("scoring:icp-criterion-edit", args=[criterion.pk]),
        reverse("scoring:icp-criterion-delete", args=[criterion.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200
        assert reverse("scoring:icp") in response.content.decode()


# The criteria through the pages


def test_a_criterion_is_created_edited_and_deleted_through_the_pages(
    marketer, client_for, django_capture_on_commit_callbacks
):
    software = company(industry="62", postcode="1012 AB")
    client = client_for(marketer)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client.post(reverse("scoring:icp-criterion-create"), CRITERION_POST)
    assert response.status_code == 302
    assert response.url == reverse("scoring:icp")
    assert len(queued) == 1
    created = IcpCriterion.objects.get()
    assert (created.attribute, created.values, created.weight) == ("industry", ["62", "69"], 4)
    assert CompanyFit.objects.get(company=software).score == 100

    edit = reverse("scoring:icp-criterion-edit", args=[created.pk])
    page = client.get(edit).content.decode()
    assert re.search(r'<option value="62"[^>]*selected', page)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            edit,
            {"attribute": "region", "region_values": "10\r\n 35 \n\n97", "weight": "3"},
        )
    assert response.status_code == 302
    created.refresh_from_db()
    assert (created.attribute, created.values, created.weight) == ("region", ["10", "35", "97"], 3)
    assert re.search(
        r'name="region_values"[^>]*>\s*10\n35\n97</textarea>', client.get(edit).content.decode()
    )

    delete = reverse("scoring:icp-criterion-delete", args=[created.pk])
    assert "10, 35 or 97" in client.get(delete).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(delete)
    assert response.status_code == 302
    assert not IcpCriterion.objects.exists()
    assert not CompanyFit.objects.exists()
    assert ScoringJob.objects.filter(kind="fit", status="done").count() == 3


def test_a_custom_range_and_technologies_are_saved_from_the_form(marketer, client_for):
    client = client_for(marketer)
    client.post(
        reverse("scoring:icp-criterion-create"),
        {"attribute": "custom", "field": "Vloot", "minimum": "10", "maximum": "50", "weight": "2"},
    )
    client.post(
        reverse("scoring:icp-criterion-create"),
        {"attribute": "technology", "technology_values": "Exact Online\nAFAS", "weight": "-1"},
    )
    saved = sorted(
        (row.attribute, row.field, row.values, row.minimum, row.maximum, row.weight)
        for row in IcpCriterion.objects.all()
    )
    assert saved == [
        ("custom", "Vloot", [], 10.0, 50.0, 2),
        ("technology", "", ["Exact Online", "AFAS"], None, None, -1),
    ]


@pytest.mark.parametrize(
    ("post", "field"),
    [
        ({"attribute": "industry", "weight": "4"}, "industry_values"),
        ({"attribute": "region", "region_values": "Utrecht", "weight": "4"}, "region_values"),
        (
            {"attribute": "technology", "technology_values": " \n \n", "weight": "4"},
            "technology_values",
        ),
        ({"attribute": "custom", "custom_values": "groot", "weight": "4"}, "field"),
        ({"attribute": "custom", "field": "Vloot", "weight": "4"}, "custom_values"),
        (
            {
                "attribute": "custom",
                "field": "Vloot",
                "minimum": "9",
                "maximum": "3",
                "weight": "4",
            },
            "maximum",
        ),
        ({"attribute": "employee_band", "employee_band_values": ["1"], "weight": "0"}, "weight"),
        ({"attribute": "country", "country_values": ["NL"], "weight": "12"}, "weight"),
        ({"attribute": "country", "country_values": ["XX"], "weight": "1"}, "country_values"),
        ({"attribute": "planet", "weight": "1"}, "attribute"),
    ],
)
def test_form_errors_name_the_field(post, field, marketer, client_for):
    response = client_for(marketer).post(reverse("scoring:icp-criterion-create"), post)
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [field]
    html = response.content.decode()
    assert 'data-testid="form-errors"' in html
    with translation.override("en"):  # the page's language; the request put back the default
        label = str(form.fields[field].label)
    assert f"<strong>{label[0].upper()}{label[1:]}</strong>" in html
    assert not IcpCriterion.objects.exists()


def test_values_with_commas_survive_an_unchanged_save(
    marketer, client_for, django_capture_on_commit_callbacks
):
    learned = IcpCriterion.objects.create(
        attribute="custom", field="Sector", values=["Zorg, welzijn", "Kunst; cultuur"], weight=3
    )
    client = client_for(marketer)
    edit = reverse("scoring:icp-criterion-edit", args=[learned.pk])
    form = client.get(edit).context["form"]
    assert form.initial["custom_values"] == "Zorg, welzijn\nKunst; cultuur"
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client.post(edit, {**form.initial, "minimum": "", "maximum": ""})
    assert response.status_code == 302
    learned.refresh_from_db()
    assert learned.values == ["Zorg, welzijn", "Kunst; cultuur"]
    assert queued == []  # nothing changed, so nothing is fitted again


def test_long_values_are_saved_one_per_line(marketer, client_for):
    values = [f"{index:02d} " + "x" * 197 for index in range(100)]  # 200 characters each
    response = client_for(marketer).post(
        reverse("scoring:icp-criterion-create"),
        {
            "attribute": "custom",
            "field": "Omschrijving",
            "custom_values": "\n".join(values),
            "weight": "2",
        },
    )
    assert response.status_code == 302
    assert IcpCriterion.objects.get().values == values


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kort\n" + "x" * 201, "Each value may have at most 200 characters; one has 201."),
        ("\n".join(str(number) for number in range(101)), "Give at most 100 values"),
    ],
)
def test_too_long_or_too_many_values_name_the_field(text, message, marketer, client_for):
    response = client_for(marketer).post(
        reverse("scoring:icp-criterion-create"),
        {"attribute": "technology", "technology_values": text, "weight": "2"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["technology_values"]
    assert errors["technology_values"][0].startswith(message)
    assert not IcpCriterion.objects.exists()


def test_the_form_shows_the_values_of_the_chosen_attribute(marketer, client_for):
    response = client_for(marketer).post(
        reverse("scoring:icp-criterion-create"),
        {"attribute": "region", "region_values": "Utrecht", "weight": "4"},
    )
    html = response.content.decode()
    assert "attribute: 'region'" in html
    shown = re.findall(r'data-values="(\w+)"(?![^>]*display: none)', html)
    assert shown == ["region"]


# The profile page


def test_the_profile_page_counts_companies_per_grade_and_shows_the_job(
    marketer, client_for, django_capture_on_commit_callbacks
):
    for industry, band in [("62", "10-49"), ("62", ""), ("47", "10-49"), ("47", "1")]:
        company(industry=industry, employee_band=band)  # 100 A, 57 B, 43 C, 0 D
    company(industry="62", employee_band="10-49", deleted_at=timezone.now())  # no fit
    client = client_for(marketer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("scoring:icp-criterion-create"), CRITERION_POST)
        client.post(
            reverse("scoring:icp-criterion-create"),
            {"attribute": "employee_band", "employee_band_values": ["10-49"], "weight": "3"},
        )
    html = client.get(reverse("scoring:icp")).content.decode()
    assert _counts(html) == ["1", "1", "1", "1"]
    assert re.search(r'data-testid="positive-weight">\D*7 ', html)  # an ideal earns 4 + 3
    assert 'data-bar-chart="icp-grades"' in html
    assert 'data-testid="job-fit"' in html
    assert "Done" in html or "Klaar" in html


def test_the_profile_page_counts_only_companies_the_user_may_see(
    sales_a, sales_b, marketer, client_for
):
    IcpCriterion.objects.create(attribute="industry", values=["62"], weight=4)
    company(industry="62", owner=sales_a)  # A
    company(industry="62", owner=sales_b)  # A, another team's
    company(industry="47", owner=sales_b)  # D, another team's
    fit.fits_recompute()
    assert _counts(client_for(sales_a).get(reverse("scoring:icp")).content.decode()) == [
        "1",
        "0",
        "0",
        "0",
    ]
    assert _counts(client_for(marketer).get(reverse("scoring:icp")).content.decode()) == [
        "2",
        "0",
        "0",
        "1",
    ]


@pytest.mark.parametrize("role", CHANGING + NOT_CHANGING)
def test_only_those_who_change_scoring_follow_the_fit_job(
    role, make_user, client_for, django_capture_on_commit_callbacks
):
    company(industry="62")  # no one's: only those who see all records see it
    with django_capture_on_commit_callbacks(execute=True):
        fit.criterion_create(
            actor=make_user(User.Role.ADMIN), attribute="industry", values=["62"], weight=4
        )
    job = ScoringJob.objects.get()
    message = escape(job.message)  # counts every company
    assert "1" in message
    client = client_for(make_user(role))
    may_change = role in CHANGING
    html = client.get(reverse("scoring:icp")).content.decode()
    assert ('data-testid="job-fit"' in html) is may_change
    assert (message in html) is may_change
    response = client.get(reverse("scoring:job", args=[job.pk]))
    assert response.status_code == (200 if may_change else 403)
    assert (message in response.content.decode()) is may_change


def test_the_profile_page_without_criteria_points_to_learning(sales_a, client_for):
    html = client_for(sales_a).get(reverse("scoring:icp")).content.decode()
    assert 'data-testid="criteria-empty"' in html
    assert reverse("scoring:icp-learn") in html
    assert 'data-testid="no-fits"' in html


# Learned weights and lookalikes


@pytest.fixture
def customers(sales_a):
    for index in range(6):
        company(
            lifecycle_stage=LifecycleStage.CUSTOMER,
            industry="62",
            technologies=["Exact Online"] if index < 4 else [],
            owner=sales_a,
        )
    for index in range(20):
        company(
            lifecycle_stage=LifecycleStage.PROSPECT,
            industry="62" if index < 3 else "47",
            name=f"Prospect {index:02d}",
            owner=sales_a,
        )


def test_the_learn_page_lists_proposals_and_uses_them(
    customers, marketer, client_for, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    html = client.get(reverse("scoring:icp-learn")).content.decode()
    assert html.count('data-testid="proposal"') == 3  # software, Exact Online, retail
    assert "Use these weights" in html
    assert "100%" in html  # every customer is in software
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scoring:icp-learn"))
    assert response.status_code == 302
    assert response.url == reverse("scoring:icp")
    assert sorted(IcpCriterion.objects.values_list("attribute", "weight")) == [
        ("industry", -6),  # retail: 0 of 6 customers, 17 of 20 others
        ("industry", 5),  # software: 6 of 6, 3 of 20
        ("technology", 7),  # Exact Online: 4 of 6, none of the others
    ]
    assert CompanyFit.objects.count() == 26


@pytest.fixture
def other_teams_customers(sales_b):
    """Six customers of another team, each with a value its own team keeps to itself."""
    for _index in range(6):
        company(
            lifecycle_stage=LifecycleStage.CUSTOMER,
            industry="69",
            custom_fields={"Tarief": "Geheim tarief 42"},
            owner=sales_b,
        )


def _basis(html: str) -> str:
    basis = html[html.index('data-testid="learn-basis"') :]
    return " ".join(re.sub(r"<[^>]+>", " ", basis[: basis.index("</div>")]).split())


def test_the_learn_page_learns_only_from_companies_the_user_may_see(
    customers, other_teams_customers, sales_a, manager, client_for
):
    html = client_for(sales_a).get(reverse("scoring:icp-learn")).content.decode()
    assert "Geheim tarief 42" not in html
    assert "Koers compares your 6 current customers with the other 20 companies" in _basis(html)
    assert html.count('data-testid="proposal"') == 3  # as learned from the team's own
    html = client_for(manager).get(reverse("scoring:icp-learn")).content.decode()
    assert "Tarief: Geheim tarief 42" in html
    assert "Koers compares your 12 current customers with the other 20 companies" in _basis(html)


def test_the_learn_page_learns_the_top_from_companies_the_user_may_see(
    customers, other_teams_customers, sales_a, client_for
):
    html = client_for(sales_a).get(reverse("scoring:icp-learn") + "?top=1").content.decode()
    assert "of your 6 customers" in _basis(html)
    assert "Geheim tarief 42" not in html


def test_the_learn_page_says_when_there_is_too_little(sales_a, client_for):
    company(lifecycle_stage=LifecycleStage.CUSTOMER, owner=sales_a)
    response = client_for(sales_a).get(reverse("scoring:icp-learn") + "?top=1")
    html = response.content.decode()
    assert 'data-testid="too-little"' in html
    assert "Use these weights" not in html
    assert "20%" in html  # the top of the pyramid says what it is


def test_readers_see_proposals_without_the_button(customers, sales_a, client_for):
    html = client_for(sales_a).get(reverse("scoring:icp-learn")).content.decode()
    assert 'data-testid="proposal"' in html
    assert "Use these weights" not in html


def test_the_lookalikes_page_lists_only_companies_the_user_may_see(
    customers, sales_a, sales_b, manager, client_for
):
    hidden = company(lifecycle_stage=LifecycleStage.LEAD, industry="62", name="Hidden BV")
    hidden.owner = sales_b
    hidden.save()
    html = client_for(sales_a).get(reverse("scoring:icp-lookalikes")).content.decode()
    assert html.count('data-testid="lookalike"') == 3
    assert "Prospect 00" in html
    assert "Hidden BV" not in html
    assert (
        "Hidden BV" in client_for(manager).get(reverse("scoring:icp-lookalikes")).content.decode()
    )


def test_the_lookalikes_page_counts_only_customers_the_user_may_see(customers, sales_b, client_for):
    for _index in range(2):
        company(lifecycle_stage=LifecycleStage.CUSTOMER, industry="62", owner=sales_b)
    company(lifecycle_stage=LifecycleStage.LEAD, industry="62", owner=sales_b)
    html = client_for(sales_b).get(reverse("scoring:icp-lookalikes")).content.decode()
    assert 'data-testid="too-little"' in html  # 2 of the 8 customers are the team's
    assert "There are 2 companies to compare with" in html
    assert 'data-testid="lookalike"' not in html


# The company page and the menu


def test_the_company_page_shows_its_fit_and_why(sales_a, client_for):
    IcpCriterion.objects.create(attribute="industry", values=["62"], weight=4)
    IcpCriterion.objects.create(attribute="technology", values=["AFAS"], weight=4)
    IcpCriterion.objects.create(attribute="industry", values=["69"], weight=3)
    IcpCriterion.objects.create(attribute="employee_band", values=["1"], weight=-2)
    shown = company(industry="62", technologies=["Twinfield"], owner=sales_a)
    fit.fits_recompute()
    html = client_for(sales_a).get(shown.get_absolute_url()).content.decode()
    assert 'data-testid="fit-panel"' in html
    # 4 of max(4, 3) + 4 = 8, as the recompute stored it.
    assert CompanyFit.objects.get(company=shown).score == 50
    assert re.search(r'data-testid="fit-score">50<', html)
    assert re.search(r'data-testid="fit-grade"[^>]*>B<', html)
    assert re.search(r"\b4 \w+ 8\b", html)  # 4 of 8 points
    assert re.findall(r'data-matched="(\w+)"', html) == ["yes", "no", "no", "no"]
    assert "IT services and software (62)" in html


def test_the_company_page_without_a_profile_says_so(sales_a, client_for):
    shown = company(owner=sales_a)
    html = client_for(sales_a).get(shown.get_absolute_url()).content.decode()
    assert 'data-testid="fit-empty"' in html


def test_the_marketing_menu_links_to_the_profile(sales_a, client_for):
    html = client_for(sales_a).get(reverse("tracking:campaign-list")).content.decode()
    assert reverse("scoring:icp") in html
