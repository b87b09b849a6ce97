"""The shared shape of a list page: rows now, the table alone for htmx, the count later."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from koers.core.paging import PAGE_SIZES, count_page, paginate


def is_list_refresh(request: HttpRequest) -> bool:
    # htmx asks for the table only; a boosted or full request gets the whole page.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == "record-list"
    )


def list_page(
    request: HttpRequest, rows, *, template: str, partial: str, context: dict
) -> HttpResponse:
    """Render one page of `rows`: the whole page, the table only (htmx), or the footer's count."""
    page_args = {"page": request.GET.get("page"), "per_page": request.GET.get("per_page")}
    if request.GET.get("count") == "1":
        # The list's footer asks for this right after the rows are on screen.
        page = count_page(rows, **page_args)
        return render(request, "partials/pagination.html", {"page": page, "page_sizes": PAGE_SIZES})
    context = {"page": paginate(rows, **page_args), "page_sizes": PAGE_SIZES, **context}
    return render(request, partial if is_list_refresh(request) else template, context)
