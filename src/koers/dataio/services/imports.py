"""Imports from upload to report: store, map, check (dry run), run in batches, resume.

Each batch of rows is written in one transaction together with the job's counters and
resume point, so a crash or a killed worker leaves whole batches only, and running the
job again continues after the last one without writing a row twice.
"""

import gc
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import override

from koers.core.models import User
from koers.core.services import check_can_edit_records
from koers.crm import normalise
from koers.dataio import cleaning, sources, targets
from koers.dataio.files import import_folder, job_path, job_source
from koers.dataio.models import ImportJob, ImportMapping, ImportRejection
from koers.dataio.writers import BatchOutcome, CleanRow

BATCH_ROWS = 5000
# NUL and the other C0 controls except tab and line breaks: no CRM value holds them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Files are read from disk as they are imported; larger ones belong on the command line.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
# A running job whose worker has written nothing for this long is taken over.
STALLED_AFTER = timedelta(minutes=2)
# Errors a dry run keeps to show; the counts cover every row.
PREVIEW_ERRORS = 50


def _check_may_import(actor: User) -> None:
    check_can_edit_records(actor)


@transaction.atomic
def import_job_create(
    *, actor: User, target: str, file_name: str, path: Path | None = None, upload=None
) -> ImportJob:
    """Keep an uploaded file (or a file on disk, for the command line) as a new import,
    with the columns mapped as its headers suggest or as a saved mapping says."""
    _check_may_import(actor)
    target_spec = targets.get(target)
    if target_spec is None:
        raise ValidationError({"target": _("Choose what to import.")})
    suffix = Path(file_name).suffix.lower()[:10]
    stored_as = f"{uuid.uuid4().hex}{suffix}"
    destination = import_folder() / stored_as
    if upload is not None:
        _store_upload(upload, destination)
    else:
        destination.symlink_to(Path(path).resolve())
    try:
        found = sources.source_inspect(destination, file_name=file_name)
    except ValidationError:
        destination.unlink(missing_ok=True)
        raise
    job = ImportJob.objects.create(
        created_by=actor,
        target=target,
        file_name=file_name[:255],
        stored_as=stored_as,
        encoding=found.encoding,
        delimiter=found.delimiter,
        headers=found.headers,
    )
    saved = mapping_find(actor=actor, target=target, headers=found.headers)
    if saved is not None:
        job.mapping = [saved.columns.get(cleaning.fold(header), "") for header in found.headers]
        job.match_on = saved.match_on
    else:
        job.mapping = target_spec.suggest(found.headers)
        job.match_on = next(
            (key for key in target_spec.match_keys if key in job.mapping and key != "name"), ""
        )
    job.save(update_fields=["mapping", "match_on"])
    return job


def _store_upload(upload: UploadedFile, destination: Path) -> None:
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            {"file": _("This file is larger than 200 MB; import it with `koers import`.")}
        )
    with destination.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)


def mapping_find(*, actor: User, target: str, headers: list[str]) -> ImportMapping | None:
    """The actor's saved mapping that knows every header of this file, if any."""
    folded = {cleaning.fold(header) for header in headers}
    for mapping in ImportMapping.objects.filter(owner=actor, target=target).order_by("-id"):
        if folded <= set(mapping.columns):
            return mapping
    return None


@transaction.atomic
def import_job_configure(
    *, actor: User, job: ImportJob, mapping: list[str], match_on: str, save_as: str = ""
) -> ImportJob:
    """Set which field each column fills and what existing records are matched on;
    optionally keep the mapping under a name for the next file."""
    _check_access(actor, job)
    if job.status not in (ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED):
        raise ValidationError(_("This import has already started."))
    target = targets.get(job.target)
    if len(mapping) != len(job.headers) or not all(
        name == "" or target.knows(name) for name in mapping
    ):
        raise ValidationError({"mapping": _("Choose a field for each column, or skip it.")})
    chosen = [name for name in mapping if name]
    twice = {name for name in chosen if chosen.count(name) > 1}
    errors = []
    if twice:
        labels = ", ".join(str(target.field(name).label) for name in sorted(twice))
        errors.append(_("Each field can take one column; chosen more than once: %s.") % labels)
    custom = [name for name in chosen if targets.custom_name(name) is not None]
    if len(custom) > normalise.MAX_CUSTOM_FIELDS:
        errors.append(
            _("At most %(count)d columns can go into custom fields (chosen: %(given)d).")
            % {"count": normalise.MAX_CUSTOM_FIELDS, "given": len(custom)}
        )
    missing = [
        target_field
        for target_field in target.fields
        if target_field.required and target_field.name not in chosen
    ]
    if missing:
        errors.append(
            _("Choose a column for: %s.") % ", ".join(str(field.label) for field in missing)
        )
    if target.needs_one_of and not set(target.needs_one_of) & set(chosen):
        errors.append(
            _("Choose a column for one of: %s.")
            % ", ".join(str(target.field(name).label) for name in target.needs_one_of)
        )
    if match_on and (match_on not in target.match_keys or match_on not in chosen):
        errors.append(_("Match on a field that has a column."))
    if errors:
        raise ValidationError({"mapping": errors})
    job.mapping, job.match_on = mapping, match_on
    job.status = ImportJob.Status.UPLOADED
    job.save(update_fields=["mapping", "match_on", "status"])
    if save_as.strip():
        ImportMapping.objects.update_or_create(
            owner=actor,
            target=job.target,
            name=save_as.strip()[:100],
            defaults={
                "columns": {
                    cleaning.fold(header): name
                    for header, name in zip(job.headers, mapping, strict=True)
                },
                "match_on": match_on,
            },
        )
    return job


def _check_access(actor: User, job: ImportJob) -> None:
    if job.created_by_id != actor.pk and not actor.is_admin:
        raise PermissionDenied(_("This is someone else's import."))


def import_job_check_queue(*, actor: User, job: ImportJob) -> None:
    """Start the dry run in the background: count what the import would do."""
    from koers.dataio import tasks

    _check_access(actor, job)
    checkable = ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED]
    ).update(status=ImportJob.Status.CHECKING, preview={}, processed_rows=0, failure="")
    if not checkable:
        raise ValidationError(_("This import has already started."))
    transaction.on_commit(lambda: tasks.import_job_check(job.pk))


def import_job_start(*, actor: User, job: ImportJob) -> None:
    """Queue the import itself, after the user saw the dry run."""
    from koers.dataio import tasks

    _check_access(actor, job)
    _check_may_import(job.created_by)
    started = ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportJob.Status.CHECKED, ImportJob.Status.FAILED]
    ).update(status=ImportJob.Status.QUEUED, failure="")
    if not started:
        raise ValidationError(_("Check the file before importing it."))
    transaction.on_commit(lambda: tasks.import_job_run(job.pk))


def _clean(
    target: targets.Target,
    columns: list[tuple[int, targets.Field]],
    row,
    custom_names: dict[str, str],
) -> tuple:
    """The row's values by field, and a reason when it cannot be imported."""
    if row.error:
        return None, row.error
    values: dict = {}
    errors = []
    failed: set[str] = set()
    cells = row.values
    count = len(cells)
    has_control = _CONTROL.search
    for index, field in columns:
        cell = cells[index] if index < count else ""
        if not cell:
            continue
        if has_control(cell):
            errors.append(
                _("%(field)s: this value holds control characters.")
                % {"field": capfirst(field.label)}
            )
            failed.add(field.name)
            continue
        try:
            values[field.name] = field.clean(cell, values)
        except ValidationError as error:
            errors.append(f"{capfirst(field.label)}: {' '.join(error.messages)}")
            failed.add(field.name)
    # The custom field columns go into one dict, as the record keeps them.
    if custom_names:
        custom = {
            name: values.pop(mapped) for mapped, name in custom_names.items() if mapped in values
        }
        if custom:
            values["custom_fields"] = custom
    for field in target.required_fields:
        if not values.get(field.name) and not errors:
            errors.append(_("%(field)s: this row has none.") % {"field": capfirst(field.label)})
    if (
        target.needs_one_of
        and not any(values.get(name) for name in target.needs_one_of)
        and not failed & set(target.needs_one_of)  # a name refused above is explained
    ):
        errors.append(
            _("This row has no %(fields)s.")
            % {"fields": _(" or ").join(str(target.field(n).label) for n in target.needs_one_of)}
        )
    return values, " ".join(errors)


def _batches(job: ImportJob, start: int) -> Iterator[list]:
    rows = sources.source_rows(job_path(job), job_source(job), start=start)
    while batch := list(islice(rows, BATCH_ROWS)):
        yield batch


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a batch is processed.

    A batch makes a few hundred thousand dicts and lists that live until it is written, and
    meanwhile the collector would walk every object of the process over and over (about a
    tenth of an import's time). Reference counting still frees what the batch drops; cycles
    wait for the collector's next round after it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _process(job: ImportJob, batch: list, *, write: bool, state: dict) -> BatchOutcome:
    with _cycle_collector_paused():
        return _process_batch(job, batch, write=write, state=state)


def _process_batch(job: ImportJob, batch: list, *, write: bool, state: dict) -> BatchOutcome:
    target = targets.get(job.target)
    order = {field.name: position for position, field in enumerate(target.fields)}
    columns = sorted(
        ((index, target.field(name)) for index, name in enumerate(job.mapping) if name),
        key=lambda column: order.get(column[1].name, len(order)),  # custom fields last
    )
    custom_names = {
        field.name: name
        for _index, field in columns
        if (name := targets.custom_name(field.name)) is not None
    }
    clean_rows, rejected = [], []
    for row in batch:
        values, error = _clean(target, columns, row, custom_names)
        if error:
            rejected.append((row.number, error, row.values))
        else:
            clean_rows.append(CleanRow(row.number, values))
    outcome = target.writer(job, job.created_by, clean_rows, write=write, state=state)
    raw = {row.number: row.values for row in batch}
    outcome.rejected = [(number, reason, values) for number, reason, values in rejected] + [
        (number, reason, raw[number]) for number, reason in outcome.rejected
    ]
    return outcome


def _language(job: ImportJob) -> str:
    """Reasons are written in the language of the person who imports."""
    return job.created_by.language or settings.LANGUAGE_CODE


def import_job_check(*, job_id: int) -> ImportJob:
    """Dry run: read every row, clean and match it, count, and write nothing."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    with override(_language(job)):
        return _check(job)


def _check(job: ImportJob) -> ImportJob:
    totals = {
        "create": 0,
        "update": 0,
        "skip": 0,
        "reject": 0,
        "companies": 0,
        "errors": [],
        "near": [],
    }
    state: dict = {}
    rows = 0
    try:
        for batch in _batches(job, 0):
            outcome = _process(job, batch, write=False, state=state)
            rows += len(batch)
            totals["create"] += outcome.created
            totals["update"] += outcome.updated
            totals["skip"] += outcome.skipped
            totals["reject"] += len(outcome.rejected)
            totals["companies"] += outcome.companies_created
            room = PREVIEW_ERRORS - len(totals["errors"])
            totals["errors"] += [[number, reason] for number, reason, _v in outcome.rejected][:room]
            room = PREVIEW_ERRORS - len(totals["near"])
            totals["near"] += [list(near) for near in outcome.near][:room]
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=rows)
    except Exception as error:
        # Back to be checked again: processed_rows is the run's resume point, never the
        # check's, so nothing of a half check can make a run skip rows.
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.UPLOADED, failure=str(error)[:2000], processed_rows=0
        )
        raise
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.CHECKED, preview=totals, total_rows=rows, processed_rows=0
    )
    job.refresh_from_db()
    return job


def _claim(job_id: int) -> bool:
    """Take the job for this worker: when queued, failed, or stalled by a lost worker."""
    now = timezone.now()
    return bool(
        ImportJob.objects.filter(
            Q(status__in=[ImportJob.Status.QUEUED, ImportJob.Status.FAILED])
            | Q(status=ImportJob.Status.RUNNING, heartbeat_at__lt=now - STALLED_AFTER),
            pk=job_id,
        ).update(
            status=ImportJob.Status.RUNNING,
            heartbeat_at=now,
            started_at=now,
            failure="",
        )
    )


def import_job_run(*, job_id: int, on_batch=None) -> ImportJob:
    """Import the rows not imported yet, batch by batch; safe to run again after a crash."""
    if not _claim(job_id):
        return ImportJob.objects.get(pk=job_id)
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    with override(_language(job)):
        return _run(job, on_batch)


def _run(job: ImportJob, on_batch) -> ImportJob:
    try:
        _check_may_import(job.created_by)
        done = job.processed_rows
        for batch in _batches(job, done):
            with transaction.atomic():
                # Another worker that took this job over (after a stalled heartbeat) has
                # moved it on: stop, rather than write these rows a second time.
                now_at = (
                    ImportJob.objects.select_for_update()
                    .values_list("processed_rows", flat=True)
                    .get(pk=job.pk)
                )
                if now_at != done:
                    return ImportJob.objects.get(pk=job.pk)
                outcome = _process(job, batch, write=True, state={})
                ImportRejection.objects.bulk_create(
                    ImportRejection(
                        job=job,
                        row_number=number,
                        reason=reason,
                        # PostgreSQL's JSON cannot hold NUL: the download shows � instead.
                        values=[_CONTROL.sub("\ufffd", value) for value in values],
                    )
                    for number, reason, values in outcome.rejected
                )
                ImportJob.objects.filter(pk=job.pk).update(
                    processed_rows=F("processed_rows") + len(batch),
                    created_count=F("created_count") + outcome.created,
                    updated_count=F("updated_count") + outcome.updated,
                    skipped_count=F("skipped_count") + outcome.skipped,
                    rejected_count=F("rejected_count") + len(outcome.rejected),
                    heartbeat_at=timezone.now(),
                )
            done += len(batch)
            if on_batch is not None:
                on_batch(ImportJob.objects.get(pk=job.pk))
    except Exception as error:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, failure=str(error)[:2000]
        )
        raise
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def import_jobs_resume_stalled() -> list[int]:
    """Queue again the imports whose worker stopped (killed, restarted) mid-run."""
    from koers.dataio import tasks

    stalled = list(
        ImportJob.objects.filter(
            status=ImportJob.Status.RUNNING, heartbeat_at__lt=timezone.now() - STALLED_AFTER
        ).values_list("pk", flat=True)
    )
    for job_id in stalled:
        tasks.import_job_run(job_id)
    return stalled


def import_job_delete(*, actor: User, job: ImportJob) -> None:
    """Remove an import that has not run, or its report, with its stored file."""
    _check_access(actor, job)
    if job.status in (ImportJob.Status.RUNNING, ImportJob.Status.QUEUED):
        raise ValidationError(_("An import cannot be removed while it runs."))
    job_path(job).unlink(missing_ok=True)
    job.delete()
