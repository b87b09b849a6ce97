import logging

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.views.decorators.http import require_safe

from koers.dataio import exports

logger = logging.getLogger(__name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_safe
def export(request: HttpRequest, list_name: str, file_format: str) -> HttpResponse:
    """Download a list as the user sees it, with the list page's querystring, all pages."""
    exportable = exports.exportable_list_get(name=list_name)
    if file_format not in exports.FORMATS:
        raise Http404(f"No export format {file_format!r}")
    rows = exportable.rows_for(user=request.user, query=request.GET)
    filename = f"{exportable.name}-{timezone.localdate().isoformat()}.{file_format}"
    # Who took which records out of the CRM, for the operator's logs.
    logger.info(
        "export list=%s format=%s user=%s query=%s",
        exportable.name,
        file_format,
        request.user.pk,
        request.GET.urlencode(),
    )
    if file_format == "csv":
        response = StreamingHttpResponse(
            exports.csv_lines(
                exportable=exportable,
                rows=rows,
                language=translation.get_language(),
                max_rows=exports.CSV_MAX_ROWS,
            ),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        response = FileResponse(
            exports.xlsx_file(exportable=exportable, rows=rows, max_rows=exports.XLSX_MAX_ROWS),
            as_attachment=True,
            filename=filename,
            content_type=XLSX_TYPE,
        )
    # Personal data: not for shared caches, and not kept in the browser's.
    response["Cache-Control"] = "private, no-store"
    return response
