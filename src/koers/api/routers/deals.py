"""Deals: listed, read, created and changed as in the pages, moved through their pipeline's
stages with a PATCH of stage_id, and moved to the trash."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import PlainSerializer

from koers.api.common import RecordId, owner_filter, text
from koers.api.routers.records import RecordApi, make_router, owner_lookup, visible_company
from koers.core.models import User
from koers.crm.models import Contact
from koers.crm.selectors import contact_visible_to
from koers.crm.services import record_delete
from koers.pipeline import selectors, services
from koers.pipeline.models import Deal, DealContact, Pipeline, Stage

# Money goes out as text with two decimals ("1250.00"), never as a float that rounds.
Amount = Annotated[
    Decimal, PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="always")
]
SORTS = {key: selectors.DEAL_SORTS[key] for key in ("-updated", "name", "-value")}


def _amount(**options):
    return Field(Decimal(0), ge=0, max_digits=14, decimal_places=2, **options)


class DealContactOut(Schema):
    contact_id: int
    dmu_role: str = Field(description="Their role in the buying committee")


class DealContactIn(Schema):
    contact_id: RecordId
    dmu_role: str = text(max_length=20, description="Empty: the contact's own role")


class DealOut(Schema):
    id: int
    name: str
    pipeline_id: int
    stage_id: int
    status: str
    company_id: int | None
    amount_one_off: Amount
    amount_recurring: Amount
    value: Amount = Field(description="The one-off amount plus twelve months of the recurring one")
    currency: str
    expected_close_on: date | None
    probability: int | None
    owner_id: int | None
    source: str
    lost_reason: str
    lost_note: str
    won_at: datetime | None
    lost_at: datetime | None
    first_touch_at: datetime | None
    last_activity_at: datetime
    handed_off_by_id: int | None
    qualification_budget: str
    qualification_authority: str
    qualification_need: str
    qualification_timing: str
    contacts: list[DealContactOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_contacts(deal, context) -> list:
        """The deal's people the caller may see; the others are not even named."""
        if hasattr(deal, "visible_deal_contacts"):  # a list prefetched them for all its deals
            return deal.visible_deal_contacts
        user = context["request"].user
        return list(deal.deal_contacts.filter(contact__in=contact_visible_to(user=user)))


class _DealFields(Schema):
    name: str = text(max_length=200)
    company_id: RecordId | None = None
    amount_one_off: Decimal = _amount()
    amount_recurring: Decimal = _amount(description="Per month")
    currency: str = text("EUR", max_length=3)
    expected_close_on: date | None = None
    probability: int | None = Field(None, ge=0, le=100, description="Empty: the stage's")
    owner_id: RecordId | None = None
    source: str = text(max_length=20)
    qualification_budget: str = text(max_length=10_000)
    qualification_authority: str = text(max_length=10_000)
    qualification_need: str = text(max_length=10_000)
    qualification_timing: str = text(max_length=10_000)
    contacts: list[DealContactIn] = Field([], max_length=100, description="The whole list")


class DealIn(_DealFields):
    name: str = text(..., min_length=1, max_length=200)
    pipeline_id: RecordId
    stage_id: RecordId | None = Field(None, description="Empty: the pipeline's first open stage")


class DealPatch(_DealFields):
    stage_id: RecordId | None = Field(
        None, description="Move the deal: into a won stage it is won, into a lost one lost"
    )
    lost_reason: str = text(max_length=20, description="Why, when moving into a lost stage")
    lost_note: str = text(max_length=300)


class DealFilters(Schema):
    q: str = text(max_length=200)
    pipeline_id: RecordId | None = None
    stage_id: RecordId | None = None
    owner: str = owner_filter()
    status: Literal["open", "won", "lost"] | None = None
    stalled: bool = Field(False, description="Only open deals without activity for too long")
    company_id: RecordId | None = None
    sort: Literal["-updated", "name", "-value"] = "-updated"
    cursor: str = text(max_length=500)
    limit: int = Field(50, ge=1, le=100)


def _deal_list(*, user: User, **filters):
    # The people of every deal on the page in one query, only those the user may see.
    visible = Prefetch(
        "deal_contacts",
        queryset=DealContact.objects.filter(contact__in=contact_visible_to(user=user)),
        to_attr="visible_deal_contacts",
    )
    return selectors.deal_list_for_user(user=user, **filters).prefetch_related(visible)


def visible_contacts(actor: User, given: list[dict]) -> list[tuple[Contact, str]]:
    """The contacts with their roles, if the actor may see every one of them."""
    roles = {row["contact_id"]: row.get("dmu_role", "") for row in given}
    if any(role and role not in Contact.DMURole.values for role in roles.values()):
        raise ValidationError({"contacts": _("Choose one of the roles.")})
    contacts = contact_visible_to(user=actor).filter(pk__in=roles)
    if len(contacts) != len(roles):
        raise ValidationError({"contacts": _("Choose contacts you can see.")})
    return [(contact, roles[contact.pk]) for contact in contacts]


def pipeline_in_use(_actor: User, pk: int) -> Pipeline:
    pipeline = selectors.pipeline_list(active_only=True).filter(pk=pk).first()
    if pipeline is None:
        raise ValidationError({"pipeline_id": _("Choose a pipeline that is in use.")})
    return pipeline


def stage_lookup(_actor: User, pk: int) -> Stage:
    """A stage by id; the services refuse one of another pipeline."""
    stage = Stage.objects.select_related("pipeline").filter(pk=pk).first()
    if stage is None:
        raise ValidationError({"stage_id": _("Choose a stage of this pipeline.")})
    return stage


@transaction.atomic
def deal_change(
    actor: User,
    deal: Deal,
    *,
    stage: Stage | None = None,
    lost_reason: str = "",
    lost_note: str = "",
    contacts: list[tuple[Contact, str]] | None = None,
    **fields,
) -> Deal:
    """Change the given fields and contacts, then move the deal if a stage is given: all of
    it or nothing."""
    if contacts is not None:
        _deal_contacts_replace(actor=actor, deal=deal, contacts=contacts)
    if fields:
        deal = services.deal_update(actor=actor, deal=deal, **fields)
    if stage is not None:
        deal = services.deal_move(
            actor=actor, deal=deal, to_stage=stage, lost_reason=lost_reason, lost_note=lost_note
        )
    return deal


def _deal_contacts_replace(*, actor: User, deal: Deal, contacts: list[tuple[Contact, str]]):
    keep = {contact.pk for contact, _role in contacts}
    # People on the deal whom the actor cannot see stay: they could not have listed them.
    hidden = set(
        selectors.deal_contacts(deal=deal)
        .exclude(contact__in=contact_visible_to(user=actor))
        .values_list("contact_id", flat=True)
    )
    for link in selectors.deal_contacts(deal=deal):
        if link.contact_id not in keep and link.contact_id not in hidden:
            services.deal_contact_remove(actor=actor, deal=deal, contact=link.contact)
    for contact, role in contacts:
        services.deal_contact_set(
            actor=actor, deal=deal, contact=contact, dmu_role=role or contact.dmu_role
        )


router = make_router(
    RecordApi(
        name="deals",
        out=DealOut,
        filters=DealFilters,
        sorts=SORTS,
        list_for_user=_deal_list,
        get_for_user=selectors.deal_get_for_user,
        create_in=DealIn,
        create=services.deal_create,
        patch_in=DealPatch,
        update=deal_change,
        delete=record_delete,
        links={
            "pipeline_id": pipeline_in_use,
            "stage_id": stage_lookup,
            "company_id": visible_company,
            "owner_id": owner_lookup,
            "contacts": visible_contacts,
        },
    )
)
