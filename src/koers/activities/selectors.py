"""Reads of activities: timelines' sources, my day, account teams."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from koers.activities.models import AccountTeamMember, Activity
from koers.activities.timeline import Cursor, Entry, Subject, before_q
from koers.core.models import User
from koers.core.selectors import visible_q
from koers.crm.models import Company
from koers.crm.selectors import company_visible_to, contact_visible_to
from koers.pipeline.models import StageChange
from koers.pipeline.selectors import deal_visible_to

ACTIVITY_SORTS = {
    "-occurred": ("-occurred_at", "-id"),
    "occurred": ("occurred_at", "id"),
}


def start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def activity_visible_to(*, user: User) -> QuerySet[Activity]:
    """The activities on records the user may see, and those the user holds or wrote."""
    return Activity.objects.filter(
        Q(contact__in=contact_visible_to(user=user))
        | Q(company__in=company_visible_to(user=user))
        | Q(deal__in=deal_visible_to(user=user))
        | Q(owner=user)
        | Q(created_by=user)
    )


def activity_get_for_user(*, user: User, pk: int) -> Activity:
    return get_object_or_404(
        activity_visible_to(user=user).select_related("contact", "company", "deal", "owner"),
        pk=pk,
    )


def activity_list_for_user(
    *,
    user: User,
    contact_id: int | None = None,
    company_id: int | None = None,
    deal_id: int | None = None,
    kind: str = "",
    state: str = "",
    owner: str = "",
    sort: str = "-occurred",
) -> QuerySet[Activity]:
    """The activities the user may see, of one record or kind if asked; `state` is "done"
    or "planned", `owner` "me", "none" or a user id."""
    activities = activity_visible_to(user=user)
    records = {"contact_id": contact_id, "company_id": company_id, "deal_id": deal_id}
    activities = activities.filter(**{key: pk for key, pk in records.items() if pk is not None})
    if kind:
        activities = activities.filter(kind=kind)
    if state in ("done", "planned"):
        activities = activities.filter(done_at__isnull=state == "planned")
    if owner == "me":
        activities = activities.filter(owner=user)
    elif owner == "none":
        activities = activities.filter(owner__isnull=True)
    elif owner.isdecimal():  # isdigit() takes "²", which int() refuses
        activities = activities.filter(owner_id=int(owner))
    return activities.order_by(*ACTIVITY_SORTS.get(sort, ACTIVITY_SORTS["-occurred"]))


def _of_subject(subject: Subject, record_id: int) -> Q:
    return Q(**{f"{subject}_id": record_id})


def activity_entries(
    *,
    user: User,
    subject: Subject,
    record_id: int,
    kinds: set[str] | None,
    before: Cursor | None,
    limit: int,
) -> list[Entry]:
    """Done activities of a record, newest first: a range of one timeline index."""
    rows = Activity.objects.filter(
        _of_subject(subject, record_id),
        before_q(before, "activity", at="occurred_at"),
        done_at__isnull=False,
    )
    # Like stage changes: what concerns a deal shows to those who may see the deal.
    deal_visible = visible_q(user=user, owner_field="deal__owner")
    if deal_visible:  # empty for roles that see everything
        rows = rows.filter(Q(deal__isnull=True) | deal_visible)
    if kinds is not None:
        rows = rows.filter(kind__in=kinds)
    rows = rows.select_related("owner", "contact", "deal").order_by("-occurred_at", "-id")
    return [
        Entry(row.occurred_at, "activity", row.pk, row.kind, "activities/entry_activity.html", row)
        for row in rows[:limit]
    ]


def stage_change_entries(
    *,
    user: User,
    subject: Subject,
    record_id: int,
    kinds: set[str] | None,
    before: Cursor | None,
    limit: int,
) -> list[Entry]:
    """Moves of the record's deals that the user may see, newest first."""
    where = {
        "company": Q(deal__company_id=record_id),
        "contact": Q(deal__deal_contacts__contact_id=record_id),
        "deal": Q(deal_id=record_id),
    }[subject]
    newest = StageChange.objects.filter(
        where,
        visible_q(user=user, owner_field="deal__owner"),
        before_q(before, "stage"),
        deal__deleted_at__isnull=True,
    ).order_by("-at", "-id")
    # The page's ids first, then their stages and people: joins for a page, not a history.
    rows = (
        StageChange.objects.filter(id__in=newest.values("id")[:limit])
        .select_related("deal", "from_stage", "to_stage", "actor")
        .order_by("-at", "-id")
    )
    return [
        Entry(row.at, "stage", row.pk, "stage", "activities/entry_stage.html", row) for row in rows
    ]


def planned_for(*, subject: Subject, record_id: int) -> QuerySet[Activity]:
    """A record's planned activities, soonest first."""
    return (
        Activity.objects.filter(_of_subject(subject, record_id), done_at__isnull=True)
        .exclude(due_at=None)
        .select_related("owner", "contact")
        .order_by("due_at", "id")
    )


@dataclass
class MyDay:
    overdue: list[Activity]
    today: list[Activity]
    upcoming: list[Activity]
    done_today: int


def my_day(*, user: User, today: date | None = None, upcoming_days: int = 7) -> MyDay:
    """The user's planned activities: overdue, due today, and the next few days."""
    today = today or timezone.localdate()
    start, tomorrow = start_of(today), start_of(today + timedelta(days=1))
    planned = (
        Activity.objects.filter(owner=user, done_at__isnull=True, due_at__isnull=False)
        .filter(due_at__lt=start_of(today + timedelta(days=upcoming_days + 1)))
        .select_related("contact", "company", "deal")
        .order_by("due_at", "id")
    )
    rows = list(planned)
    return MyDay(
        overdue=[row for row in rows if row.due_at < start],
        today=[row for row in rows if start <= row.due_at < tomorrow],
        upcoming=[row for row in rows if row.due_at >= tomorrow],
        done_today=Activity.objects.filter(
            owner=user, done_at__gte=start, done_at__lt=tomorrow
        ).count(),
    )


def account_team(*, company: Company) -> QuerySet[AccountTeamMember]:
    return company.account_team.select_related("user").order_by("role", "user__first_name")


def recent_activities(*, contact_id: int, limit: int = 5) -> list[Activity]:
    """A contact's last done activities, for the call screen."""
    return list(
        Activity.objects.filter(contact_id=contact_id, done_at__isnull=False)
        .select_related("owner")
        .order_by("-occurred_at", "-id")[:limit]
    )
