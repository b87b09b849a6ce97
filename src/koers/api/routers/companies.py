from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import field_validator

from koers.api.common import RecordId, owner_filter, text
from koers.api.routers.records import (
    CustomFields,
    RecordApi,
    Technologies,
    make_router,
    owner_lookup,
    visible_company,
    with_custom_fields,
)
from koers.crm import normalise, selectors, services

SORTS = {key: (*selectors.COMPANY_SORTS[key],) for key in selectors.COMPANY_SORTS}


class CompanyOut(Schema):
    id: int
    name: str
    legal_form: str
    domain: str
    kvk_number: str
    establishment_number: str
    vat_number: str
    industry: str
    employee_band: str
    revenue_band: str
    phone: str
    street: str
    postcode: str
    city: str
    country: str
    lifecycle_stage: str
    owner_id: int | None
    parent_id: int | None
    external_id: str
    description: str
    customer_until: date | None
    technologies: list[str]
    custom_fields: dict[str, str | int | float]
    created_at: datetime
    updated_at: datetime

    @field_validator("country", mode="before")
    @classmethod
    def _country_code(cls, value) -> str:
        return str(value)  # django-countries gives a Country object


class CompanyPatch(Schema):
    name: str = text(max_length=200)
    legal_form: str = text(max_length=50)
    domain: str = text(max_length=253)
    kvk_number: str = text(max_length=50)
    establishment_number: str = text(max_length=50)
    vat_number: str = text(max_length=50)
    industry: str = text(max_length=50)
    employee_band: str = text(max_length=50)
    revenue_band: str = text(max_length=50)
    phone: str = text(max_length=50)
    street: str = text(max_length=200)
    postcode: str = text(max_length=50)
    city: str = text(max_length=100)
    country: str = text("NL", max_length=2)
    lifecycle_stage: str = text("prospect", max_length=20)
    owner_id: RecordId | None = None
    parent_id: RecordId | None = None
    external_id: str = text(max_length=100)
    description: str = text(max_length=10_000)
    customer_until: date | None = None
    technologies: Technologies = Field(default_factory=list)
    custom_fields: CustomFields = Field(default_factory=dict)


class CompanyIn(CompanyPatch):
    name: str = text(..., min_length=1, max_length=200)


class CompanyFilters(Schema):
    q: str = text(max_length=200)
    owner: str = owner_filter()
    lifecycle_stage: str = text(max_length=50)
    city: str = text(max_length=100)
    industry: str = text(max_length=50)
    legal_form: str = text(max_length=50)
    sort: Literal["name", "-name", "-updated", "-created"] = "name"
    cursor: str = text(max_length=500)
    limit: int = Field(50, ge=1, le=100)


router = make_router(
    RecordApi(
        name="companies",
        flat=True,
        match_keys={
            "external_id": str.strip,
            "kvk_number": normalise.normalise_kvk_number,
            "vat_number": normalise.normalise_vat_number,
            "domain": normalise.normalise_domain,
        },
        out=CompanyOut,
        create_in=CompanyIn,
        patch_in=CompanyPatch,
        filters=CompanyFilters,
        sorts=SORTS,
        list_for_user=selectors.company_list_for_user,
        get_for_user=selectors.company_get_for_user,
        create=lambda actor, **fields: services.company_create(
            actor=actor, **with_custom_fields(None, fields)
        ),
        update=lambda actor, company, **fields: services.company_update(
            actor=actor, company=company, **with_custom_fields(company, fields)
        ),
        delete=services.record_delete,
        links={"owner_id": owner_lookup, "parent_id": visible_company},
    )
)
