"""Reads of the marketing set-up: websites, lead forms, campaigns, and who is on the site now."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, IntegerField, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from koers.core.models import User
from koers.crm.models import Contact
from koers.crm.selectors import contact_visible_to
from koers.tracking.models import Campaign, Event, LeadForm, Site

MANAGING_ROLES = (User.Role.ADMIN, User.Role.MANAGER, User.Role.MARKETING)


def may_manage_marketing(user: User) -> bool:
    """Admins, managers and marketing set up websites, lead forms and campaigns."""
    return user.role in MANAGING_ROLES


def check_may_manage_marketing(user: User) -> None:
    if not may_manage_marketing(user):
        raise PermissionDenied(
            _("Only admins, managers and marketing may set up websites and campaigns.")
        )


def site_list_for_user(*, user: User, now: datetime | None = None) -> QuerySet[Site]:
    """Return the websites with their number of events in the last seven days."""
    check_may_manage_marketing(user)
    since = (now or timezone.now()) - timedelta(days=7)
    recent = (
        Event.objects.filter(site=OuterRef("pk"), occurred_at__gte=since)
        .order_by()
        .values("site")
        .annotate(count=Count("id"))
        .values("count")
    )
    return Site.objects.annotate(
        events_last_week=Coalesce(Subquery(recent, output_field=IntegerField()), 0)
    ).order_by("name", "id")


def site_get_for_user(*, user: User, pk: int) -> Site:
    check_may_manage_marketing(user)
    return get_object_or_404(Site, pk=pk)


def site_page_views_by_day(
    *, site: Site, days: int = 30, today: date | None = None
) -> list[tuple[date, int]]:
    """Return the page views of each of the last `days` days, oldest first, days without any
    included."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    counts = dict(
        Event.objects.filter(site=site, kind=Event.Kind.PAGE_VIEW, occurred_at__gte=start)
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values_list("day")
        .annotate(count=Count("id"))
        .values_list("day", "count")
    )
    return [(day, counts.get(day, 0)) for day in (first + timedelta(n) for n in range(days))]


def lead_form_list(*, site: Site) -> QuerySet[LeadForm]:
    return site.forms.select_related("owner", "campaign").order_by("name", "id")


def lead_form_get_for_user(*, user: User, pk: int) -> LeadForm:
    check_may_manage_marketing(user)
    return get_object_or_404(LeadForm.objects.select_related("site"), pk=pk)


def campaign_list(*, channel: str = "") -> QuerySet[Campaign]:
    """Every campaign, or those of one channel: campaigns are shared; who they reached
    follows record visibility."""
    campaigns = Campaign.objects.select_related("owner")
    if channel:
        campaigns = campaigns.filter(channel=channel)
    return campaigns.order_by(F("starts_on").desc(nulls_last=True), "name", "id")


def campaign_get(*, pk: int) -> Campaign:
    return get_object_or_404(campaign_list(), pk=pk)


def campaign_touch_counts_for_user(*, user: User, campaign: Campaign) -> dict[str, int]:
    """Return the campaign's visits (anonymous ones too) and the touchpoints of people the
    user may see."""
    events = Event.objects.filter(campaign=campaign)
    known = events.filter(contact__in=contact_visible_to(user=user))
    return {
        "visits": events.count(),
        "touchpoints": known.count(),
        "people": known.values("contact").distinct().count(),
    }


@dataclass(frozen=True)
class HotVisitor:
    contact: Contact
    last_at: datetime
    events: int
    url: str
    title: str


def hot_now(
    *, user: User, within_minutes: int = 60, limit: int | None = None, now: datetime | None = None
) -> list[HotVisitor]:
    """Return the known people active in the last `within_minutes`, latest first: one row per
    contact the user may see, with their last page and how many events they had."""
    since = (now or timezone.now()) - timedelta(minutes=within_minutes)
    window = Event.objects.filter(occurred_at__gte=since, contact__in=contact_visible_to(user=user))
    # The last thing with an address they looked at; opens and stage changes have none.
    last_page = (
        Event.objects.filter(contact=OuterRef("contact"), occurred_at__gte=since)
        .exclude(url="")
        .order_by("-occurred_at", "-id")
    )
    rows = (
        window.order_by()
        .values("contact")
        .annotate(
            last_at=Max("occurred_at"),
            events=Count("id"),
            url=Subquery(last_page.values("url")[:1]),
            title=Subquery(last_page.values("title")[:1]),
        )
        .order_by("-last_at", "contact")
    )
    rows = list(rows[:limit] if limit else rows)
    contacts = Contact.objects.select_related("company").in_bulk([row["contact"] for row in rows])
    return [
        HotVisitor(
            contact=contacts[row["contact"]],
            last_at=row["last_at"],
            events=row["events"],
            url=row["url"] or "",
            title=row["title"] or "",
        )
        for row in rows
    ]
