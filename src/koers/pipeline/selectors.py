"""Reads of pipelines and deals, always through the visibility rule of core."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, Sum, When, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404
from django.utils import timezone

from koers.core.models import User
from koers.core.selectors import visible_q
from koers.crm.search import search_filter
from koers.crm.selectors import contact_visible_to
from koers.pipeline.models import Deal, Pipeline, Stage, StageChange

# How many cards a board column shows before "and N more".
BOARD_CARDS = 30
DEAL_SORTS = {
    "-updated": ("-updated_at", "-id"),
    "name": ("name", "id"),
    "-value": ("-value", "-id"),
    "close": (F("expected_close_on").asc(nulls_last=True), "id"),
}


def pipeline_list(*, active_only: bool = False) -> QuerySet[Pipeline]:
    pipelines = Pipeline.objects.all()
    return pipelines.filter(is_active=True) if active_only else pipelines


def pipeline_get(*, pk: int) -> Pipeline:
    return get_object_or_404(Pipeline, pk=pk)


def stage_list(*, pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("position", "id"))


def deal_visible_to(*, user: User, trash: bool = False) -> QuerySet[Deal]:
    return Deal.objects.filter(visible_q(user=user), deleted_at__isnull=not trash)


def _stalled_q() -> Q:
    """Open deals quiet for longer than their pipeline's stall_days (pipelines are few)."""
    now = timezone.now()
    quiet = Q(pk__in=[])
    for pipeline_id, days in Pipeline.objects.values_list("id", "stall_days"):
        quiet |= Q(pipeline_id=pipeline_id, last_activity_at__lt=now - timedelta(days=days))
    return Q(status=Deal.Status.OPEN) & quiet


def _with_stalled(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    return deals.annotate(
        is_stalled=Case(When(_stalled_q(), then=True), default=False, output_field=BooleanField())
    )


def deal_list_for_user(
    *,
    user: User,
    q: str = "",
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    owner: str = "",
    status: str = "",
    stalled: bool = False,
    company_id: int | None = None,
    sort: str = "-updated",
    trash: bool = False,
) -> QuerySet[Deal]:
    deals = deal_visible_to(user=user, trash=trash)
    if owner == "me":
        deals = deals.filter(owner=user)
    elif owner == "none":
        deals = deals.filter(owner__isnull=True)
    elif owner.isdecimal():  # isdigit() takes "²", which int() refuses
        deals = deals.filter(owner_id=int(owner))
    if pipeline_id is not None:
        deals = deals.filter(pipeline_id=pipeline_id)
    if stage_id is not None:
        deals = deals.filter(stage_id=stage_id)
    if status:
        deals = deals.filter(status=status)
    if company_id is not None:
        deals = deals.filter(company_id=company_id)
    if q.strip():
        deals = deals.filter(name__icontains=q.strip())
    deals = _with_stalled(deals)
    if stalled:
        deals = deals.filter(is_stalled=True)
    return deals.select_related("stage", "company", "owner").order_by(
        *DEAL_SORTS.get(sort, DEAL_SORTS["-updated"])
    )


def deal_get_for_user(*, user: User, pk: int) -> Deal:
    """Return a deal the user may see, or raise Http404 as if it did not exist."""
    deals = _with_stalled(deal_visible_to(user=user))
    return get_object_or_404(
        deals.select_related("pipeline", "stage", "company", "owner", "handed_off_by"), pk=pk
    )


def deal_contacts(*, deal: Deal):
    return deal.deal_contacts.select_related("contact").order_by(
        "contact__last_name", "contact__first_name"
    )


def stage_history(*, deal: Deal) -> list[StageChange]:
    return list(
        StageChange.objects.filter(deal=deal)
        .select_related("from_stage", "to_stage", "actor")
        .order_by("at", "id")
    )


@dataclass
class BoardColumn:
    stage: Stage
    count: int = 0
    value: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)
    deals: list = None

    @property
    def hidden(self) -> int:
        return self.count - len(self.deals or [])


@dataclass(frozen=True)
class Board:
    pipeline: Pipeline
    columns: list[BoardColumn]
    won: BoardColumn
    lost: BoardColumn


def board_for_user(*, user: User, pipeline: Pipeline, owner: str = "", q: str = "") -> Board:
    """Return a pipeline's board as the user may see it: per stage the number of deals, their
    value and weighted value, and the first cards (closing soonest first).

    Won and lost are drop targets that count what closed in the last 30 days. Three
    queries, whatever the number of deals or stages.
    """
    stages = stage_list(pipeline=pipeline)
    deals = deal_list_for_user(user=user, pipeline_id=pipeline.pk, owner=owner, q=q)
    recent = timezone.now() - timedelta(days=30)
    on_board = deals.filter(
        Q(stage__kind__in=[Stage.Kind.OPEN, Stage.Kind.POST_SALE])
        | Q(status=Deal.Status.WON, won_at__gte=recent)
        | Q(status=Deal.Status.LOST, lost_at__gte=recent)
    )
    weight = Case(
        When(probability__isnull=False, then=F("probability")), default=F("stage__probability")
    )
    totals = {
        row["stage_id"]: row
        for row in on_board.order_by()
        .values("stage_id")
        .annotate(count=Count("id"), total=Sum("value"), weighted=Sum(F("value") * weight / 100))
    }
    cards = (
        on_board.filter(stage__kind__in=[Stage.Kind.OPEN, Stage.Kind.POST_SALE])
        .annotate(
            place=Window(
                RowNumber(),
                partition_by=[F("stage_id")],
                order_by=[F("expected_close_on").asc(nulls_last=True), F("id").asc()],
            )
        )
        .filter(place__lte=BOARD_CARDS)
        .order_by("stage_id", "place")
    )
    by_stage: dict[int, list[Deal]] = {}
    for deal in cards:
        by_stage.setdefault(deal.stage_id, []).append(deal)
    columns, closed = [], {}
    for stage in stages:
        row = totals.get(stage.pk, {})
        column = BoardColumn(
            stage=stage,
            count=row.get("count", 0),
            value=row.get("total") or Decimal(0),
            weighted=row.get("weighted") or Decimal(0),
            deals=by_stage.get(stage.pk, []),
        )
        if stage.kind in (Stage.Kind.WON, Stage.Kind.LOST):
            closed.setdefault(stage.kind, column)
        else:
            columns.append(column)
    return Board(
        pipeline=pipeline,
        columns=columns,
        won=closed.get(Stage.Kind.WON),
        lost=closed.get(Stage.Kind.LOST),
    )


def deal_pick_contacts_for_user(*, user: User, deal: Deal, q: str, limit: int = 10):
    """Contacts to add to a deal (or whose role to change): its company's people until the
    user types, then anyone matching `q`."""
    contacts = contact_visible_to(user=user)
    if q.strip():
        contacts = search_filter(contacts, q)
    elif deal.company_id:
        contacts = contacts.filter(company_id=deal.company_id)
    else:
        return []
    return list(
        contacts.select_related("company").order_by("last_name", "first_name", "id")[:limit]
    )
