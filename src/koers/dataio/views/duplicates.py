"""Pages to review likely duplicates, merge a pair field by field, and undo a merge."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from koers.core.listing import is_list_refresh
from koers.core.paging import PAGE_SIZES, ListPage, page_number, page_size
from koers.core.services import check_can_edit_records
from koers.crm.models import Company, Contact
from koers.crm.selectors import company_get_for_user, contact_get_for_user
from koers.crm.services import COMPANY_FIELDS, CONTACT_FIELDS, record_value_text
from koers.dataio import selectors
from koers.dataio.models import Merge
from koers.dataio.services.merges import (
    COMBINED,
    company_merge,
    contact_merge,
    fits_combined,
    merge_undo,
)

FIRST, SECOND = "first", "second"
# Per kind: how one record is loaded for the user, the fields a person picks, and the merge.
KINDS = {
    Merge.Kind.CONTACT: (contact_get_for_user, CONTACT_FIELDS, contact_merge),
    Merge.Kind.COMPANY: (company_get_for_user, COMPANY_FIELDS, company_merge),
}


@dataclass(frozen=True)
class FieldChoice:
    """One field of the pair page: both values, and which one is picked."""

    name: str
    label: str
    first: str
    second: str
    differs: bool
    picked: str
    note: str = ""
    # A combined field (technologies, custom fields) with more values in both records than
    # one may keep: the picked record's are sent whichever it is, or the merge combines them.
    is_one_sided: bool = False


def _kind(value: str) -> str:
    if value not in KINDS:
        raise Http404(f"No duplicates of {value!r}")
    return value


def duplicate_list(request: HttpRequest) -> HttpResponse:
    """The likely duplicates of one kind the user can see, likeliest first, a page at a time."""
    kind = request.GET.get("kind", Merge.Kind.CONTACT)
    if kind not in KINDS:
        kind = Merge.Kind.CONTACT
    per_page = page_size(request.GET.get("per_page"))
    number = page_number(request.GET.get("page"))
    total = len(selectors.duplicate_candidates_for_user(user=request.user, kind=kind))
    number = min(number, max(1, -(-total // per_page)))
    pairs = selectors.duplicate_pairs_for_user(
        user=request.user, kind=kind, limit=per_page, offset=(number - 1) * per_page
    )
    page = ListPage(
        rows=pairs,
        number=number,
        per_page=per_page,
        has_next=number * per_page < total,
        total=total,
    )
    context = {"kind": kind, "kinds": Merge.Kind.choices, "page": page, "page_sizes": PAGE_SIZES}
    template = "dataio/partials/duplicate_table.html" if is_list_refresh(request) else None
    return render(request, template or "dataio/duplicate_list.html", context)


def _shown(record: Company | Contact, name: str) -> str:
    """A field's value as people read it."""
    field = record._meta.get_field(name)
    value = getattr(record, name)
    if value is None or value == "":
        return ""
    if field.choices:
        return str(getattr(record, f"get_{name}_display")())
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, date | datetime):
        return formats.date_format(value)
    return record_value_text(value)


def _raw(record: Company | Contact, name: str) -> Any:
    value = record._meta.get_field(name).value_from_object(record)
    if isinstance(value, list | dict):
        return record_value_text(value)
    return str(value) if value is not None else ""


def _choices(
    first: Company | Contact, second: Company | Contact, fields: list[str], picked: dict
) -> list[FieldChoice]:
    """The fields side by side; by default the filled-in value, and where both are filled
    in, the one of the record changed last."""
    newer = SECOND if second.updated_at > first.updated_at else FIRST
    rows = []
    for name in fields:
        a, b = _raw(first, name), _raw(second, name)
        default = newer if a and b else (SECOND if b and not a else FIRST)
        note, differs, is_one_sided = "", a != b, False
        if name == "do_not_call" and (first.do_not_call or second.do_not_call):
            note, differs = _("Someone who objected to calls stays that way after merging."), False
        elif name in COMBINED and a and b and a != b:
            if fits_combined(name, getattr(first, name), getattr(second, name)):
                note, differs = _("Both records' values are kept."), False
            else:
                is_one_sided = True
                note = _(
                    "Together these hold more than %(count)d, the most one record may have: "
                    "choose one record's."
                ) % {"count": COMBINED[name][1]}
        rows.append(
            FieldChoice(
                name=name,
                label=str(first._meta.get_field(name).verbose_name),
                first=_shown(first, name),
                second=_shown(second, name),
                differs=differs,
                is_one_sided=is_one_sided,
                picked=picked.get(name) if picked.get(name) in (FIRST, SECOND) else default,
                note=note,
            )
        )
    return rows


def duplicate_pair(request: HttpRequest, kind: str, first: int, second: int) -> HttpResponse:
    """Both records side by side; merging them (POST) keeps the picked value of each field."""
    get_for_user, fields, merge = KINDS[_kind(kind)]
    if first == second:
        raise Http404("A record is not its own duplicate")
    # The older record on the left, whatever order the link gave.
    records = [get_for_user(user=request.user, pk=pk) for pk in sorted((first, second))]
    picked: dict[str, str] = {}
    survivor_id = records[0].pk
    if request.method == "POST":
        check_can_edit_records(request.user)
        picked = request.POST.dict()
        if request.POST.get("survivor") == str(records[1].pk):
            survivor_id = records[1].pk
    choices = _choices(records[0], records[1], fields, picked)
    if request.method == "POST":
        survivor, merged = records if survivor_id == records[0].pk else records[::-1]
        taken_from = {FIRST: records[0], SECOND: records[1]}
        values = {
            choice.name: getattr(taken_from[choice.picked], choice.name)
            for choice in choices
            if choice.differs and (taken_from[choice.picked] is merged or choice.is_one_sided)
        }
        try:
            done = merge(actor=request.user, survivor=survivor, merged=merged, values=values)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("%(merged)s and %(survivor)s are now one record.")
                % {"merged": merged, "survivor": survivor},
                extra_tags="undo:" + reverse("dataio:merge-undo", args=[done.pk]),
            )
            return redirect(survivor.get_absolute_url())
    score = selectors.duplicate_score(first=records[0], second=records[1])
    return render(
        request,
        "dataio/duplicate_pair.html",
        {
            "kind": kind,
            "records": [
                {
                    "record": record,
                    "side": side,
                    "related": selectors.merge_related_counts(record=record),
                }
                for record, side in zip(records, (FIRST, SECOND), strict=True)
            ],
            "survivor_id": survivor_id,
            "choices": choices,
            "score": score.score,
            "reasons": score.reason_labels,
        },
    )


def _back_to(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """To the record's page, or to the list when the user no longer sees it there."""
    get_for_user = KINDS[kind][0]
    try:
        record = get_for_user(user=request.user, pk=pk)
    except Http404:
        return redirect(f"{reverse('dataio:duplicate-list')}?kind={kind}")
    return redirect(record.get_absolute_url())


@require_POST
def merge_undo_view(request: HttpRequest, pk: int) -> HttpResponse:
    merge = selectors.merge_get_for_user(user=request.user, pk=pk)
    try:
        merge_undo(actor=request.user, merge=merge)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return _back_to(request, merge.kind, merge.survivor_id)
    messages.success(request, _("The merge has been undone: there are two records again."))
    return _back_to(request, merge.kind, merge.merged_id)
