"""The ICP fit: the matching rules, the score and grade, and keeping every fit current."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from koers.core.models import AuditEntry, User
from koers.crm import services as crm_services
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Company
from koers.scoring import fit, selectors
from koers.scoring.models import CompanyFit, IcpCriterion, ScoringJob

Attribute = IcpCriterion.Attribute


def company(**fields) -> Company:
    """A company with nothing the profile looks at, but what the test gives."""
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
def profile(db):
    """An ideal company earns 4 + 3 + 2 + 2 + 1 = 12: of the two industry criteria only the
    larger weight, 4 (a company has one industry), then the band's 3, the region's 2, the
    technology's 2 and the Vloot range's 1. Two negative criteria take off."""
    rows = [
        IcpCriterion(attribute=Attribute.INDUSTRY, values=["62", "69"], weight=4),
        IcpCriterion(attribute=Attribute.INDUSTRY, values=["70"], weight=3),
        IcpCriterion(attribute=Attribute.EMPLOYEE_BAND, values=["10-49", "50-99"], weight=3),
        IcpCriterion(attribute=Attribute.REGION, values=["10", "35"], weight=2),
        IcpCriterion(attribute=Attribute.TECHNOLOGY, values=["Exact Online", "AFAS"], weight=2),
        IcpCriterion(attribute=Attribute.CUSTOM, field="Vloot", minimum=10, maximum=50, weight=1),
        IcpCriterion(attribute=Attribute.EMPLOYEE_BAND, values=["1"], weight=-3),
        IcpCriterion(attribute=Attribute.CUSTOM, field="Branche", values=["Horeca"], weight=-2),
    ]
    return IcpCriterion.objects.bulk_create(rows)


@pytest.fixture
def marketer(make_user, team_a):
    return make_user(User.Role.MARKETING, team_a, username="mila")


def fits() -> dict[int, tuple[int, str]]:
    return {row.company_id: (row.score, row.grade) for row in CompanyFit.objects.all()}


# The rules


def test_fit_scores_follow_the_rules_exactly(profile):
    every_positive = company(  # 4 + 3 + 2 + 2 + 1 = 12 of 12
        industry="62",
        employee_band="10-49",
        postcode="1012 AB",
        technologies=["EXACT online"],
        custom_fields={"Vloot": 50},
    )
    cancelled_out = company(  # region 2 (spaces ignored) + range 1 (text "12,5") − 3 = 0
        industry="46",
        employee_band="1",
        postcode="3511AB",
        custom_fields={"Vloot": "12,5"},
    )
    some = company(  # 4 + 3 − 2 = 5 of 12: 41.7 → 42
        industry="69",
        employee_band="50-99",
        postcode="9711 AA",
        technologies=["Salesforce"],
        custom_fields={"Vloot": 51, "Branche": "HORECA"},
    )
    abroad = company(  # 4 + 2 = 6 of 12; a Belgian "1012" is no Dutch postcode area
        industry="62",
        employee_band="250-499",
        postcode="1012AB",
        country="BE",
        technologies=["  afas "],
        custom_fields={"Vloot": 9.99},
    )
    below_zero = company(  # −3 − 2 counts as 0
        industry="47", employee_band="1", custom_fields={"Branche": "horeca", "Vloot": "veel"}
    )
    low_edge = company(custom_fields={"Vloot": 10}, technologies=["Exact"])  # 1 of 12: 8

    message = fit.fits_recompute()

    assert fits() == {
        every_positive.pk: (100, "A"),
        cancelled_out.pk: (0, "D"),
        some.pk: (42, "C"),
        abroad.pk: (50, "B"),
        below_zero.pk: (0, "D"),
        low_edge.pk: (8, "D"),
    }
    assert "6" in message


def test_the_score_rounds_halves_up_and_grades_have_their_bounds():
    assert fit.fit_score([5], positive=8) == 63  # 62.5
    assert fit.fit_score([1], positive=8) == 13  # 12.5
    assert fit.fit_score([12, -3], positive=8) == 100  # clamped to P
    assert fit.fit_score([-4], positive=8) == 0
    assert [fit.grade_of(score) for score in (100, 75, 74, 50, 49, 25, 24, 0)] == list("AABBCCDD")


def test_the_region_is_the_postcode_area_of_a_dutch_postcode():
    assert fit.region_of("1012 AB") == "10"
    assert fit.region_of(" 3511ab ") == "35"
    assert fit.region_of("1012") == "10"
    assert fit.region_of("0123 AB") == ""
    assert fit.region_of("B-1000", "BE") == ""
    assert fit.region_of("1000", "BE") == ""
    assert fit.region_of("") == ""


def test_an_ideal_company_reaches_100_with_two_industry_criteria(db):
    IcpCriterion.objects.create(attribute=Attribute.INDUSTRY, values=["62"], weight=8)
    IcpCriterion.objects.create(attribute=Attribute.INDUSTRY, values=["69"], weight=5)
    ideal = company(industry="62")  # 8 of max(8, 5) = 8 (not of 8 + 5 = 13)
    second = company(industry="69")  # 5 of 8: 62.5 → 63

    fit.fits_recompute()

    assert fits() == {ideal.pk: (100, "A"), second.pk: (63, "B")}
    explained = fit.fit_explained(ideal)  # the company page agrees with the recompute
    assert (explained.score, explained.earned, explained.positive_weight) == (100, 8, 8)


def test_the_ideal_takes_the_best_weight_per_attribute_and_every_technology(db):
    for fields in [
        {"attribute": Attribute.COUNTRY, "values": ["NL"], "weight": 2},
        {"attribute": Attribute.COUNTRY, "values": ["BE"], "weight": 3},  # country: 3
        {"attribute": Attribute.TECHNOLOGY, "values": ["AFAS"], "weight": 2},
        {"attribute": Attribute.TECHNOLOGY, "values": ["Exact Online"], "weight": 1},  # 2 + 1
        {"attribute": Attribute.CUSTOM, "field": "Vloot", "minimum": 10, "weight": 2},
        {"attribute": Attribute.CUSTOM, "field": "Vloot", "values": ["veel"], "weight": 1},
        {"attribute": Attribute.CUSTOM, "field": "Branche", "values": ["ICT"], "weight": 1},
        {"attribute": Attribute.EMPLOYEE_BAND, "values": ["1"], "weight": -3},
    ]:
        IcpCriterion.objects.create(**fields)
    # The ideal: country 3 + technology 3 + Vloot 2 + Branche 1 (a field of its own) = 9.
    ideal = company(  # 3 + 2 + 1 + 2 + 1 = 9 of 9
        country="BE",
        technologies=["afas", "EXACT ONLINE"],
        custom_fields={"Vloot": 30, "Branche": "ICT"},
    )
    dutch = company(  # 2 + 2 + 1 = 5 of 9: 55.6 → 56
        country="NL", technologies=["AFAS"], custom_fields={"Vloot": "veel"}
    )

    fit.fits_recompute()

    assert fits() == {ideal.pk: (100, "A"), dutch.pk: (56, "B")}
    assert fit.fit_explained(dutch).positive_weight == 9


def test_overlapping_criteria_that_both_match_stay_at_100(db):
    IcpCriterion.objects.create(attribute=Attribute.CUSTOM, field="Vloot", minimum=10, weight=4)
    IcpCriterion.objects.create(attribute=Attribute.CUSTOM, field="Vloot", maximum=20, weight=2)
    IcpCriterion.objects.create(attribute=Attribute.INDUSTRY, values=["62"], weight=4)
    # The ideal: Vloot max(4, 2) + industry 4 = 8.
    both = company(industry="62", custom_fields={"Vloot": 12})  # 4 + 2 + 4 = 10 of 8: 100
    small = company(custom_fields={"Vloot": 5})  # 2 of 8: 25

    fit.fits_recompute()

    assert fits() == {both.pk: (100, "A"), small.pk: (25, "C")}
    explained = fit.fit_explained(both)
    assert (explained.score, explained.earned, explained.positive_weight) == (100, 10, 8)


def test_each_criterion_counts_on_its_own(db):
    IcpCriterion.objects.create(attribute=Attribute.TECHNOLOGY, values=["AFAS"], weight=2)
    IcpCriterion.objects.create(attribute=Attribute.TECHNOLOGY, values=["Exact Online"], weight=2)
    IcpCriterion.objects.create(attribute=Attribute.INDUSTRY, values=["62"], weight=4)
    both = company(technologies=["afas", "exact online"])
    one = company(technologies=["AFAS", "Twinfield"])
    fit.fits_recompute()
    assert fits() == {both.pk: (50, "B"), one.pk: (25, "C")}


def test_without_positive_weight_no_company_has_a_fit(db):
    IcpCriterion.objects.create(attribute=Attribute.EMPLOYEE_BAND, values=["1"], weight=-3)
    existing = company()
    CompanyFit.objects.create(company=existing, score=80, grade="A", computed_at=timezone.now())
    reports = []
    fit.fits_recompute(lambda done, total: reports.append((done, total)))
    assert not CompanyFit.objects.exists()
    assert reports == [(0, 0)]


def test_the_recompute_goes_in_batches_and_reports_progress(profile, monkeypatch):
    monkeypatch.setattr(fit, "BATCH", 2)
    companies = [company(industry="62") for _ in range(5)]
    trashed = company(industry="62", deleted_at=timezone.now())
    CompanyFit.objects.create(company=trashed, score=33, grade="C", computed_at=timezone.now())
    reports = []
    fit.fits_recompute(lambda done, total: reports.append((done, total)))
    assert reports == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert fits() == {each.pk: (33, "C") for each in companies}  # 4 of 12; trashed: none


def test_the_company_page_explains_which_criteria_matched(profile):
    with translation.override("en"):
        explained = fit.fit_explained(company(industry="62", employee_band="1", postcode="3511 AB"))
    assert (explained.score, explained.grade) == (25, "C")  # 4 + 2 − 3 = 3 of 12
    assert (explained.earned, explained.positive_weight) == (3, 12)
    matched = [(reason.weight, reason.matched) for reason in explained.reasons]
    assert matched == [
        (4, True),
        (3, False),
        (3, False),
        (2, True),
        (2, False),
        (1, False),
        (-2, False),
        (-3, True),
    ]
    custom = explained.reasons[5]
    assert (custom.attribute, custom.values) == ("Custom field “Vloot”", "from 10 to 50")


def test_a_contact_shares_its_companys_fit(profile):
    contact = ContactFactory(company=company(industry="62", employee_band="10-49"))
    loner = ContactFactory(company=None)
    assert selectors.contact_fit(contact) is None
    fit.fits_recompute()
    row = selectors.contact_fit(contact)
    assert (row.company_id, row.score, row.grade) == (contact.company_id, 58, "B")
    assert selectors.contact_fit(loner) is None


# Changing the profile


def test_changing_a_weight_refits_every_company_in_a_job(
    profile, marketer, django_capture_on_commit_callbacks
):
    good = company(industry="62", employee_band="10-49")  # 7 of 12: 58
    poor = company(employee_band="1", postcode="1011 AA")  # 2 − 3: 0
    fit.fits_recompute()
    assert fits() == {good.pk: (58, "B"), poor.pk: (0, "D")}
    band = IcpCriterion.objects.get(attribute=Attribute.EMPLOYEE_BAND, weight=3)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        fit.criterion_update(
            actor=marketer,
            criterion=band,
            attribute=Attribute.EMPLOYEE_BAND,
            values=["10-49", "50-99"],
            weight=7,
        )

    assert len(queued) == 1
    assert fits() == {good.pk: (69, "B"), poor.pk: (0, "D")}  # 11 of 16; 2 − 3
    job = ScoringJob.objects.get()
    assert (job.kind, job.status, job.created_by) == ("fit", "done", marketer)
    assert job.done == job.total == 2
    assert job.progress == 100
    entry = AuditEntry.objects.get(action="updated", object_id=band.pk)
    assert entry.changes == {"weight": [3, 7]}


def test_creating_and_deleting_criteria_refit_and_an_unchanged_save_does_not(
    marketer, django_capture_on_commit_callbacks
):
    customer = company(technologies=["Exact Online"])
    with django_capture_on_commit_callbacks(execute=True):
        created = fit.criterion_create(
            actor=marketer,
            attribute="technology",
            values=[" exact online ", "EXACT ONLINE"],
            weight=5,
        )
    assert created.values == ["exact online"]  # stripped, each once
    assert fits() == {customer.pk: (100, "A")}

    with django_capture_on_commit_callbacks(execute=True) as queued:
        fit.criterion_update(
            actor=marketer,
            criterion=created,
            attribute="technology",
            values=["exact online"],
            weight=5,
        )
    assert queued == []

    with django_capture_on_commit_callbacks(execute=True):
        fit.criterion_delete(actor=marketer, criterion=created)
    assert not IcpCriterion.objects.exists()
    assert not CompanyFit.objects.exists()
    assert ScoringJob.objects.filter(status="done").count() == 2


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"attribute": "industry", "values": ["99x"], "weight": 3}, ["values"]),
        ({"attribute": "industry", "values": [], "weight": 3}, ["values"]),
        ({"attribute": "region", "values": ["1", "Utrecht"], "weight": 3}, ["values"]),
        ({"attribute": "country", "values": ["nl"], "weight": 0}, ["weight"]),
        ({"attribute": "technology", "values": ["AFAS"], "weight": 11}, ["weight"]),
        ({"attribute": "custom", "values": ["x"], "weight": 2}, ["field"]),
        (
            {"attribute": "custom", "field": "Vloot", "minimum": 5, "maximum": 1, "weight": 2},
            ["maximum"],
        ),
        ({"attribute": "colour", "values": ["red"], "weight": 2}, ["attribute"]),
    ],
)
def test_a_criterion_in_error_names_the_field(fields, named, marketer):
    with pytest.raises(ValidationError) as error:
        fit.criterion_create(actor=marketer, **fields)
    assert sorted(error.value.message_dict) == named
    assert not IcpCriterion.objects.exists()


def test_countries_are_kept_as_codes_and_ranges_drop_values(marketer):
    country = fit.criterion_create(
        actor=marketer, attribute="country", values=["nl", "BE"], weight=1
    )
    assert country.values == ["NL", "BE"]
    ranged = fit.criterion_create(
        actor=marketer, attribute="custom", field=" Vloot ", values=["x"], minimum=3, weight=1
    )
    assert (ranged.field, ranged.values, ranged.minimum, ranged.maximum) == ("Vloot", [], 3, None)


@pytest.mark.parametrize("role", [User.Role.SALES, User.Role.SUCCESS, User.Role.READ_ONLY])
def test_only_admins_managers_and_marketing_change_the_profile(role, make_user, profile):
    user = make_user(role)
    with pytest.raises(PermissionDenied):
        fit.criterion_create(actor=user, attribute="industry", values=["62"], weight=1)
    with pytest.raises(PermissionDenied):
        fit.criterion_delete(actor=user, criterion=profile[0])
    assert IcpCriterion.objects.count() == len(profile)


# Keeping fits current


def test_a_company_added_or_changed_is_fitted_again_at_once(
    profile, sales_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = crm_services.company_create(
            actor=sales_a, name="Noord Software B.V.", industry="62", employee_band="1"
        )
    assert fits() == {created.pk: (8, "D")}  # 4 − 3 of 12: 1 → 8
    with django_capture_on_commit_callbacks(execute=True):
        crm_services.company_update(
            actor=sales_a, company=created, employee_band="10-49", technologies=["AFAS"]
        )
    assert fits() == {created.pk: (75, "A")}  # 4 + 3 + 2 of 12


def test_a_trashed_company_loses_its_fit_and_regains_it_when_restored(
    profile, sales_a, django_capture_on_commit_callbacks
):
    trashed = company(industry="62", employee_band="10-49", owner=sales_a)  # 7 of 12
    kept = company(industry="69", owner=sales_a)  # 4 of 12
    fit.fits_recompute()
    with django_capture_on_commit_callbacks(execute=True):
        crm_services.record_delete(actor=sales_a, record=trashed)
    assert fits() == {kept.pk: (33, "C")}
    assert selectors.fit_grade_counts(user=sales_a) == {"A": 0, "B": 0, "C": 1, "D": 0}
    trashed.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        crm_services.record_restore(actor=sales_a, record=trashed)
    assert fits() == {trashed.pk: (58, "B"), kept.pk: (33, "C")}


def test_grade_counts_cover_only_the_companies_the_user_may_see(profile, sales_a, sales_b, manager):
    company(industry="62", employee_band="10-49", owner=sales_a)  # B
    company(industry="69", owner=sales_b)  # C
    company(industry="62", owner=None)  # C, no one's
    fit.fits_recompute()
    assert selectors.fit_grade_counts(user=sales_a) == {"A": 0, "B": 1, "C": 0, "D": 0}
    assert selectors.fit_grade_counts(user=sales_b) == {"A": 0, "B": 0, "C": 1, "D": 0}
    assert selectors.fit_grade_counts(user=manager) == {"A": 0, "B": 1, "C": 2, "D": 0}


def test_the_periodic_refresh_fits_new_and_changed_companies_only(profile):
    imported = company(industry="62")  # written without events, like an import
    untouched = company(industry="69")
    assert fit.fits_refresh_stale() == 2
    assert fits() == {imported.pk: (33, "C"), untouched.pk: (33, "C")}
    an_hour_ago = timezone.now() - timedelta(hours=1)
    CompanyFit.objects.update(computed_at=an_hour_ago)
    Company.objects.filter(pk=imported.pk).update(
        employee_band="10-49", updated_at=an_hour_ago + timedelta(minutes=30)
    )
    Company.objects.filter(pk=untouched.pk).update(updated_at=an_hour_ago)
    assert fit.fits_refresh_stale() == 1
    assert fits() == {imported.pk: (58, "B"), untouched.pk: (33, "C")}
    assert fit.fits_refresh_stale() == 0


def test_the_periodic_refresh_does_nothing_without_a_profile(db):
    company(industry="62")
    assert fit.fits_refresh_stale() == 0
    assert not CompanyFit.objects.exists()


def test_the_demo_gets_a_profile_and_fits(db):
    companies = [company(industry="62", employee_band="10-49") for _ in range(3)]
    assert fit.icp_demo_setup() == 3
    assert IcpCriterion.objects.count() == len(fit.DEMO_CRITERIA)
    assert {row.company_id for row in CompanyFit.objects.all()} == {each.pk for each in companies}
    assert fit.icp_demo_setup() == 3  # a second run keeps the profile
    assert IcpCriterion.objects.count() == len(fit.DEMO_CRITERIA)
