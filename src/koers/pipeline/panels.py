"""What pipeline adds to the start page and to company and contact pages."""

from django.utils import timezone

from koers.core.models import User
from koers.crm.models import Company, Contact
from koers.pipeline import metrics, selectors
from koers.pipeline.models import Deal


def start_section_context(user: User) -> dict:
    mine = selectors.deal_list_for_user(user=user, owner="me", status=Deal.Status.OPEN)
    by_month, _by_owner = metrics.forecast_for_user(user=user, today=timezone.localdate(), months=1)
    this_month = next((row for row in by_month if row.month), None)
    return {
        "open_deals": mine.count(),
        "stalled": mine.filter(is_stalled=True).count(),
        "closing": list(
            mine.order_by("expected_close_on", "id").exclude(expected_close_on=None)[:5]
        ),
        "this_month": this_month,
    }


def company_deals(user: User, company: Company) -> dict:
    deals = selectors.deal_list_for_user(user=user, company_id=company.pk)
    return {"deals": list(deals[:10]), "count": deals.count(), "company": company}


def contact_deals(user: User, contact: Contact) -> dict:
    deals = selectors.deal_visible_to(user=user).filter(deal_contacts__contact=contact)
    return {
        "deals": list(deals.select_related("stage").order_by("-updated_at")[:10]),
        "contact": contact,
        "can_hand_off": user.can_edit_records,
    }
