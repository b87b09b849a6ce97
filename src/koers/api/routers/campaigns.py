"""Call campaigns, read only: those who run campaigns see them all, an agent their own."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from koers.api.common import text
from koers.api.routers.records import RecordApi, make_router
from koers.outreach import selectors

SORTS = {"-created": ("-created_at", "-id"), "name": ("name", "id")}


class CampaignOut(Schema):
    id: int
    name: str
    goal: str
    script: str
    status: str = Field(description="draft, active, paused or finished")
    owner_id: int | None
    agent_ids: list[int]
    contact_filter: dict[str, str] = Field(description="Whom the call list is built from")
    cool_off_days: int
    recent_call_days: int
    max_attempts: int
    open_entries: int = Field(description="People on the call list still to call")
    total_entries: int
    created_at: datetime

    @staticmethod
    def resolve_agent_ids(campaign) -> list[int]:
        return [agent.pk for agent in campaign.agents.all()]  # prefetched


class CampaignFilters(Schema):
    status: Literal["draft", "active", "paused", "finished"] | None = None
    sort: Literal["-created", "name"] = "-created"
    cursor: str = text(max_length=500)
    limit: int = Field(50, ge=1, le=100)


def _campaign_list(*, user, sort: str, status: str = ""):
    campaigns = selectors.campaign_list_for_user(user=user, status=status)
    return campaigns.prefetch_related("agents")


router = make_router(
    RecordApi(
        name="campaigns",
        out=CampaignOut,
        filters=CampaignFilters,
        sorts=SORTS,
        list_for_user=_campaign_list,
        get_for_user=selectors.campaign_get_for_user,
    )
)
