"""Pipelines with their stages. Every user works with the same pipelines; only managers
and admins set them up and add, change or delete their stages (the services refuse
anyone else)."""

import json
from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Schema, Status
from ninja.responses import NinjaJSONEncoder

from koers.api.common import ERRORS, ApiError, ErrorOut, idempotent, require_scope, text
from koers.api.routers.records import RecordApi, make_router
from koers.core.models import User
from koers.pipeline import selectors, services
from koers.pipeline.models import Pipeline, SalesModel, Stage

Kind = Literal[tuple(Stage.Kind.values)]
Requirement = Literal[tuple(Stage.Requirement.values)]

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


class StageIn(Schema):
    name: str = text(..., max_length=100)
    kind: Kind = Stage.Kind.OPEN.value
    probability: int = Field(10, ge=0, le=100, description="The chance, in %, a deal here is won")
    required: list[Requirement] = Field(
        default_factory=list, max_length=10, description="What a deal needs before it may enter"
    )
    position: int | None = Field(
        None, ge=1, le=1000, description="Its place among the stages, from 1; empty: the last"
    )


class StagePatch(Schema):
    name: str = text(max_length=100, description="Empty: the template's name")
    kind: Kind = Field(
        Stage.Kind.OPEN.value, description="Cannot change while deals are in the stage"
    )
    probability: int = Field(10, ge=0, le=100)
    required: list[Requirement] = Field(default_factory=list, max_length=10)
    position: int = Field(1, ge=1, le=1000, description="Its place among the stages, from 1")


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


def _stage_get(pipeline: Pipeline, stage_id: int) -> Stage:
    return get_object_or_404(pipeline.stages.all(), pk=stage_id)


def _stage_save(actor: User, pipeline: Pipeline, stage: Stage | None, **fields) -> Stage:
    """Create or change a stage and, when a position is given, put it there."""
    position = fields.pop("position", None)
    if stage is not None:  # PATCH: the fields not sent keep their values
        fields = {
            "name": stage.name,
            "kind": stage.kind,
            "probability": stage.probability,
            "required": stage.required,
        } | fields
    with transaction.atomic():
        stage = services.stage_save(actor=actor, pipeline=pipeline, stage=stage, **fields)
        if position is not None:
            order = [pk for pk in pipeline.stages.values_list("pk", flat=True) if pk != stage.pk]
            order.insert(min(position, len(order) + 1) - 1, stage.pk)
            services.stage_reorder(actor=actor, pipeline=pipeline, stage_ids=order)
            stage.refresh_from_db()
    return stage


@router.post(
    "/{pipeline_id}/stages",
    response={201: StageOut, **ERRORS},
    summary="Add a stage to a pipeline",
    operation_id="pipelines_stage_create",
)
def stage_create(request, pipeline_id: int, payload: StageIn):
    require_scope(request, "pipelines", "write")
    pipeline = selectors.pipeline_get(pk=pipeline_id)

    def make():
        stage = _stage_save(request.user, pipeline, None, **payload.dict())
        body = StageOut.from_orm(stage).model_dump()
        return 201, json.loads(json.dumps(body, cls=NinjaJSONEncoder))

    status, body = idempotent(request, make)
    return JsonResponse(body, status=status)


@router.patch(
    "/{pipeline_id}/stages/{stage_id}",
    response={200: StageOut, **ERRORS},
    summary="Change a stage of a pipeline: its name, place, probability or kind",
    operation_id="pipelines_stage_update",
)
def stage_update(request, pipeline_id: int, stage_id: int, payload: StagePatch):
    require_scope(request, "pipelines", "write")
    pipeline = selectors.pipeline_get(pk=pipeline_id)
    stage = _stage_get(pipeline, stage_id)
    return _stage_save(request.user, pipeline, stage, **payload.dict(exclude_unset=True))


@router.delete(
    "/{pipeline_id}/stages/{stage_id}",
    response={204: None, 409: ErrorOut, **ERRORS},
    summary="Delete a stage no deal has been in",
    operation_id="pipelines_stage_delete",
    description="A stage that deals are in, or have been in, is kept: the answer is 409.",
)
def stage_delete(request, pipeline_id: int, stage_id: int):
    require_scope(request, "pipelines", "write")
    pipeline = selectors.pipeline_get(pk=pipeline_id)
    stage = _stage_get(pipeline, stage_id)
    try:
        services.stage_delete(actor=request.user, stage=stage)
    except ValidationError as error:
        raise ApiError(409, "stage_in_use", " ".join(error.messages)) from None
    return Status(204, None)
