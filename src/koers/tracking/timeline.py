"""Web visits, downloads, forms and email opens and clicks on contact and company timelines."""

from django.db.models import Q

from koers.activities.timeline import Cursor, Entry, Subject, before_q
from koers.core.models import User
from koers.crm.selectors import contact_visible_to
from koers.tracking.models import Event

# Stage changes are on the timeline already, from the pipeline.
SHOWN = [kind for kind in Event.Kind if kind != Event.Kind.STAGE_REACHED]


def kinds() -> list[tuple[str, str]]:
    return [(kind.value, kind.label) for kind in SHOWN]


def event_entries(
    *,
    user: User,
    subject: Subject,
    record_id: int,
    kinds: set[str] | None,
    before: Cursor | None,
    limit: int,
) -> list[Entry]:
    """A person's events, newest first: a range of the (contact, time) index."""
    if subject == "deal":
        return []
    if subject == "contact":
        where = Q(contact_id=record_id)
    else:  # only the people at the company the user may see
        where = Q(contact__company_id=record_id, contact__in=contact_visible_to(user=user))
    shown = set(SHOWN) if kinds is None else set(SHOWN) & kinds
    rows = (
        Event.objects.filter(where, before_q(before, "web", at="occurred_at"), kind__in=shown)
        .select_related("campaign", "contact")
        .order_by("-occurred_at", "-id")[:limit]
    )
    return [
        Entry(row.occurred_at, "web", row.pk, row.kind, "tracking/entry_event.html", row)
        for row in rows
    ]
