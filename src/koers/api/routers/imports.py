"""Imports through the API: upload a file, read the check, start it, follow it, fetch the
rejected rows. The same jobs, services and rules as the import wizard."""

from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from koers.api.common import ERRORS, ApiError, RecordId, cursor_page, require_scope, text
from koers.dataio import selectors
from koers.dataio.models import ImportJob
from koers.dataio.services import imports

router = Router()
TARGETS = Literal["companies", "contacts", "deals", "activities"]
MATCH_KEYS = Literal["", "external_id", "email", "kvk_number", "vat_number", "domain", "name"]


class ImportPreviewOut(Schema):
    create: int = 0
    update: int = 0
    skip: int = 0
    reject: int = 0
    companies: int = Field(0, description="New companies the contacts' employers will make")
    errors: list[tuple[int, str]] = Field([], description="(row, reason) of the first errors")


class ImportOut(Schema):
    id: int
    target: str
    file_name: str
    status: str = Field(description="uploaded, checking, checked, queued, running, done, failed")
    headers: list[str]
    mapping: list[str] = Field(
        description=(
            'The field each column fills, "custom:<name>" for a custom field; empty: not imported'
        )
    )
    match_on: str
    total_rows: int | None
    processed_rows: int
    progress: int = Field(description="Percentage of the rows done")
    created_count: int
    updated_count: int
    skipped_count: int
    rejected_count: int
    preview: ImportPreviewOut | None
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_preview(job) -> dict | None:
        return job.preview or None


class RejectionOut(Schema):
    row_number: int
    values: list[str]
    reason: str


class RejectionPage(Schema):
    results: list[RejectionOut]
    next: str | None


class ImportFilters(Schema):
    cursor: str = text(max_length=500)
    limit: int = Field(50, ge=1, le=100)


class ImportPage(Schema):
    results: list[ImportOut]
    next: str | None


def _file_error(error: ValidationError) -> ApiError:
    return ApiError(
        422,
        "invalid",
        _("Some fields are not valid."),
        [{"field": "file", "message": " ".join(error.messages)}],
    )


def _job(request, job_id: RecordId) -> ImportJob:
    return selectors.import_job_get_for_user(user=request.user, pk=job_id)


@router.post(
    "",
    response={201: ImportOut, **ERRORS},
    summary="Upload a file to import",
    operation_id="imports_create",
    description=(
        "A CSV (any delimiter or encoding) or XLSX file with a header row. Its columns are "
        "mapped as their headers suggest (or as your saved mapping for these headers says), "
        "and the check starts at once: follow it with GET until the status is checked."
    ),
)
def create_import(
    request,
    file: File[UploadedFile],
    target: Form[TARGETS],
    match_on: Form[MATCH_KEYS] = "",
):
    require_scope(request, "imports", "write")
    # An import writes records of its target: it needs their write scope too.
    require_scope(request, target, "write")
    try:
        job = imports.import_job_create(
            actor=request.user, target=target, file_name=file.name or "upload", upload=file
        )
    except ValidationError as error:
        raise _file_error(error) from None
    try:
        imports.import_job_configure(
            actor=request.user, job=job, mapping=job.mapping, match_on=match_on or job.match_on
        )
    except ValidationError as error:
        # The headers did not say enough, or match_on names no column: nothing is kept.
        imports.import_job_delete(actor=request.user, job=job)
        raise _file_error(error) from None
    imports.import_job_check_queue(actor=request.user, job=job)
    job.refresh_from_db()
    return Status(201, job)


@router.get(
    "",
    response={200: ImportPage, **ERRORS},
    summary="List your imports",
    operation_id="imports_list",
)
def list_imports(request, filters: Query[ImportFilters]):
    require_scope(request, "imports", "read")
    jobs = selectors.import_job_list_for_user(user=request.user)
    results, next_cursor = cursor_page(
        jobs, order=("-id",), cursor=filters.cursor, limit=filters.limit
    )
    return {"results": results, "next": next_cursor}


@router.get(
    "/{job_id}",
    response={200: ImportOut, **ERRORS},
    summary="Get an import: its check, progress and counts",
    operation_id="imports_get",
)
def get_import(request, job_id: RecordId):
    require_scope(request, "imports", "read")
    return _job(request, job_id)


@router.post(
    "/{job_id}/start",
    response={202: ImportOut, **ERRORS},
    summary="Start a checked import",
    operation_id="imports_start",
)
def start_import(request, job_id: RecordId):
    require_scope(request, "imports", "write")
    job = _job(request, job_id)
    require_scope(request, job.target, "write")
    imports.import_job_start(actor=request.user, job=job)
    return Status(202, get_object_or_404(ImportJob, pk=job.pk))


@router.get(
    "/{job_id}/rejections",
    response={200: RejectionPage, **ERRORS},
    summary="The rows an import could not take, with the reason",
    operation_id="imports_rejections",
)
def list_rejections(request, filters: Query[ImportFilters], job_id: RecordId):
    require_scope(request, "imports", "read")
    rejections = selectors.import_rejection_list(job=_job(request, job_id))
    results, next_cursor = cursor_page(
        rejections, order=("row_number", "id"), cursor=filters.cursor, limit=filters.limit
    )
    return {"results": results, "next": next_cursor}
