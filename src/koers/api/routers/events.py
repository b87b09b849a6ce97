"""Events: what contacts did, as Koers's tracking saw it or a program reports it (product
usage, a quote viewed in another tool). Reported events count for the engagement score
like tracked ones. Read and written only for contacts the token's user may see."""

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from ninja import Field, Schema
from pydantic import AfterValidator

from koers.api.common import (
    ERRORS,
    FieldErrorOut,
    Moment,
    RecordId,
    field_errors,
    idempotent,
    require_scope,
    text,
)
from koers.api.routers.records import RecordApi, make_router
from koers.core.services import check_can_edit_records
from koers.crm.selectors import contact_visible_to
from koers.tracking.models import Event
from koers.tracking.services.events import REPORTED_KINDS, events_report

BATCH_MAX = 1000
SORTS = {"-occurred": ("-occurred_at", "-id"), "occurred": ("occurred_at", "id")}
ReportedKind = Literal[tuple(kind.value for kind in REPORTED_KINDS)]


PropertyName = Annotated[str, text(..., min_length=1, max_length=40)]


def _plain(value: Any) -> Any:
    """A property's value: short text, a finite number, true, false or null."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) <= 500 and "\x00" not in value:
        return value
    if isinstance(value, int) and abs(value) <= 2**53:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise ValueError("a property is text of at most 500 characters, a number, true, false or null")


PropertyValue = Annotated[Any, AfterValidator(_plain)]


class EventOut(Schema):
    id: int
    kind: str
    contact_id: int | None
    occurred_at: datetime
    url: str
    title: str
    engaged_seconds: int | None = Field(description="Seconds a page was read")
    campaign_id: int | None
    properties: dict[str, Any]


class EventFilters(Schema):
    contact_id: RecordId | None = None
    kind: str = text(max_length=14)
    sort: Literal["-occurred", "occurred"] = "-occurred"
    cursor: str = text(max_length=500)
    limit: int = Field(50, ge=1, le=100)


class EventIn(Schema):
    kind: ReportedKind
    contact_id: RecordId | None = Field(None, description="The contact, or give email")
    email: str = text(max_length=254, description="The contact's email address")
    occurred_at: Moment | None = Field(None, description="Empty: now")
    url: str = text(max_length=2000)
    title: str = text(max_length=300)
    engaged_seconds: int | None = Field(None, ge=0, le=86_400)
    campaign_id: RecordId | None = None
    properties: dict[PropertyName, PropertyValue] = Field(
        default_factory=dict, max_length=20, description="Up to 20 plain values"
    )


class EventBatchIn(Schema):
    events: list[EventIn] = Field(..., min_length=1, max_length=BATCH_MAX)


class EventResult(Schema):
    index: int
    status: Literal["stored", "error"]
    id: int | None
    errors: list[FieldErrorOut]


class EventBatchOut(Schema):
    stored: int
    failed: int
    results: list[EventResult]


def _visible_events(user):
    # Stage changes are the deal's, shown by the deals API to those who may see the deal.
    return Event.objects.filter(contact__in=contact_visible_to(user=user)).exclude(
        kind=Event.Kind.STAGE_REACHED
    )


def event_list(*, user, sort: str, contact_id: int | None = None, kind: str = ""):
    events = _visible_events(user)
    if contact_id:
        events = events.filter(contact_id=contact_id)
    if kind:
        events = events.filter(kind=kind)
    return events


def event_get(*, user, pk: int) -> Event:
    event = _visible_events(user).filter(pk=pk).first()
    if event is None:
        raise Http404
    return event


router = make_router(
    RecordApi(
        name="events",
        out=EventOut,
        filters=EventFilters,
        sorts=SORTS,
        list_for_user=event_list,
        get_for_user=event_get,
        flat=True,
    )
)


@router.post(
    "",
    response={200: EventBatchOut, **ERRORS},
    summary=f"Report up to {BATCH_MAX} events at once",
    operation_id="events_report",
    description=(
        "Each event is checked on its own: one that is refused does not stop the others. "
        "Name the contact by contact_id or email."
    ),
)
def report_events(request, payload: EventBatchIn):
    require_scope(request, "events", "write")
    check_can_edit_records(request.user)

    def make():
        outcomes = events_report(actor=request.user, items=[item.dict() for item in payload.events])
        results = [
            {"index": index, "status": "error", "id": None, "errors": field_errors(outcome)}
            if isinstance(outcome, ValidationError)
            else {"index": index, "status": "stored", "id": outcome.pk, "errors": []}
            for index, outcome in enumerate(outcomes)
        ]
        stored = sum(result["status"] == "stored" for result in results)
        return 200, {"stored": stored, "failed": len(results) - stored, "results": results}

    status, body = idempotent(request, make)
    return JsonResponse(body, status=status)
