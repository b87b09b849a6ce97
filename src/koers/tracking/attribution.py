"""Which campaigns brought the contacts, deals and won revenue: by first, last or every touch.

A touchpoint is an event of a known person (a contact) that came in through a campaign. An
outcome is credited to the campaigns of the touches that came before it:

- a new contact: its touches up to an hour after it was created, so the anonymous visits
  that led to the form, and the form submission itself, count;
- a new deal, and its value once won: the touches of the deal's contacts up to the moment
  the deal was created.

Reads only; a handful of queries whatever the number of campaigns, grouped in Python.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from heapq import merge
from itertools import groupby

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from koers.core.models import User
from koers.crm.selectors import contact_visible_to
from koers.pipeline.models import Deal, DealContact
from koers.pipeline.selectors import deal_visible_to
from koers.tracking.models import Campaign, Event
from koers.tracking.selectors import campaign_list

# The form submission that creates a contact arrives with, or just after, its last touches.
CONTACT_GRACE = timedelta(hours=1)
DEFAULT_DAYS = 365
CENT = Decimal("0.01")


class AttributionModel(models.TextChoices):
    FIRST_TOUCH = "first", _("First touch")
    LAST_TOUCH = "last", _("Last touch")
    LINEAR = "linear", _("Linear")


@dataclass(frozen=True)
class CampaignAttribution:
    """What one campaign is credited with; linear credit makes counts fractional."""

    campaign: Campaign
    contacts: float
    deals: float
    won_deals: float
    won_revenue: Decimal

    @property
    def spend(self) -> Decimal:
        return self.campaign.spend

    @property
    def cost_per_contact(self) -> Decimal | None:
        return _per(self.spend, self.contacts)

    @property
    def cost_per_deal(self) -> Decimal | None:
        return _per(self.spend, self.deals)

    @property
    def roi(self) -> float | None:
        """(won revenue − spend) ÷ spend; None without spend."""
        if self.spend <= 0:
            return None
        return float((self.won_revenue - self.spend) / self.spend)


def _per(spend: Decimal, count: float) -> Decimal | None:
    if spend <= 0 or count <= 0:
        return None
    return (spend / Decimal(str(count))).quantize(CENT)


@dataclass(frozen=True)
class AttributionReport:
    model: str
    start: date
    end: date
    rows: list[CampaignAttribution]
    # The outcomes of the period the user may see, and how many of them had a touch.
    contacts: int
    contacts_touched: int
    deals: int
    deals_touched: int
    won_revenue: Decimal

    @property
    def model_label(self) -> str:
        return AttributionModel(self.model).label

    def row_for(self, campaign: Campaign) -> CampaignAttribution | None:
        return next((row for row in self.rows if row.campaign.pk == campaign.pk), None)

    @property
    def spend(self) -> Decimal:
        return sum((row.spend for row in self.rows), Decimal("0"))

    @property
    def won_revenue_attributed(self) -> Decimal:
        return sum((row.won_revenue for row in self.rows), Decimal("0"))


def default_period(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_DAYS), today


def credit_shares(campaign_ids: list[int], model: str) -> dict[int, Fraction]:
    """Split one outcome over the campaigns of its touches, given oldest first."""
    if not campaign_ids:
        return {}
    if model == AttributionModel.FIRST_TOUCH:
        return {campaign_ids[0]: Fraction(1)}
    if model == AttributionModel.LAST_TOUCH:
        return {campaign_ids[-1]: Fraction(1)}
    shares: dict[int, Fraction] = defaultdict(Fraction)
    for campaign_id in campaign_ids:
        shares[campaign_id] += Fraction(1, len(campaign_ids))
    return shares


Touch = tuple[datetime, int]  # (occurred_at, campaign id)


def _touches_by_contact(*, contacts: models.QuerySet, deal_contacts: models.QuerySet, until):
    touches = (
        Event.objects.filter(campaign__isnull=False, occurred_at__lt=until)
        .filter(
            Q(contact__in=contacts.values("id")) | Q(contact__in=deal_contacts.values("contact"))
        )
        .order_by("contact_id", "occurred_at", "id")
        .values_list("contact_id", "occurred_at", "campaign_id")
    )
    return {
        contact_id: [(at, campaign_id) for _contact, at, campaign_id in rows]
        for contact_id, rows in groupby(touches.iterator(), key=lambda row: row[0])
    }


def _before(touches: list[Touch], moment: datetime) -> list[int]:
    return [campaign_id for at, campaign_id in touches if at <= moment]


def attribution_report(*, user: User, model: str, start: date, end: date) -> AttributionReport:
    """Credit the contacts and deals created from `start` to `end` (inclusive) that the user
    may see to the campaigns that touched them, by the attribution model."""
    tz = timezone.get_current_timezone()
    start_at = datetime.combine(start, time.min, tzinfo=tz)
    end_at = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    created = Q(created_at__gte=start_at, created_at__lt=end_at)
    contacts = contact_visible_to(user=user).filter(created)
    deals = deal_visible_to(user=user).filter(created)
    deal_contacts = DealContact.objects.filter(deal__in=deals.values("id"))

    touches = _touches_by_contact(
        contacts=contacts, deal_contacts=deal_contacts, until=end_at + CONTACT_GRACE
    )
    credit: dict[str, dict[int, Fraction]] = {
        "contacts": defaultdict(Fraction),
        "deals": defaultdict(Fraction),
        "won_deals": defaultdict(Fraction),
        "won_revenue": defaultdict(Fraction),
    }

    contact_rows = list(contacts.order_by().values_list("id", "created_at"))
    contacts_touched = 0
    for contact_id, created_at in contact_rows:
        path = _before(touches.get(contact_id, []), created_at + CONTACT_GRACE)
        contacts_touched += bool(path)
        for campaign_id, share in credit_shares(path, model).items():
            credit["contacts"][campaign_id] += share

    people_of_deal: dict[int, list[int]] = defaultdict(list)
    for deal_id, contact_id in deal_contacts.values_list("deal_id", "contact_id"):
        people_of_deal[deal_id].append(contact_id)
    deal_rows = list(deals.order_by().values_list("id", "created_at", "status", "value"))
    deals_touched = 0
    won_revenue = Decimal("0")
    for deal_id, created_at, status, value in deal_rows:
        # One timeline of everyone at the customer, oldest first.
        timeline = merge(*(touches.get(person, []) for person in people_of_deal[deal_id]))
        path = _before(list(timeline), created_at)
        deals_touched += bool(path)
        is_won = status == Deal.Status.WON
        won_revenue += value if is_won else 0
        for campaign_id, share in credit_shares(path, model).items():
            credit["deals"][campaign_id] += share
            if is_won:
                credit["won_deals"][campaign_id] += share
                credit["won_revenue"][campaign_id] += share * Fraction(value)

    rows = [
        CampaignAttribution(
            campaign=campaign,
            contacts=float(credit["contacts"][campaign.pk]),
            deals=float(credit["deals"][campaign.pk]),
            won_deals=float(credit["won_deals"][campaign.pk]),
            won_revenue=_money(credit["won_revenue"][campaign.pk]),
        )
        for campaign in campaign_list()
    ]
    return AttributionReport(
        model=model,
        start=start,
        end=end,
        rows=rows,
        contacts=len(contact_rows),
        contacts_touched=contacts_touched,
        deals=len(deal_rows),
        deals_touched=deals_touched,
        won_revenue=won_revenue,
    )


def _money(amount: Fraction) -> Decimal:
    return (Decimal(amount.numerator) / Decimal(amount.denominator)).quantize(CENT)
