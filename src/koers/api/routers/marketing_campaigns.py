"""Marketing campaigns: everyone reads them, as in the pages; admins, managers and
marketing create, change and delete them (the services refuse anyone else)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from koers.api.common import RecordId, text
from koers.api.routers.deals import Amount
from koers.api.routers.records import RecordApi, make_router, owner_lookup
from koers.core.models import User
from koers.tracking import selectors
from koers.tracking.models import Campaign
from koers.tracking.services import setup

SORTS = {"-created": ("-created_at", "-id"), "name": ("name", "id")}
Channel = Literal[tuple(Campaign.Channel.values)]


def _spend(default, **options):
    return Field(default, ge=0, max_digits=12, decimal_places=2, **options)


class MarketingCampaignOut(Schema):
    id: int
    name: str
    channel: str = Field(description=f"One of {', '.join(Campaign.Channel.values)}")
    starts_on: date | None
    ends_on: date | None
    spend: Amount = Field(description="In euros, as text with two decimals")
    utm_campaign: str = Field(description="Visits with this utm_campaign count for it")
    owner_id: int | None
    created_at: datetime


class MarketingCampaignIn(Schema):
    name: str = text(..., max_length=150)
    channel: Channel
    starts_on: date | None = None
    ends_on: date | None = None
    spend: Decimal = _spend(Decimal(0), description="In euros")
    utm_campaign: str = text(max_length=100, description="Kept in lower case; unique")
    owner_id: RecordId | None = None


class MarketingCampaignPatch(Schema):
    name: str = text(max_length=150)
    channel: Channel = Campaign.Channel.SEARCH_ADS.value
    starts_on: date | None = None
    ends_on: date | None = None
    spend: Decimal = _spend(Decimal(0), description="In euros")
    utm_campaign: str = text(max_length=100, description="Kept in lower case; unique")
    owner_id: RecordId | None = None


class MarketingCampaignFilters(Schema):
    channel: Channel | None = None
    sort: Literal["-created", "name"] = "-created"
    cursor: str = text(max_length=500)
    limit: int = Field(50, ge=1, le=100)


def _campaign_list(*, user: User, sort: str = "-created", channel: str = ""):
    return selectors.campaign_list(channel=channel)


def _campaign_get(*, user: User, pk: int) -> Campaign:
    return selectors.campaign_get(pk=pk)


def _campaign_update(actor: User, campaign: Campaign, **fields) -> Campaign:
    # PATCH: the fields not sent keep their values; the service takes them all.
    current = {name: getattr(campaign, name) for name in setup.CAMPAIGN_FIELDS}
    return setup.campaign_update(actor=actor, campaign=campaign, **(current | fields))


def _campaign_delete(*, actor: User, record: Campaign) -> None:
    """Delete a campaign; its touchpoints and lead forms stay, without the campaign."""
    setup.campaign_delete(actor=actor, campaign=record)


router = make_router(
    RecordApi(
        name="marketing_campaigns",
        out=MarketingCampaignOut,
        filters=MarketingCampaignFilters,
        sorts=SORTS,
        list_for_user=_campaign_list,
        get_for_user=_campaign_get,
        create_in=MarketingCampaignIn,
        create=setup.campaign_create,
        patch_in=MarketingCampaignPatch,
        update=_campaign_update,
        delete=_campaign_delete,
        links={"owner_id": owner_lookup},
    )
)
