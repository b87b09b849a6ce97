from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from koers.api.common import RecordId, owner_filter, text
from koers.api.routers.records import (
    CustomFields,
    RecordApi,
    make_router,
    owner_lookup,
    visible_company,
    with_custom_fields,
)
from koers.crm import normalise, selectors, services

SORTS = {key: (*selectors.CONTACT_SORTS[key],) for key in selectors.CONTACT_SORTS}


class ContactOut(Schema):
    id: int
    first_name: str
    name_prefix: str
    last_name: str
    email: str
    phone: str
    mobile: str
    job_title: str
    function: str
    dmu_role: str
    linkedin_url: str
    company_id: int | None
    lifecycle_stage: str
    lead_source: str
    owner_id: int | None
    do_not_call: bool
    phone_opt_in_on: date | None
    customer_until: date | None
    call_back_on: date | None
    external_id: str
    custom_fields: dict[str, str | int | float]
    created_at: datetime
    updated_at: datetime


class ContactPatch(Schema):
    first_name: str = text(max_length=100)
    name_prefix: str = text(max_length=20)
    last_name: str = text(max_length=100)
    email: str = text(max_length=254)
    phone: str = text(max_length=50)
    mobile: str = text(max_length=50)
    job_title: str = text(max_length=150)
    function: str = text(max_length=50)
    dmu_role: str = text(max_length=50)
    linkedin_url: str = text(max_length=300)
    company_id: RecordId | None = None
    lifecycle_stage: str = text("lead", max_length=20)
    lead_source: str = text(max_length=50)
    owner_id: RecordId | None = None
    do_not_call: bool = False
    phone_opt_in_on: date | None = None
    customer_until: date | None = None
    call_back_on: date | None = None
    external_id: str = text(max_length=100)
    custom_fields: CustomFields = Field(default_factory=dict)


class ContactIn(ContactPatch):
    last_name: str = text(..., min_length=1, max_length=100)


class ContactFilters(Schema):
    q: str = text(max_length=200)
    owner: str = owner_filter()
    lifecycle_stage: str = text(max_length=50)
    city: str = text(max_length=100)
    dmu_role: str = text(max_length=50)
    function: str = text(max_length=50)
    company_id: RecordId | None = None
    sort: Literal["name", "-name", "-updated", "-created"] = "name"
    cursor: str = text(max_length=500)
    limit: int = Field(50, ge=1, le=100)


router = make_router(
    RecordApi(
        name="contacts",
        flat=True,
        match_keys={"external_id": str.strip, "email": normalise.normalise_email},
        out=ContactOut,
        create_in=ContactIn,
        patch_in=ContactPatch,
        filters=ContactFilters,
        sorts=SORTS,
        list_for_user=selectors.contact_list_for_user,
        get_for_user=selectors.contact_get_for_user,
        create=lambda actor, **fields: services.contact_create(
            actor=actor, **with_custom_fields(None, fields)
        ),
        update=lambda actor, contact, **fields: services.contact_update(
            actor=actor, contact=contact, **with_custom_fields(contact, fields)
        ),
        delete=services.record_delete,
        links={"owner_id": owner_lookup, "company_id": visible_company},
    )
)
