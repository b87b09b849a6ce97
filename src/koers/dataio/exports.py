"""Exports of the lists people see, to CSV and XLSX.

An export reads the querystring with the list page's own filter form and the rows through
the list's guarded selector, so it holds exactly what the list shows, all pages of it, and
never a record the user may not see.

Every text cell is neutralised against formula injection (OWASP "CSV injection"): a
spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return
before one) as a formula, and a company named `=HYPERLINK(…)` must stay a name.
"""

import csv
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import IO, Any

from django import forms
from django.db.models import Model, QuerySet
from django.http import Http404, QueryDict
from django.template.defaultfilters import yesno
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from koers.core.models import User
from koers.crm.forms import CompanyFilterForm, ContactFilterForm
from koers.crm.models import Company, Contact
from koers.crm.selectors import company_list_for_user, contact_list_for_user
from koers.pipeline.forms import DealFilterForm
from koers.pipeline.models import Deal
from koers.pipeline.selectors import deal_list_for_user

FORMATS = ("csv", "xlsx")
CSV_MAX_ROWS = 1_000_000
# A sheet holds 1,048,576 rows; one of them is the header.
XLSX_MAX_ROWS = 1_048_575
CHUNK_SIZE = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class Column:
    header: Any  # a lazy translation, resolved in the language of the export
    value: Callable[[Any], Any]
    number_format: str | None = None


@dataclass(frozen=True)
class ExportableList:
    name: str
    model: type[Model]
    filter_form: type[forms.Form]
    select: Callable[..., QuerySet]
    columns: tuple[Column, ...]
    # Related records the columns read besides those the selector already joins.
    related: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return capfirst(self.model._meta.verbose_name_plural)

    def rows_for(self, *, user: User, query: QueryDict) -> QuerySet:
        """Return the rows of the list as the user sees it with these filters, all pages."""
        filters = self.filter_form(query).filters()
        rows = self.select(user=user, **filters)
        return rows.select_related(*self.related) if self.related else rows


def _field(model: type[Model], name: str, **options) -> Column:
    return Column(
        header=model._meta.get_field(name).verbose_name,
        value=lambda record: getattr(record, name),
        **options,
    )


def _label(model: type[Model], name: str) -> Column:
    """The display label of a choice, in the user's language, rather than its stored key."""
    field = model._meta.get_field(name)
    # Resolved once per language: get_FOO_display() translates every choice on every call,
    # which took most of an export's time.
    labels_by_language: dict[str, dict] = {}

    def value(record):
        language = translation.get_language()
        labels = labels_by_language.get(language)
        if labels is None:
            labels = {key: str(label) for key, label in field.flatchoices}
            labels_by_language[language] = labels
        key = getattr(record, name)
        return labels.get(key, key)

    return Column(header=field.verbose_name, value=value)


def _name_of(model: type[Model], name: str) -> Column:
    """The name of a linked record (owner, company), empty when there is none."""

    def value(record):
        linked = getattr(record, name)
        return str(linked) if linked is not None else ""

    return Column(header=model._meta.get_field(name).verbose_name, value=value)


ID = Column(header=gettext_lazy("ID"), value=lambda record: record.pk)


COMPANIES = ExportableList(
    name="companies",
    model=Company,
    filter_form=CompanyFilterForm,
    select=company_list_for_user,
    related=("parent",),
    columns=(
        ID,
        _field(Company, "name"),
        _label(Company, "legal_form"),
        _field(Company, "domain"),
        _field(Company, "kvk_number"),
        _field(Company, "establishment_number"),
        _field(Company, "vat_number"),
        _label(Company, "industry"),
        _label(Company, "employee_band"),
        _label(Company, "revenue_band"),
        _field(Company, "phone"),
        _field(Company, "street"),
        _field(Company, "postcode"),
        _field(Company, "city"),
        Column(
            header=Company._meta.get_field("country").verbose_name,
            value=lambda company: company.country.code or "",
        ),
        _name_of(Company, "parent"),
        _label(Company, "lifecycle_stage"),
        _name_of(Company, "owner"),
        # As one cell, comma-separated: the way an import reads it back.
        Column(
            header=Company._meta.get_field("technologies").verbose_name,
            value=lambda company: ", ".join(company.technologies),
        ),
        _field(Company, "customer_until"),
        _field(Company, "external_id"),
        _field(Company, "created_at"),
        _field(Company, "updated_at"),
    ),
)

CONTACTS = ExportableList(
    name="contacts",
    model=Contact,
    filter_form=ContactFilterForm,
    select=contact_list_for_user,
    columns=(
        ID,
        _field(Contact, "first_name"),
        _field(Contact, "name_prefix"),
        _field(Contact, "last_name"),
        _field(Contact, "email"),
        _field(Contact, "phone"),
        _field(Contact, "mobile"),
        _field(Contact, "job_title"),
        _label(Contact, "function"),
        _label(Contact, "dmu_role"),
        _name_of(Contact, "company"),
        _label(Contact, "lifecycle_stage"),
        _label(Contact, "lead_source"),
        _name_of(Contact, "owner"),
        _field(Contact, "do_not_call"),
        _field(Contact, "call_back_on"),
        _field(Contact, "linkedin_url"),
        _field(Contact, "external_id"),
        _field(Contact, "created_at"),
        _field(Contact, "updated_at"),
    ),
)

DEALS = ExportableList(
    name="deals",
    model=Deal,
    filter_form=DealFilterForm,
    select=deal_list_for_user,
    related=("pipeline",),
    columns=(
        ID,
        _field(Deal, "name"),
        _name_of(Deal, "pipeline"),
        _name_of(Deal, "stage"),
        _label(Deal, "status"),
        _name_of(Deal, "company"),
        _field(Deal, "amount_one_off", number_format=MONEY_FORMAT),
        _field(Deal, "amount_recurring", number_format=MONEY_FORMAT),
        _field(Deal, "value", number_format=MONEY_FORMAT),
        _field(Deal, "currency"),
        _field(Deal, "expected_close_on"),
        _field(Deal, "probability"),
        _name_of(Deal, "owner"),
        _label(Deal, "source"),
        _label(Deal, "lost_reason"),
        _field(Deal, "won_at"),
        _field(Deal, "lost_at"),
        _field(Deal, "created_at"),
        _field(Deal, "updated_at"),
    ),
)

# Activities have no list page with filters yet; they join when one exists.
EXPORTABLE_LISTS = {exportable.name: exportable for exportable in (COMPANIES, CONTACTS, DEALS)}


def exportable_list_get(*, name: str) -> ExportableList:
    """Return the list called `name`, or raise Http404."""
    try:
        return EXPORTABLE_LISTS[name]
    except KeyError:
        raise Http404(f"No list {name!r} to export") from None


def neutralise(text: str) -> str:
    """Prefix a text that a spreadsheet would run as a formula with an apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(microsecond=0)


def _header(column: Column) -> str:
    return neutralise(capfirst(str(column.header)))


def _truncated_notice(max_rows: int) -> str:
    return _("Only the first %(count)s rows were exported; filter the list to export the rest.") % {
        "count": number_format(max_rows, force_grouping=True)
    }


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return yesno(value)
    if isinstance(value, datetime):
        return _local(value).isoformat()
    if isinstance(value, date | int | Decimal):
        return str(value)
    return neutralise(str(value))


class _Line:
    """A file-like object that hands back what the csv writer writes, to stream it."""

    def write(self, text: str) -> str:
        return text


def csv_line_writer():
    """A csv writer whose writerow() returns the line, for a streamed response."""
    return csv.writer(_Line(), lineterminator="\r\n")


def csv_lines(
    *, exportable: ExportableList, rows: QuerySet, language: str, max_rows: int = CSV_MAX_ROWS
) -> Iterator[str]:
    """Yield the rows as UTF-8 CSV text: a byte order mark (so Excel reads UTF-8), the
    header, then the rows in batches.

    The response is streamed after the view returned, outside the request's language, so
    each batch is written in `language`.
    """
    writer = csv_line_writer()
    yield "\ufeff"
    with translation.override(language):
        yield writer.writerow([_header(column) for column in exportable.columns])
    records = rows[: max_rows + 1].iterator(chunk_size=CHUNK_SIZE)
    written = 0
    while written < max_rows:
        with translation.override(language):
            batch = [
                writer.writerow([_csv_text(column.value(record)) for column in exportable.columns])
                for record in islice(records, min(CHUNK_SIZE, max_rows - written))
            ]
        if not batch:
            return
        written += len(batch)
        yield "".join(batch)
    if next(records, None) is not None:
        with translation.override(language):
            yield writer.writerow([_truncated_notice(max_rows)])


def _xlsx_text(sheet, text: str) -> Any:
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if not text.startswith(FORMULA_STARTS):
        return text or None
    # A string cell, never a formula (openpyxl takes "=…" for one), marked as text the way
    # Excel marks a typed leading apostrophe: the value stays as it was, and editing the
    # cell in Excel does not turn it into a formula.
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def _xlsx_value(sheet, column: Column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return _xlsx_text(sheet, value)
    if isinstance(value, datetime):
        # Excel has no time zones: the time as the user reads it in the app.
        value = _local(value).replace(tzinfo=None)
    if column.number_format and not isinstance(value, bool):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = column.number_format
        return cell
    return value


def xlsx_file(
    *, exportable: ExportableList, rows: QuerySet, max_rows: int = XLSX_MAX_ROWS
) -> IO[bytes]:
    """Return a temporary file, at its start, holding the rows as one XLSX sheet with typed
    cells (numbers, dates, yes/no) and a bold header.

    The workbook is written in openpyxl's write-only mode, which keeps only the current row
    in memory; the caller closes the file, which deletes it.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=exportable.title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in exportable.columns:
        cell = WriteOnlyCell(sheet, value=_header(column))
        cell.data_type = "s"
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    records = rows[: max_rows + 1].iterator(chunk_size=CHUNK_SIZE)
    for written, record in enumerate(records):
        if written == max_rows:
            sheet.append([_truncated_notice(max_rows)])
            break
        sheet.append(
            [_xlsx_value(sheet, column, column.value(record)) for column in exportable.columns]
        )
    file = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    try:
        workbook.save(file)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return file
