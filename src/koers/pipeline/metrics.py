"""What a pipeline's history says: win rate, deal size, velocity, conversion, time in stage,
lead-to-order time by segment, and the forecast. Reads only, through the user's visibility.

Definitions, for a period [start, end):
- closed deals: won (won_at in the period) and lost (lost_at in the period);
- win rate: won ÷ closed;
- average deal size: the mean first-year value of the won deals;
- cycle length: the mean days from a won deal's creation to its winning;
- sales velocity: open deals now × win rate × average deal size ÷ cycle length, in euros
  a day (the pipeline's speed of turning deals into revenue);
- conversion: of the deals created in the period, how many reached each stage (or one
  after it, skipping counts as passing), and the share that went on to the next;
- time in stage: for each entry into a stage in the period, the days until the deal
  left it; deals still in a stage are left out;
- lead-to-order (LTO): for the won deals, the days from the first touch (the first time
  the customer was known to us) to winning, per segment.
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Case, Count, F, Q, Sum, When
from django.utils.translation import gettext_lazy as _

from koers.core.models import User
from koers.crm import sbi
from koers.crm.models import Company
from koers.pipeline.models import Deal, Pipeline, Stage, StageChange
from koers.pipeline.selectors import deal_visible_to, stage_list

SECONDS_A_DAY = 86400

# Deal size by first-year value, named after Christoph Janz's animals (seed 000): the
# bigger the animal, the longer the hunt.
SIZE_BANDS = [
    (Decimal(300), _("Mouse (about €100)")),
    (Decimal(3_000), _("Rabbit (about €1,000)")),
    (Decimal(30_000), _("Deer (about €10,000)")),
    (Decimal(300_000), _("Elephant (about €100,000)")),
    (None, _("Whale (about €1 million)")),
]


def size_band(value: Decimal) -> str:
    for upper, label in SIZE_BANDS:
        if upper is None or value < upper:
            return str(label)
    raise AssertionError("unreachable")


def _days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / SECONDS_A_DAY


@dataclass
class StageFlow:
    stage: Stage
    reached: int = 0
    went_on: int = 0
    days_in_stage: list[float] = field(default_factory=list)

    @property
    def conversion(self) -> float | None:
        return self.went_on / self.reached if self.reached else None

    @property
    def average_days(self) -> float | None:
        return statistics.fmean(self.days_in_stage) if self.days_in_stage else None


@dataclass(frozen=True)
class SegmentLTO:
    segment: str
    deals: int
    median_days: float
    average_days: float


@dataclass
class PipelineMetrics:
    start: datetime
    end: datetime
    open_deals: int
    won: int
    lost: int
    won_value: Decimal
    win_rate: float | None
    average_deal_size: Decimal | None
    average_cycle_days: float | None
    stages: list[StageFlow]
    lto: dict[str, list[SegmentLTO]]

    @property
    def velocity_per_day(self) -> Decimal | None:
        if None in (self.win_rate, self.average_deal_size, self.average_cycle_days):
            return None
        if not self.average_cycle_days:
            return None
        return (
            Decimal(self.open_deals)
            * Decimal(str(self.win_rate))
            * self.average_deal_size
            / Decimal(str(self.average_cycle_days))
        )


def _lto_by_segment(won: list[Deal]) -> dict[str, list[SegmentLTO]]:
    segments = {
        "industry": lambda deal: (
            str(sbi.DIVISIONS.get(deal.company.industry, "—")) if deal.company else "—"
        ),
        "employees": lambda deal: (
            str(dict(Company.EmployeeBand.choices).get(deal.company.employee_band, "—"))
            if deal.company
            else "—"
        ),
        "size": lambda deal: size_band(deal.value),
        "owner": lambda deal: str(deal.owner) if deal.owner else "—",
    }
    result = {}
    for name, segment_of in segments.items():
        days = defaultdict(list)
        for deal in won:
            days[segment_of(deal)].append(
                _days(deal.won_at, deal.first_touch_at or deal.created_at)
            )
        result[name] = sorted(
            (
                SegmentLTO(
                    segment, len(values), statistics.median(values), statistics.fmean(values)
                )
                for segment, values in days.items()
            ),
            key=lambda row: (-row.deals, row.segment),
        )
    return result


def pipeline_metrics_for_user(
    *, user: User, pipeline: Pipeline, start: datetime, end: datetime
) -> PipelineMetrics:
    """Return the pipeline's figures over [start, end) for the deals the user may see."""
    deals = deal_visible_to(user=user).filter(pipeline=pipeline)
    won = list(
        deals.filter(status=Deal.Status.WON, won_at__gte=start, won_at__lt=end).select_related(
            "company", "owner"
        )
    )
    lost = deals.filter(status=Deal.Status.LOST, lost_at__gte=start, lost_at__lt=end).count()
    closed = len(won) + lost
    won_value = sum((deal.value for deal in won), Decimal(0))

    stages = [stage for stage in stage_list(pipeline=pipeline) if stage.kind != Stage.Kind.LOST]
    flows = {stage.pk: StageFlow(stage) for stage in stages}
    order = {stage.pk: index for index, stage in enumerate(stages)}
    # Every move of the deals created in the period (the cohort), and the moves in or
    # after it of the others: a deal's moves since `start` follow each other, so the
    # pairs that give time in stage stay pairs, and older history is never read.
    changes = (
        StageChange.objects.filter(deal__in=deals)
        .filter(deal__created_at__lt=end)
        .filter(Q(at__gte=start) | Q(deal__created_at__gte=start))
        .values_list("deal_id", "to_stage_id", "at", "deal__created_at")
        .order_by("deal_id", "at", "id")
    )
    furthest: dict[int, int] = {}
    previous: tuple[int, int, datetime] | None = None
    for deal_id, stage_id, at, created_at in changes:
        if (
            previous
            and previous[0] == deal_id
            and previous[1] in flows
            and start <= previous[2] < end
        ):
            flows[previous[1]].days_in_stage.append(_days(at, previous[2]))
        previous = (deal_id, stage_id, at)
        if start <= created_at < end and stage_id in order:
            furthest[deal_id] = max(furthest.get(deal_id, -1), order[stage_id])
    for reach in furthest.values():
        for index in range(reach + 1):
            flows[stages[index].pk].reached += 1
            if index < reach:
                flows[stages[index].pk].went_on += 1

    return PipelineMetrics(
        start=start,
        end=end,
        open_deals=deals.filter(status=Deal.Status.OPEN).count(),
        won=len(won),
        lost=lost,
        won_value=won_value,
        win_rate=len(won) / closed if closed else None,
        average_deal_size=won_value / len(won) if won else None,
        average_cycle_days=(
            statistics.fmean(_days(deal.won_at, deal.created_at) for deal in won) if won else None
        ),
        stages=[flows[stage.pk] for stage in stages],
        lto=_lto_by_segment(won),
    )


@dataclass(frozen=True)
class ForecastRow:
    label: str
    deals: int
    value: Decimal
    weighted: Decimal
    month: date | None = None
    owner_id: int | None = None


def _next_month(first: date) -> date:
    return first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)


def _weighted():
    weight = Case(
        When(probability__isnull=False, then=F("probability")), default=F("stage__probability")
    )
    return Sum(F("value") * weight / 100)


def forecast_for_user(
    *, user: User, pipeline: Pipeline | None = None, today: date, months: int = 6
) -> tuple[list[ForecastRow], list[ForecastRow]]:
    """Return the weighted open pipeline per expected-close month and per owner.

    Months before this one are "overdue", deals without a date "no date".
    """
    deals = deal_visible_to(user=user).filter(status=Deal.Status.OPEN)
    if pipeline is not None:
        deals = deals.filter(pipeline=pipeline)
    this_month = today.replace(day=1)
    month_starts = [this_month]
    while len(month_starts) < months:
        month_starts.append(_next_month(month_starts[-1]))
    after = _next_month(month_starts[-1])
    rows = (
        deals.order_by()
        .values("expected_close_on")
        .annotate(deals=Count("id"), total=Sum("value"), weighted=_weighted())
    )
    buckets: dict[object, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for row in rows:
        close_on = row["expected_close_on"]
        if close_on is None:
            key = "none"
        elif close_on < this_month:
            key = "overdue"
        elif close_on >= after:
            key = "later"
        else:
            key = close_on.replace(day=1)
        bucket = buckets[key]
        bucket[0] += row["deals"]
        bucket[1] += row["total"] or 0
        bucket[2] += row["weighted"] or 0
    by_month = [ForecastRow(str(_("Overdue")), *buckets["overdue"])] if "overdue" in buckets else []
    by_month += [
        ForecastRow(month.strftime("%Y-%m"), *buckets[month], month=month) for month in month_starts
    ]
    by_month += [ForecastRow(str(_("Later")), *buckets["later"])] if "later" in buckets else []
    by_month += [ForecastRow(str(_("No date")), *buckets["none"])] if "none" in buckets else []
    by_owner = [
        ForecastRow(
            str(owner_name(row)),
            row["deals"],
            row["total"] or 0,
            row["weighted"] or 0,
            owner_id=row["owner_id"],
        )
        for row in deals.order_by()
        .values("owner_id", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(deals=Count("id"), total=Sum("value"), weighted=_weighted())
        .order_by("-weighted")
    ]
    return by_month, by_owner


def owner_name(row: dict) -> str:
    if row["owner_id"] is None:
        return str(_("No owner"))
    full = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
    return full or row["owner__username"]
