"""The learned ICP (what customers share that others do not) and lookalikes."""

import math
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from koers.core.models import RoleVisibility, User
from koers.crm.factories import CompanyFactory
from koers.crm.models import LifecycleStage
from koers.pipeline.factories import DealFactory, PipelineFactory
from koers.pipeline.models import Deal
from koers.scoring import learn
from koers.scoring.models import CompanyFit, IcpCriterion, ScoringJob

CUSTOMER, PROSPECT = LifecycleStage.CUSTOMER, LifecycleStage.PROSPECT


def company(stage, industry, technologies=(), **fields):
    return CompanyFactory(
        lifecycle_stage=stage,
        industry=industry,
        technologies=list(technologies),
        **{
            "employee_band": "",
            "revenue_band": "",
            "postcode": "",
            "country": "NL",
            "custom_fields": {},
            **fields,
        },
    )


@pytest.fixture
def market(sales_a):
    """10 customers: 8 in software (62), 6 of them on Exact Online, 2 in legal (69) on AFAS.
    40 others: 4 in software (one on Exact Online), 20 in retail (47, one on Exact Online),
    16 in legal. Everyone is in the Netherlands."""
    spellings = ["Exact Online", "exact online", "EXACT ONLINE"]
    customers = [
        company(CUSTOMER, "62", [spellings[index % 3]] if index < 6 else [], owner=sales_a)
        for index in range(8)
    ] + [company(CUSTOMER, "69", ["AFAS"], owner=sales_a) for _ in range(2)]
    others = (
        [company(PROSPECT, "62", ["Exact online"], name="Alpha Software", owner=sales_a)]
        + [company(PROSPECT, "62", name=f"Beta {n} Software", owner=sales_a) for n in range(3)]
        + [company(PROSPECT, "47", ["exact Online"], name="Gamma Retail", owner=sales_a)]
        + [company(PROSPECT, "47", owner=sales_a) for _ in range(19)]
        + [company(PROSPECT, "69", owner=sales_a) for _ in range(16)]
    )
    company(CUSTOMER, "62", ["Exact Online"], deleted_at=timezone.now())  # in the trash
    return customers, others


def log_lift(held, group, others, rest):
    """The rule, written out: each share smoothed by one company at the value's overall
    rate; the natural logarithm of their ratio."""
    pseudo = (group + rest) / (held + others)
    return math.log(((held + 1) / (group + pseudo)) / ((others + 1) / (rest + pseudo)))


def weight(held, group, others, rest):
    return round(3 * log_lift(held, group, others, rest))


def test_the_learned_profile_proposes_what_sets_customers_apart(market):
    with translation.override("en"):
        learned = learn.icp_learn()
    assert (learned.group_size, learned.rest_size, learned.too_little) == (10, 40, False)
    found = [
        (item.attribute, item.value, item.customers, item.others, item.weight)
        for item in learned.proposals
    ]
    assert found == [
        ("technology", "Exact Online", 6, 2, 6),  # lift 6.6
        ("industry", "62", 8, 4, 5),  # lift 5.6
        ("industry", "69", 2, 16, -2),  # rarer among customers, with 16 others to tell
        ("industry", "47", 0, 20, -5),
    ]
    assert [item.weight for item in learned.proposals] == [
        weight(6, 10, 2, 40),
        weight(8, 10, 4, 40),
        weight(2, 10, 16, 40),
        weight(0, 10, 20, 40),
    ]
    software = learned.proposals[1]
    assert (software.customer_share, software.other_share) == (0.8, 0.1)
    assert software.label == "Industry (SBI): IT services and software (62)"
    # AFAS: 2 customers and no one else is too few to tell; the Netherlands: everyone.
    assert not {item.value for item in learned.proposals} & {"AFAS", "NL"}


def test_too_few_customers_are_too_little_to_learn_from(sales_a):
    for _ in range(4):
        company(CUSTOMER, "62")
    for _ in range(10):
        company(PROSPECT, "47")
    learned = learn.icp_learn()
    assert learned.too_little
    assert learned.proposals == []


def test_the_top_of_the_pyramid_is_the_best_fifth_by_won_deal_value(market):
    customers, _others = market
    pipeline = PipelineFactory()
    for index, customer in enumerate(customers):
        DealFactory(
            pipeline=pipeline,
            company=customer,
            status=Deal.Status.WON,
            amount_recurring=Decimal(100 * (index + 1)),
        )
    # An open deal and a deal in the trash count for nothing.
    DealFactory(pipeline=pipeline, company=customers[0], amount_recurring=Decimal(10**6))
    DealFactory(
        pipeline=pipeline,
        company=customers[1],
        status=Deal.Status.WON,
        amount_recurring=Decimal(10**6),
        deleted_at=timezone.now(),
    )
    assert learn.top_customer_ids() == {customers[9].pk, customers[8].pk}
    learned = learn.icp_learn(top_only=True)
    assert (learned.group_size, learned.rest_size, learned.customers) == (2, 48, 10)
    assert learned.too_little  # two companies are too few


def test_using_the_learned_weights_replaces_the_profile_and_refits(
    market, make_user, django_capture_on_commit_callbacks
):
    marketer = make_user(User.Role.MARKETING)
    IcpCriterion.objects.create(attribute="country", values=["BE"], weight=9)
    with django_capture_on_commit_callbacks(execute=True):
        job = learn.learned_weights_apply(actor=marketer)
    criteria = sorted((row.attribute, row.values, row.weight) for row in IcpCriterion.objects.all())
    assert criteria == [
        ("industry", ["47"], -5),
        ("industry", ["62"], 5),
        ("industry", ["69"], -2),
        ("technology", ["Exact Online"], 6),
    ]
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == (ScoringJob.Status.DONE, 50, 50)
    customers, others = market
    assert CompanyFit.objects.get(company=customers[0]).score == 100  # 11 of 11
    assert CompanyFit.objects.get(company=others[4]).score == 9  # Exact Online in retail: 1


def test_learned_weights_of_one_attribute_and_weight_become_one_criterion():
    proposals = [
        learn.Proposal("industry", "", "62", "", 5, 0.5, 1, 0.1, 5.0, 5),
        learn.Proposal("industry", "", "69", "", 4, 0.4, 1, 0.1, 5.0, 5),
        learn.Proposal("technology", "", "AFAS", "", 4, 0.4, 1, 0.1, 5.0, 5),
        learn.Proposal("technology", "", "Exact", "", 4, 0.4, 1, 0.1, 5.0, 5),
        learn.Proposal("custom", "Vloot", "groot", "", 4, 0.4, 1, 0.1, 3.0, 3),
    ]
    assert learn.criteria_from(proposals) == [
        {"attribute": "industry", "field": "", "weight": 5, "values": ["62", "69"]},
        {"attribute": "technology", "field": "", "weight": 5, "values": ["AFAS"]},
        {"attribute": "technology", "field": "", "weight": 5, "values": ["Exact"]},
        {"attribute": "custom", "field": "Vloot", "weight": 3, "values": ["groot"]},
    ]


def test_a_user_learns_only_from_the_companies_they_may_see(market, sales_a, sales_b, manager):
    for _index in range(5):
        company(CUSTOMER, "69", custom_fields={"Tarief": "Geheim tarief 42"}, owner=sales_b)
    company(PROSPECT, "47", owner=sales_b)
    with translation.override("en"):
        own = learn.icp_learn_for_user(user=sales_a)
        theirs = learn.icp_learn_for_user(user=sales_b)
        everyone = learn.icp_learn_for_user(user=manager)
        all_companies = learn.icp_learn()
    assert (own.group_size, own.rest_size, own.customers) == (10, 40, 10)
    assert [(item.value, item.customers, item.others) for item in own.proposals] == [
        ("Exact Online", 6, 2),
        ("62", 8, 4),
        ("69", 2, 16),
        ("47", 0, 20),
    ]
    assert (theirs.group_size, theirs.rest_size) == (5, 1)
    assert "Tarief: Geheim tarief 42" in [item.label for item in theirs.proposals]
    assert (everyone.group_size, everyone.rest_size) == (15, 41)
    assert everyone == all_companies
    top = learn.icp_learn_for_user(user=sales_b, top_only=True)
    assert (top.group_size, top.rest_size, top.customers) == (0, 6, 5)  # no won deals


def test_the_learned_weights_replace_the_profile_from_all_companies(
    market, make_user, team_b, django_capture_on_commit_callbacks
):
    RoleVisibility.objects.update_or_create(
        role=User.Role.MARKETING, defaults={"scope": RoleVisibility.Scope.TEAM}
    )
    marketer = make_user(User.Role.MARKETING, team_b)  # sees none of the market
    assert learn.icp_learn_for_user(user=marketer).too_little
    with django_capture_on_commit_callbacks(execute=True):
        learn.learned_weights_apply(actor=marketer)
    assert sorted(IcpCriterion.objects.values_list("attribute", "weight")) == [
        ("industry", -5),
        ("industry", -2),
        ("industry", 5),
        ("technology", 6),
    ]


def test_nothing_is_replaced_when_there_is_too_little_to_learn(make_user):
    marketer = make_user(User.Role.MARKETING)
    kept = IcpCriterion.objects.create(attribute="country", values=["NL"], weight=2)
    with pytest.raises(ValidationError):
        learn.learned_weights_apply(actor=marketer)
    assert list(IcpCriterion.objects.all()) == [kept]


# Lookalikes


def test_lookalikes_are_ranked_by_similarity_to_the_customers(market, manager):
    with translation.override("en"):
        result = learn.lookalikes_for_user(user=manager)
    ranked = [(item.name, item.similarity) for item in result.companies]
    # Alpha: Exact Online and software, as alike as the customers most alike (100);
    # the Betas: software only; Gamma: Exact Online, held back by retail. No customers.
    ln_exact, ln_software, ln_retail = (
        log_lift(6, 10, 2, 40),
        log_lift(8, 10, 4, 40),
        log_lift(0, 10, 20, 40),
    )
    beta = round(100 * ln_software / (ln_exact + ln_software))
    gamma = round(100 * (ln_exact + ln_retail) / (ln_exact + ln_software))
    assert (beta, gamma) == (48, 2)
    assert ranked == [
        ("Alpha Software", 100),
        ("Beta 0 Software", beta),
        ("Beta 1 Software", beta),
        ("Beta 2 Software", beta),
        ("Gamma Retail", gamma),
    ]
    assert result.companies[0].reasons == [
        "Technology: Exact Online",
        "Industry (SBI): IT services and software (62)",
    ]
    assert result.companies[-1].reasons == ["Technology: Exact Online"]


def test_lookalikes_never_show_a_company_hidden_from_the_user(market, sales_a, sales_b):
    _customers, others = market
    alpha = others[0]
    alpha.owner = sales_b  # another team's
    alpha.save()
    seen = [item.pk for item in learn.lookalikes_for_user(user=sales_a).companies]
    assert alpha.pk not in seen
    assert seen == [company.pk for company in others[1:5]]
    # sales_b's team has no customers to resemble.
    alike = learn.lookalikes_for_user(user=sales_b)
    assert (alike.learned.too_little, alike.learned.customers, alike.companies) == (True, 0, [])


def test_lookalikes_need_enough_customers(sales_a):
    company(CUSTOMER, "62", owner=sales_a)
    company(PROSPECT, "62", owner=sales_a)
    result = learn.lookalikes_for_user(user=sales_a)
    assert result.learned.too_little
    assert result.companies == []
