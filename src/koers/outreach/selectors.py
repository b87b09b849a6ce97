"""Reads of outreach: campaigns, their call lists, the next person to call, the results."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from koers.activities.models import Activity
from koers.activities.selectors import start_of
from koers.core.models import User
from koers.crm.models import Contact, LifecycleStage
from koers.outreach.models import CallCampaign, CallListEntry, CampaignCall
from koers.outreach.rules import UNREACHED, Window, callable_q

CLAIM = timedelta(minutes=10)


def may_run_campaigns(user: User) -> bool:
    """Managers, marketing and admins set campaigns up; agents only call."""
    return user.role in (User.Role.ADMIN, User.Role.MANAGER, User.Role.MARKETING)


def campaign_list_for_user(*, user: User, status: str = "") -> QuerySet[CallCampaign]:
    campaigns = CallCampaign.objects.all()
    if not may_run_campaigns(user):
        campaigns = campaigns.filter(agents=user)
    if status:
        campaigns = campaigns.filter(status=status)
    return campaigns.annotate(
        open_entries=Count("entries", filter=Q(entries__state=CallListEntry.State.OPEN)),
        total_entries=Count("entries"),
    ).order_by("-created_at", "-id")


def campaign_get_for_user(*, user: User, pk: int) -> CallCampaign:
    return get_object_or_404(campaign_list_for_user(user=user).select_related("owner"), pk=pk)


def window_of(campaign: CallCampaign, today: date) -> Window:
    return Window(
        today=today,
        cool_off_days=campaign.cool_off_days,
        recent_call_days=campaign.recent_call_days,
    )


# A sensible order until scoring exists: call-backs that have come due, people tried
# least, the hottest lifecycle stages, the decision makers.
STAGE_RANK = Case(
    When(contact__lifecycle_stage__in=[LifecycleStage.SQL, LifecycleStage.MQL], then=Value(0)),
    When(contact__lifecycle_stage=LifecycleStage.LEAD, then=Value(1)),
    When(contact__lifecycle_stage=LifecycleStage.PROSPECT, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)
ROLE_RANK = Case(
    When(
        contact__dmu_role__in=[
            Contact.DMURole.DECISION_MAKER,
            Contact.DMURole.ECONOMIC_BUYER,
        ],
        then=Value(0),
    ),
    When(
        contact__dmu_role__in=[Contact.DMURole.CHAMPION, Contact.DMURole.INFLUENCER],
        then=Value(1),
    ),
    default=Value(2),
    output_field=IntegerField(),
)


# The orders an agent may call in: the usual one, or the highest predicted chance to become
# a customer first (scoring's nightly prediction; unscored people last).
CALL_ORDERS = ("", "chance")


def call_list(
    *,
    campaign: CallCampaign,
    today: date | None = None,
    now: datetime | None = None,
    order: str = "",
) -> QuerySet[CallListEntry]:
    """The people of the campaign who may be called now, in the order to call them.

    Every rule of koers.outreach.rules holds for every entry, evaluated at this moment:
    a list built last month does not call someone who objected yesterday. Call-backs that
    have come due always come first.
    """
    today = today or timezone.localdate()
    now = now or timezone.now()
    allowed = Contact.objects.filter(
        callable_q(window_of(campaign, today), campaign_id=campaign.pk)
    )
    return (
        campaign.entries.filter(
            state=CallListEntry.State.OPEN,
            attempts__lt=campaign.max_attempts,
            contact__in=allowed,
        )
        # Nobody twice on the same day when they did not answer.
        .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=start_of(today)))
        .annotate(
            due_back=Case(
                When(contact__call_back_on__lte=today, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            stage_rank=STAGE_RANK,
            role_rank=ROLE_RANK,
            chance=F("contact__conversion__probability"),
            chance_grade=F("contact__conversion__grade"),
        )
        .select_related("contact", "contact__company")
        .order_by(
            "due_back",
            *([F("chance").desc(nulls_last=True)] if order == "chance" else []),
            "attempts",
            "stage_rank",
            "role_rank",
            "id",
        )
    )


def next_entry(
    *,
    campaign: CallCampaign,
    agent: User,
    today: date | None = None,
    now: datetime | None = None,
    order: str = "",
) -> CallListEntry | None:
    """The person this agent calls next: the one on their screen, else the first free one."""
    now = now or timezone.now()
    entries = call_list(campaign=campaign, today=today, now=now, order=order)
    mine = entries.filter(claimed_by=agent, claimed_until__gt=now).first()
    if mine is not None:
        return mine
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now) | Q(claimed_by=agent)
    return entries.filter(free).first()


def entry_get(*, campaign: CallCampaign, pk: int) -> CallListEntry:
    return get_object_or_404(campaign.entries.select_related("contact", "contact__company"), pk=pk)


def list_counts(*, campaign: CallCampaign, today: date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    entries = campaign.entries
    return {
        "total": entries.count(),
        "callable": call_list(campaign=campaign, today=today).count(),
        "call_backs": entries.filter(
            state=CallListEntry.State.OPEN, contact__call_back_on__gt=today
        ).count(),
        "done": entries.filter(state=CallListEntry.State.DONE).count(),
    }


@dataclass
class ResultRow:
    label: str
    attempts: int
    reached: int
    conversations: int
    meetings_booked: int
    meetings_held: int
    no_shows: int
    qualified: int

    @property
    def reach_rate(self) -> float | None:
        return self.reached / self.attempts if self.attempts else None


OUTCOME = Activity.Outcome
HELD = (OUTCOME.QUALIFIED, OUTCOME.NOT_QUALIFIED)


def _aggregates() -> dict:
    reached = ~Q(outcome__in=UNREACHED)
    return {
        "attempts": Count("id"),
        "reached": Count("id", filter=reached),
        # A conversation: the agent spoke to the right person about the campaign.
        "conversations": Count(
            "id", filter=reached & ~Q(outcome__in=[OUTCOME.WRONG_PERSON, OUTCOME.OBJECTED])
        ),
        "meetings_booked": Count("id", filter=Q(outcome=OUTCOME.MEETING_BOOKED)),
        "meetings_held": Count("id", filter=Q(meeting__outcome__in=HELD)),
        "no_shows": Count("id", filter=Q(meeting__outcome=OUTCOME.NO_SHOW)),
        "qualified": Count("id", filter=Q(meeting__outcome=OUTCOME.QUALIFIED)),
    }


def _row(label: str, values: dict) -> ResultRow:
    return ResultRow(label=label, **{key: values[key] for key in _aggregates()})


@dataclass
class Results:
    total: ResultRow
    by_agent: list[ResultRow]
    by_day: list[tuple[date, ResultRow]]


def campaign_results(*, campaign: CallCampaign) -> Results:
    """Attempts, reach, conversations and meetings, per agent and per day."""
    calls = CampaignCall.objects.filter(campaign=campaign)
    total = calls.aggregate(**_aggregates())
    by_agent = (
        calls.values(
            "agent_id",
            first=F("agent__first_name"),
            last=F("agent__last_name"),
            username=F("agent__username"),
        )
        .annotate(**_aggregates())
        .order_by("first", "last", "agent_id")
    )
    by_day = (
        calls.annotate(day=TruncDate("at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(**_aggregates())
        .order_by("day")
    )
    return Results(
        total=_row("", total),
        by_agent=[
            _row(f"{row['first'] or ''} {row['last'] or ''}".strip() or row["username"] or "—", row)
            for row in by_agent
        ],
        by_day=[(row["day"], _row(str(row["day"]), row)) for row in by_day],
    )
