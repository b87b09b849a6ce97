"""Attribution on a small world whose credits are worked out by hand.

Campaigns A (spend 1,000), B (spend 500) and C (no spend). Contact P of team A is created
at T; it was touched by A three days before, by B two days before and by B half an hour
after (the form submission), and by C two hours after (too late for the contact). Deal D,
won, worth 12,000 (1,000 a month), is created with P a day after T, so all four touches
count for it; a touch by A after the deal does not. Contact Q of team A has no touches.
Contact R of team B was touched by C an hour before it was created; its open deal E
follows a day later.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from koers.crm.factories import ContactFactory
from koers.pipeline.factories import DealFactory
from koers.pipeline.models import Deal, DealContact
from koers.tracking.attribution import attribution_report
from koers.tracking.models import Campaign, Event

T = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
PERIOD = {"start": date(2025, 1, 1), "end": date(2025, 12, 31)}


def _created(record, at):
    type(record).objects.filter(pk=record.pk).update(created_at=at)
    record.refresh_from_db()
    return record


def _touch(contact, campaign, at):
    Event.objects.create(
        kind=Event.Kind.PAGE_VIEW, occurred_at=at, contact=contact, campaign=campaign
    )


def _deal(owner, contacts, at, **fields):
    deal = DealFactory(owner=owner, **fields)
    for contact in contacts:
        DealContact.objects.create(deal=deal, contact=contact)
    return _created(deal, at)


@pytest.fixture
def world(sales_a, sales_b):
    a = Campaign.objects.create(name="A", channel="search_ads", spend=Decimal("1000"))
    b = Campaign.objects.create(name="B", channel="social", spend=Decimal("500"))
    c = Campaign.objects.create(name="C", channel="email")
    p = _created(ContactFactory(owner=sales_a), T)
    _touch(p, a, T - timedelta(days=3))
    _touch(p, b, T - timedelta(days=2))
    _touch(p, b, T + timedelta(minutes=30))
    _touch(p, c, T + timedelta(hours=2))
    _touch(p, None, T - timedelta(days=1))  # a visit without a campaign is no touchpoint
    _deal(sales_a, [p], T + timedelta(days=1), status=Deal.Status.WON)
    _touch(p, a, T + timedelta(days=2))
    _created(ContactFactory(owner=sales_a), T)
    r = _created(ContactFactory(owner=sales_b), T)
    _touch(r, c, T - timedelta(hours=1))
    _deal(sales_b, [r], T + timedelta(days=1))
    return {"A": a, "B": b, "C": c}


def _credits(report, figure):
    return {row.campaign.name: getattr(row, figure) for row in report.rows}


def test_first_touch_credits_the_campaign_that_came_first(sales_a, world):
    report = attribution_report(user=sales_a, model="first", **PERIOD)
    assert _credits(report, "contacts") == {"A": 1, "B": 0, "C": 0}
    assert _credits(report, "deals") == {"A": 1, "B": 0, "C": 0}
    assert _credits(report, "won_revenue") == {
        "A": Decimal("12000.00"),
        "B": Decimal("0.00"),
        "C": Decimal("0.00"),
    }
    assert (report.contacts, report.contacts_touched) == (2, 1)
    assert (report.deals, report.deals_touched, report.won_revenue) == (1, 1, Decimal("12000"))


def test_last_touch_credits_the_campaign_just_before(sales_a, world):
    report = attribution_report(user=sales_a, model="last", **PERIOD)
    # C's touch came two hours after P was created: too late for P, in time for the deal.
    assert _credits(report, "contacts") == {"A": 0, "B": 1, "C": 0}
    assert _credits(report, "deals") == {"A": 0, "B": 0, "C": 1}
    assert _credits(report, "won_revenue") == {
        "A": Decimal("0.00"),
        "B": Decimal("0.00"),
        "C": Decimal("12000.00"),
    }


def test_linear_shares_each_outcome_over_every_touch(sales_a, world):
    report = attribution_report(user=sales_a, model="linear", **PERIOD)
    contacts = _credits(report, "contacts")
    assert contacts == {"A": pytest.approx(1 / 3), "B": pytest.approx(2 / 3), "C": 0}
    assert _credits(report, "deals") == {"A": 0.25, "B": 0.5, "C": 0.25}
    assert _credits(report, "won_revenue") == {
        "A": Decimal("3000.00"),
        "B": Decimal("6000.00"),
        "C": Decimal("3000.00"),
    }


def test_cost_and_return_per_campaign(sales_a, world):
    report = attribution_report(user=sales_a, model="first", **PERIOD)
    a, b, c = [report.row_for(world[name]) for name in "ABC"]
    assert (a.cost_per_contact, a.cost_per_deal, a.roi) == (
        Decimal("1000.00"),
        Decimal("1000.00"),
        11.0,
    )
    assert (b.cost_per_contact, b.cost_per_deal, b.roi) == (None, None, -1.0)
    assert c.roi is None  # no spend, no return on it
    linear = attribution_report(user=sales_a, model="linear", **PERIOD)
    assert linear.row_for(world["B"]).cost_per_contact == Decimal("750.00")  # 500 ÷ ⅔


def test_only_what_the_user_may_see_counts(sales_b, manager, world):
    theirs = attribution_report(user=sales_b, model="first", **PERIOD)
    assert _credits(theirs, "contacts") == {"A": 0, "B": 0, "C": 1}
    assert _credits(theirs, "deals") == {"A": 0, "B": 0, "C": 1}
    assert theirs.won_revenue == 0
    everyone = attribution_report(user=manager, model="first", **PERIOD)
    assert _credits(everyone, "contacts") == {"A": 1, "B": 0, "C": 1}
    assert (everyone.contacts, everyone.deals) == (3, 2)


def test_the_period_is_about_when_contacts_and_deals_were_created(sales_a, world):
    report = attribution_report(
        user=sales_a, model="first", start=date(2025, 3, 11), end=date(2025, 3, 31)
    )
    # Only the deal (created 11 March) falls in; P and Q were created on the 10th.
    assert (report.contacts, report.deals) == (0, 1)
    assert _credits(report, "deals") == {"A": 1, "B": 0, "C": 0}


def test_a_deal_takes_the_touches_of_all_its_contacts_in_time_order(sales_a, world):
    early = _created(ContactFactory(owner=sales_a), T - timedelta(days=30))
    _touch(early, world["C"], T - timedelta(days=20))
    late = _created(ContactFactory(owner=sales_a), T)
    _touch(late, world["B"], T - timedelta(days=1))
    _deal(sales_a, [late, early], T + timedelta(days=5), amount_recurring=Decimal("100"))
    report = attribution_report(user=sales_a, model="first", **PERIOD)
    assert _credits(report, "deals") == {"A": 1, "B": 0, "C": 1}  # D to A, the new deal to C
    linear = attribution_report(user=sales_a, model="linear", **PERIOD)
    # D: A ¼, B ½, C ¼; the new deal: C ½ (the earlier contact), B ½.
    assert _credits(linear, "deals") == {"A": 0.25, "B": 1.0, "C": 0.75}


def test_the_report_takes_a_fixed_number_of_queries(sales_a, world, django_assert_max_num_queries):
    for _ in range(5):
        person = ContactFactory(owner=sales_a)
        _touch(person, world["A"], person.created_at)
    with django_assert_max_num_queries(6):
        report = attribution_report(user=sales_a, model="linear", **PERIOD)
        assert len(report.rows) == 3


def test_the_report_page_switches_model_and_draws_spend_against_revenue(sales_a, client_for, world):
    client = client_for(sales_a)
    url = reverse("tracking:attribution")
    response = client.get(url, {"model": "last", "start": "2025-01-01", "end": "2025-12-31"})
    assert response.context["report"].model == "last"
    chart = response.context["chart"]
    assert chart["labels"] == ["A", "B", "C"]
    assert chart["values"] == [0.0, 0.0, 12000.0]
    assert chart["totals"] == [1000.0, 500.0, 0.0]
    page = response.content.decode()
    assert 'data-testid="attribution-table"' in page
    assert "model=first&amp;start=2025-01-01&amp;end=2025-12-31" in page
    fallback = client.get(url, {"model": "nonsense", "start": "not a date"})
    assert fallback.status_code == 200
    assert fallback.context["report"].model == "first"
