"""Pipelines with their stages. Every user works with the same pipelines; only managers
and admins set them up (the services refuse anyone else)."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from koers.api.common import text
from koers.api.routers.records import RecordApi, make_router
from koers.pipeline import selectors, services
from koers.pipeline.models import Pipeline, SalesModel

SORTS = {"name": ("name", "id"), "-created": ("-created_at", "-id")}


class StageOut(Schema):
    id: int
    key: str = Field(description="The template's stage, such as qualify; empty for a new one")
    name: str
    position: int
    kind: str = Field(description="open, won, lost or post_sale")
    probability: int
    required: list[str] = Field(description="What a deal needs before it may enter")

    @staticmethod
    def resolve_name(stage) -> str:
        return stage.label  # a template's stage is named in the user's language


class PipelineOut(Schema):
    id: int
    name: str
    sales_model: str
    stall_days: int
    is_active: bool
    created_at: datetime
    stages: list[StageOut]  # prefetched in lists, in their order


class PipelineIn(Schema):
    sales_model: str = text(
        ...,
        max_length=20,
        description=f"The template of its stages: one of {', '.join(SalesModel.values)}",
    )
    name: str = text(max_length=100, description="Empty: the template's name")


class PipelinePatch(Schema):
    name: str = text(max_length=100)
    stall_days: int = Field(14, ge=1, le=365, description="Open deals quiet this long stall")
    is_active: bool = True


class PipelineFilters(Schema):
    active_only: bool = False
    sort: Literal["name", "-created"] = "name"
    cursor: str = text(max_length=500)
    limit: int = Field(50, ge=1, le=100)


def _pipeline_list(*, user, sort: str, active_only: bool = False):
    return selectors.pipeline_list(active_only=active_only).prefetch_related("stages")


def _pipeline_get(*, user, pk: int) -> Pipeline:
    return selectors.pipeline_get(pk=pk)


router = make_router(
    RecordApi(
        name="pipelines",
        out=PipelineOut,
        filters=PipelineFilters,
        sorts=SORTS,
        list_for_user=_pipeline_list,
        get_for_user=_pipeline_get,
        create_in=PipelineIn,
        create=services.pipeline_create_from_template,
        patch_in=PipelinePatch,
        update=lambda actor, pipeline, **fields: services.pipeline_update(
            actor=actor, pipeline=pipeline, **fields
        ),
    )
)
