"""The import wizard: upload, map the columns, see the dry run, run, read the report."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from koers.core.services import check_can_edit_records
from koers.dataio import selectors, targets
from koers.dataio.exports import csv_line_writer, neutralise
from koers.dataio.forms import ImportUploadForm
from koers.dataio.models import ImportJob
from koers.dataio.services import imports

SAMPLE_ROWS = 3


def job_list(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        check_can_edit_records(request.user)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = imports.import_job_create(
                    actor=request.user,
                    target=form.cleaned_data["target"],
                    file_name=upload.name,
                    upload=upload,
                )
            except ValidationError as error:
                form.add_error("file", error.messages)
            else:
                return redirect("dataio:import-mapping", job.pk)
    return render(
        request,
        "dataio/import_list.html",
        {"form": form, "jobs": selectors.import_job_list_for_user(user=request.user)[:50]},
    )


def job_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.import_job_get_for_user(user=request.user, pk=pk)
    target = targets.get(job.target)
    errors = []
    if request.method == "POST":
        mapping = [request.POST.get(f"column-{index}", "") for index in range(len(job.headers))]
        try:
            imports.import_job_configure(
                actor=request.user,
                job=job,
                mapping=mapping,
                match_on=request.POST.get("match_on", ""),
                save_as=request.POST.get("save_as", "")[:100],
            )
        except ValidationError as error:
            errors = error.messages
            job.mapping = mapping
        else:
            imports.import_job_check_queue(actor=request.user, job=job)
            return redirect("dataio:import-detail", job.pk)
    samples = selectors.import_job_sample_rows(job=job, count=SAMPLE_ROWS)
    columns = []
    for index, header in enumerate(job.headers):
        field = job.mapping[index] if index < len(job.mapping) else ""
        columns.append(
            {
                "index": index,
                "header": header,
                "field": field,
                "samples": [row.values[index] for row in samples if index < len(row.values)],
                "custom_fields": _custom_choices(target, header, field),
            }
        )
    return render(
        request,
        "dataio/import_mapping.html",
        {
            "job": job,
            "target": target,
            "columns": columns,
            "match_keys": [target.field(key) for key in target.match_keys],
            "errors": errors,
        },
    )


def _custom_choices(target: targets.Target, header: str, field: str) -> list[tuple[str, str]]:
    """The custom fields a column can go into: one named as its header, and the one a saved
    mapping chose, as (mapping value, name)."""
    offered = [target.custom_choice(header)]
    if targets.custom_name(field) is not None and target.knows(field):
        offered.append(field)
    return [(name, targets.custom_name(name)) for name in dict.fromkeys(offered) if name]


def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.import_job_get_for_user(user=request.user, pk=pk)
    context = {"job": job, "target": targets.get(job.target), "statuses": ImportJob.Status}
    if request.headers.get("HX-Request") == "true":
        return render(request, "dataio/partials/import_status.html", context)
    return render(request, "dataio/import_detail.html", context)


@require_POST
def job_start(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.import_job_get_for_user(user=request.user, pk=pk)
    try:
        imports.import_job_start(actor=request.user, job=job)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("dataio:import-detail", job.pk)


@require_POST
def job_delete(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.import_job_get_for_user(user=request.user, pk=pk)
    try:
        imports.import_job_delete(actor=request.user, job=job)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("dataio:import-detail", job.pk)
    messages.success(request, _("The import %(file)s has been removed.") % {"file": job.file_name})
    return redirect("dataio:import-list")


def job_rejections(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The rejected rows as CSV: the file's own columns plus the reason, to fix and import."""
    job = selectors.import_job_get_for_user(user=request.user, pk=pk)
    writer = csv_line_writer()

    # Translated now: the rows are written after the view returned, outside the user's language.
    header = [_("Row"), *map(neutralise, job.headers), _("Reason")]

    def rows():
        yield "\ufeff" + writer.writerow(header)
        for rejection in selectors.import_rejection_list(job=job).iterator(chunk_size=2000):
            cells = [neutralise(value) for value in rejection.values]
            yield writer.writerow([rejection.row_number, *cells, rejection.reason])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    name = job.file_name.rsplit(".", 1)[0]
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{name}-rejected.csv"
    )
    return response
