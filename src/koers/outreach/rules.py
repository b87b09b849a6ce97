"""Who may be called, and why: the rules every call list obeys.

- Nobody who is marked do-not-call or objected (recht van verzet), and nobody without a
  phone number.
- People without a legal entity behind them (no company, a sole proprietorship, or a
  company whose legal form is not known) only with a phone opt-in or a customer
  relationship that is current or ended less than 3 years ago (Telecommunicatiewet,
  since 1 July 2021). People at a BV, NV or other legal form may be called without
  consent, and may object.
- Not who said "not interested" within the campaign's cool-off period.
- Not who asked to be called back on a later date: on that date they come back.
- Not who is on another active campaign's list, nor who was reached by anyone in the
  last N days — unless their call-back date has come.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from koers.activities.models import Activity
from koers.activities.selectors import start_of
from koers.crm.models import Company, Contact, LifecycleStage
from koers.outreach.models import CallCampaign, CallListEntry

CUSTOMER_YEARS = 3
# Call outcomes where nobody was spoken to; every other done call reached the person.
UNREACHED = (Activity.Outcome.NO_ANSWER, Activity.Outcome.VOICEMAIL)
NEEDS_CONSENT_FORMS = (Company.LegalForm.SOLE_PROPRIETOR, "")


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class Window:
    """The moment rules are applied at, and a campaign's periods."""

    today: date
    cool_off_days: int
    recent_call_days: int

    @property
    def customer_since(self) -> date:
        return years_before(self.today, CUSTOMER_YEARS)


def needs_consent_q() -> Q:
    return Q(company__isnull=True) | Q(company__legal_form__in=NEEDS_CONSENT_FORMS)


def consent_q(today: date) -> Q:
    return Q(phone_opt_in_on__isnull=False, phone_opt_in_on__lte=today)


def customer_q(since: date) -> Q:
    return (
        Q(lifecycle_stage=LifecycleStage.CUSTOMER)
        | Q(company__lifecycle_stage=LifecycleStage.CUSTOMER)
        | Q(customer_until__gte=since)
        | Q(company__customer_until__gte=since)
    )


def _calls_since(day: date):
    """The done calls of the outer contact since the start of a day."""
    return Activity.objects.filter(
        contact=OuterRef("pk"),
        kind=Activity.Kind.CALL,
        done_at__isnull=False,
        occurred_at__gte=start_of(day),
    )


def exclusions(window: Window, *, campaign_id: int | None) -> dict[str, Q]:
    """Each rule as a filter of the contacts it excludes, by a short name."""
    today = window.today
    due_call_back = Q(call_back_on__isnull=False, call_back_on__lte=today)
    other_lists = CallListEntry.objects.filter(
        contact=OuterRef("pk"),
        state=CallListEntry.State.OPEN,
        campaign__status=CallCampaign.Status.ACTIVE,
    )
    if campaign_id is not None:
        other_lists = other_lists.exclude(campaign_id=campaign_id)
    return {
        "refused": Q(do_not_call=True) | Q(objected_at__isnull=False),
        "no_phone": Q(phone="", mobile=""),
        "no_lawful_basis": needs_consent_q()
        & ~consent_q(today)
        & ~customer_q(window.customer_since),
        "not_interested": Exists(
            _calls_since(today - timedelta(days=window.cool_off_days)).filter(
                outcome=Activity.Outcome.NOT_INTERESTED
            )
        ),
        "call_back_later": Q(call_back_on__gt=today),
        "other_campaign": Exists(other_lists),
        "called_recently": ~due_call_back
        & Exists(
            _calls_since(today - timedelta(days=window.recent_call_days)).exclude(
                outcome__in=UNREACHED
            )
        ),
    }


EXCLUSION_LABELS = {
    "refused": _("Do not call, or objected"),
    "no_phone": _("No phone number"),
    "no_lawful_basis": _("No consent or recent customer relationship (person or sole trader)"),
    "not_interested": _("Said “not interested” within the cool-off period"),
    "call_back_later": _("Asked to be called back later"),
    "other_campaign": _("On another active campaign's list"),
    "called_recently": _("Reached by someone recently"),
}


def callable_q(window: Window, *, campaign_id: int | None) -> Q:
    """The contacts no rule excludes."""
    allowed = Q(deleted_at__isnull=True)
    for excluded in exclusions(window, campaign_id=campaign_id).values():
        allowed &= ~excluded
    return allowed


@dataclass(frozen=True)
class Basis:
    """Why a call to this person is allowed, in words for the agent."""

    kind: str  # "b2b", "consent" or "customer"
    text: str


def lawful_basis(contact: Contact, *, today: date) -> Basis | None:
    company = contact.company
    if company is not None and company.legal_form not in NEEDS_CONSENT_FORMS:
        return Basis(
            "b2b",
            _(
                "Business call to a company (%(form)s): allowed without consent; "
                "this person may object."
            )
            % {"form": company.get_legal_form_display()},
        )
    if contact.phone_opt_in_on and contact.phone_opt_in_on <= today:
        return Basis(
            "consent",
            _("Consent to be called, given on %(date)s.") % {"date": contact.phone_opt_in_on},
        )
    since = years_before(today, CUSTOMER_YEARS)
    for record in (contact, company):
        if record is None:
            continue
        if record.lifecycle_stage == LifecycleStage.CUSTOMER:
            return Basis("customer", _("Current customer relationship."))
        if record.customer_until and record.customer_until >= since:
            return Basis(
                "customer",
                _("Customer relationship ended on %(date)s, less than 3 years ago.")
                % {"date": record.customer_until},
            )
    return None
