"""The pipeline's figures, checked against values worked out by hand on a small history."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from koers.crm.factories import CompanyFactory
from koers.pipeline import metrics
from koers.pipeline.factories import DealFactory, PipelineFactory
from koers.pipeline.models import Deal, StageChange

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.get_fixed_timezone(0))


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


@pytest.fixture
def history(sales_a):
    """Four deals in an inbound pipeline (Qualify, Needs analysis, Proposal, Negotiation, Won):

    A: created day 0; needs analysis day 10; proposal day 20; won day 30 (skips negotiation).
       12,000 a year; first touch day −10.
    B: created day 5; lost day 15.
    C: created day 0; needs analysis day 4; proposal day 24; negotiation day 54; won day 64.
       24,000 a year; first touch day 0.
    D: created day 50; still in qualify.
    """
    pipeline = PipelineFactory(sales_model="inbound")
    stage = {s.key: s for s in pipeline.stages.all()}
    company = CompanyFactory(owner=sales_a, industry="62", employee_band="10-49")

    def deal(name, moves, **fields):
        record = DealFactory(
            pipeline=pipeline,
            stage=stage[moves[-1][0]],
            owner=sales_a,
            company=company,
            name=name,
            **fields,
        )
        Deal.objects.filter(pk=record.pk).update(created_at=day(moves[0][1]))
        previous = None
        for key, when in moves:
            StageChange.objects.create(
                deal=record, from_stage=previous, to_stage=stage[key], at=day(when)
            )
            previous = stage[key]
        record.refresh_from_db()
        return record

    deal(
        "A", [("qualify", 0), ("needs_analysis", 10), ("proposal", 20), ("won", 30)],
        status="won", won_at=day(30), amount_recurring=Decimal("1000"), first_touch_at=day(-10),
    )  # fmt: skip
    deal("B", [("qualify", 5), ("lost", 15)], status="lost", lost_at=day(15), lost_reason="price")
    deal(
        "C", [("qualify", 0), ("needs_analysis", 4), ("proposal", 24), ("negotiation", 54), ("won", 64)],
        status="won", won_at=day(64), amount_recurring=Decimal("2000"), first_touch_at=day(0),
    )  # fmt: skip
    deal("D", [("qualify", 50)])
    return pipeline


def test_win_rate_deal_size_cycle_and_velocity(manager, history):
    figures = metrics.pipeline_metrics_for_user(
        user=manager, pipeline=history, start=day(0), end=day(100)
    )

    assert (figures.won, figures.lost, figures.open_deals) == (2, 1, 1)
    assert figures.win_rate == pytest.approx(2 / 3)
    assert figures.average_deal_size == Decimal("18000")  # (12,000 + 24,000) / 2
    assert figures.average_cycle_days == pytest.approx(47)  # (30 + 64) / 2
    # open deals × win rate × deal size ÷ cycle length = 1 × 2/3 × 18,000 ÷ 47
    assert float(figures.velocity_per_day) == pytest.approx(1 * 2 / 3 * 18000 / 47)


def test_conversion_counts_how_far_each_deal_got(manager, history):
    figures = metrics.pipeline_metrics_for_user(
        user=manager, pipeline=history, start=day(0), end=day(100)
    )
    flows = {flow.stage.key: flow for flow in figures.stages}

    # A and C reached won (A skipped negotiation, which counts as passing it); B and D
    # got no further than qualify.
    assert [(key, flows[key].reached) for key in ("qualify", "needs_analysis", "proposal", "negotiation", "won")] == [
        ("qualify", 4), ("needs_analysis", 2), ("proposal", 2), ("negotiation", 2), ("won", 2),
    ]  # fmt: skip
    assert flows["qualify"].conversion == pytest.approx(0.5)
    assert flows["needs_analysis"].conversion == pytest.approx(1.0)


def test_time_in_stage_averages_the_stays_that_ended(manager, history):
    figures = metrics.pipeline_metrics_for_user(
        user=manager, pipeline=history, start=day(0), end=day(100)
    )
    flows = {flow.stage.key: flow for flow in figures.stages}

    assert flows["qualify"].average_days == pytest.approx(
        (10 + 10 + 4) / 3
    )  # A, B, C; D still there
    assert flows["needs_analysis"].average_days == pytest.approx((10 + 20) / 2)
    assert flows["proposal"].average_days == pytest.approx((10 + 30) / 2)
    assert flows["negotiation"].average_days == pytest.approx(10)
    assert flows["won"].average_days is None


def test_lead_to_order_time_by_segment(manager, history):
    figures = metrics.pipeline_metrics_for_user(
        user=manager, pipeline=history, start=day(0), end=day(100)
    )

    # A: from first touch day −10 to won day 30 = 40 days; C: day 0 to day 64 = 64 days.
    [size] = figures.lto["size"]
    assert (size.deals, size.median_days, size.average_days) == (2, 52, 52)
    assert size.segment.startswith("Deer") or size.segment.startswith("Hert")
    [industry] = figures.lto["industry"]
    assert industry.deals == 2


def test_a_shorter_period_sees_only_what_closed_in_it(manager, history):
    figures = metrics.pipeline_metrics_for_user(
        user=manager, pipeline=history, start=day(0), end=day(40)
    )

    assert (figures.won, figures.lost) == (1, 1)  # A won day 30, B lost day 15; C won day 64
    assert figures.win_rate == pytest.approx(0.5)


def test_figures_count_only_the_deals_the_user_may_see(sales_b, history):
    figures = metrics.pipeline_metrics_for_user(
        user=sales_b, pipeline=history, start=day(0), end=day(100)
    )
    assert (figures.won, figures.lost, figures.open_deals) == (0, 0, 0)
    assert figures.win_rate is None
    assert figures.velocity_per_day is None


def test_forecast_weights_open_deals_by_probability_per_month_and_owner(
    manager, sales_a, colleague_a
):
    pipeline = PipelineFactory(sales_model="inbound")
    qualify = pipeline.stages.get(key="qualify")  # 10%
    today = date(2026, 11, 23)
    DealFactory(
        pipeline=pipeline,
        stage=qualify,
        owner=sales_a,
        amount_recurring=Decimal("500"),
        expected_close_on=date(2026, 11, 30),
    )  # 6,000 × 10% = 600 in November
    DealFactory(
        pipeline=pipeline,
        stage=qualify,
        owner=colleague_a,
        amount_recurring=Decimal("1000"),
        probability=50,
        expected_close_on=date(2026, 12, 15),
    )  # 12,000 × 50% = 6,000 in December
    DealFactory(
        pipeline=pipeline,
        stage=qualify,
        owner=sales_a,
        amount_recurring=Decimal("100"),
        expected_close_on=date(2026, 10, 1),
    )  # overdue: 1,200 × 10% = 120
    DealFactory(
        pipeline=pipeline,
        stage=qualify,
        owner=sales_a,
        amount_recurring=Decimal("100"),
        expected_close_on=None,
    )  # no date
    DealFactory(pipeline=pipeline, stage=qualify, owner=sales_a, amount_recurring=Decimal("9999"),
                status="won", expected_close_on=date(2026, 11, 30))  # closed: not forecast  # fmt: skip

    by_month, by_owner = metrics.forecast_for_user(
        user=manager, pipeline=pipeline, today=today, months=3
    )

    rows = {(row.month.isoformat() if row.month else row.label): row for row in by_month}
    assert rows["2026-11-01"].weighted == Decimal("600")
    assert rows["2026-12-01"].weighted == Decimal("6000")
    assert rows["2027-01-01"].deals == 0
    overdue = next(
        row for row in by_month if row.month is None and row.deals == 1 and row.weighted == 120
    )
    assert overdue.value == Decimal("1200")
    assert sum(row.deals for row in by_month) == 4
    owners = {row.owner_id: row for row in by_owner}
    assert owners[colleague_a.pk].weighted == Decimal("6000")
    assert owners[sales_a.pk].weighted == Decimal("600") + Decimal("120") + Decimal("120")


def test_a_later_period_counts_stays_that_began_in_it_and_only_its_own_cohort(manager, history):
    figures = metrics.pipeline_metrics_for_user(
        user=manager, pipeline=history, start=day(20), end=day(100)
    )
    flows = {flow.stage.key: flow for flow in figures.stages}
    # A: proposal day 20 → won day 30; C: proposal day 24 → negotiation day 54 → won day 64.
    assert flows["proposal"].average_days == pytest.approx((10 + 30) / 2)
    assert flows["negotiation"].average_days == pytest.approx(10)
    assert flows["needs_analysis"].average_days is None  # entered on days 4 and 10
    assert flows["qualify"].average_days is None  # D is still in it
    # Only D was created in the period; it reached Qualify.
    assert [(key, flows[key].reached) for key in ("qualify", "needs_analysis")] == [
        ("qualify", 1),
        ("needs_analysis", 0),
    ]
