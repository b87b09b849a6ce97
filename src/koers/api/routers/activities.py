"""Activities: calls, meetings, notes and tasks, done or planned, on the records the user
may see. The API logs them, marks them done and deletes them; like the pages, it does not
rewrite what was logged."""

from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Schema

from koers.activities import selectors, services
from koers.activities.models import Activity
from koers.api.common import Moment, RecordId, owner_filter, text
from koers.api.routers.records import RecordApi, make_router, owner_lookup, visible_company
from koers.core.models import User
from koers.crm.models import Contact
from koers.crm.selectors import contact_visible_to
from koers.pipeline.models import Deal
from koers.pipeline.selectors import deal_visible_to

SORTS = selectors.ACTIVITY_SORTS


class ActivityOut(Schema):
    id: int
    kind: str
    direction: str
    outcome: str
    subject: str
    body: str
    occurred_at: datetime = Field(description="When it happened, or was planned")
    due_at: datetime | None
    done_at: datetime | None = Field(description="Empty while it is planned")
    owner_id: int | None
    created_by_id: int | None
    contact_id: int | None
    company_id: int | None
    deal_id: int | None


class ActivityIn(Schema):
    kind: str = text(..., max_length=10, description=f"One of {', '.join(Activity.Kind.values)}")
    subject: str = text(..., min_length=1, max_length=1000, description="One line about it")
    body: str = text(max_length=10_000)
    contact_id: RecordId | None = None
    company_id: RecordId | None = Field(None, description="Empty: the contact's or the deal's")
    deal_id: RecordId | None = None
    direction: str = text(max_length=10, description="inbound or outbound")
    outcome: str = text(max_length=20)
    owner_id: RecordId | None = Field(None, description="Who it is for; empty: you")
    occurred_at: Moment | None = Field(None, description="Empty: now")
    due_at: Moment | None = None
    done: bool = Field(True, description="false: a planned activity, which needs due_at")


class ActivityPatch(Schema):
    done: Literal[True] = Field(True, description="Mark the activity done")
    outcome: str = text(max_length=20)


class ActivityFilters(Schema):
    contact_id: RecordId | None = None
    company_id: RecordId | None = None
    deal_id: RecordId | None = None
    kind: str = text(max_length=10)
    state: Literal["done", "planned"] | None = None
    owner: str = owner_filter()
    sort: Literal["-occurred", "occurred"] = "-occurred"
    cursor: str = text(max_length=500)
    limit: int = Field(50, ge=1, le=100)


def visible_contact(actor: User, pk: int) -> Contact:
    contact = contact_visible_to(user=actor).filter(pk=pk).first()
    if contact is None:
        raise ValidationError(_("Choose a contact you can see."))
    return contact


def visible_deal(actor: User, pk: int) -> Deal:
    deal = deal_visible_to(user=actor).filter(pk=pk).first()
    if deal is None:
        raise ValidationError(_("Choose a deal you can see."))
    return deal


def activity_change(actor: User, activity: Activity, *, outcome: str = "", **fields) -> Activity:
    """Mark the activity done, with its outcome; a PATCH of nothing changes nothing."""
    if not fields and not outcome:
        return activity
    return services.activity_complete(actor=actor, activity=activity, outcome=outcome)


def activity_delete(*, actor: User, record: Activity) -> None:
    """Delete the activity for good: only its author, whom it is for, or a manager may."""
    services.activity_delete(actor=actor, activity=record)


router = make_router(
    RecordApi(
        name="activities",
        out=ActivityOut,
        filters=ActivityFilters,
        sorts=SORTS,
        list_for_user=selectors.activity_list_for_user,
        get_for_user=selectors.activity_get_for_user,
        create_in=ActivityIn,
        create=services.activity_log,
        patch_in=ActivityPatch,
        update=activity_change,
        delete=activity_delete,
        links={
            "contact_id": visible_contact,
            "company_id": visible_company,
            "deal_id": visible_deal,
            "owner_id": owner_lookup,
        },
    )
)
