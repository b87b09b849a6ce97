"""Read an uploaded import file — CSV in any delimiter and encoding, or XLSX — row by row.

Nothing here trusts the file: a wrong encoding, ragged rows, an endless line or an
unclosed quote becomes a per-row error or a clear ValidationError, never a crash, and a
file is streamed, never read into memory whole.
"""

import codecs
import csv
import io
import math
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import load_workbook

MAX_COLUMNS = 200
MAX_VALUE_LENGTH = 10_000  # characters in one cell
MAX_LINE_BYTES = 1_000_000  # a physical CSV line longer than this is a row error, never read whole

CSV = "csv"
XLSX = "xlsx"
# In order of preference: when two explain a file equally well, the one rarer in running
# text wins.
DELIMITERS = ("\t", ";", "|", ",")
_SAMPLE_BYTES = 1_000_000
_SNIFF_RECORDS = 50
_CHUNK_CHARS = 1 << 18  # below MAX_LINE_BYTES: only a line carried over chunks can be too long
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls, and any password-protected Office file
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f\ufffd]")
_LINE_END = re.compile(r"\r\n?|\n")
# Stands in for a line that was too long: a blank line, or a line break inside a quoted value.
_OVERSIZED_LINE = "\n"
# Ends every CSV stream. At a record start it reads as a blank row (str.strip removes
# \x1f); inside a quote left open it ends the last value, which is how that is noticed.
_END_LINE = "\x1f\n"
_UTF8_FALLBACK = "koers-cp1252"


def _decode_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    """A byte that is not UTF-8 in a file that mostly is: most likely Windows-1252."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error(_UTF8_FALLBACK, _decode_as_cp1252)


@dataclass(frozen=True)
class SourceFormat:
    kind: str  # "csv" or "xlsx"
    encoding: str  # "utf-8", "utf-8-sig", "utf-16", "cp1252", …; "" for xlsx
    delimiter: str  # ",", ";", "\t" or "|"; "" for xlsx
    headers: list[str]


@dataclass(frozen=True)
class SourceRow:
    number: int  # as a spreadsheet shows it: the header is row 1
    values: list[str]
    error: str  # "" when the row can be read


def source_inspect(path: Path, *, file_name: str) -> SourceFormat:
    """Find the file's format, encoding, delimiter and headers, or say why it cannot be read."""
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
        complete = len(head) < _SAMPLE_BYTES or not handle.read(1)
    if not head:
        raise ValidationError(_("This file is empty."), code="empty")
    if head.startswith(_OLE_MAGIC):
        raise ValidationError(
            _(
                "This looks like an old (.xls) or password-protected Excel file. Save it as "
                ".xlsx without a password, or as CSV, and try again."
            ),
            code="old_excel",
        )
    is_excel_name = Path(file_name).suffix.lower() in _EXCEL_SUFFIXES
    if head.startswith(_ZIP_MAGIC) or is_excel_name:
        source = SourceFormat(kind=XLSX, encoding="", delimiter="", headers=[])
    else:
        source = _csv_format(head, complete=complete)
    records = _records(path, source)
    try:
        header = next(records, None)
    except ValidationError:
        # A zip that openpyxl cannot read and that was not called a workbook: a .docx,
        # .ods, or a zipped CSV.
        if not is_excel_name:
            raise _not_tabular() from None
        raise
    finally:
        records.close()
    if header is None:
        raise ValidationError(
            _("This file has no header row. Put the column names in the first row."),
            code="no_header",
        )
    _row_number, cells, error = header
    if error:
        raise ValidationError(
            _("The first row of this file cannot be read. %(reason)s") % {"reason": error},
            code="unreadable_header",
        )
    while not cells[-1]:
        cells.pop()
    if len(cells) > MAX_COLUMNS:
        raise ValidationError(
            _("This file has %(count)s columns; at most %(limit)s can be imported.")
            % {"count": _number(len(cells)), "limit": _number(MAX_COLUMNS)},
            code="too_many_columns",
        )
    headers = [
        cell or _("Column %(number)s") % {"number": position}
        for position, cell in enumerate(cells, start=1)
    ]
    return SourceFormat(
        kind=source.kind, encoding=source.encoding, delimiter=source.delimiter, headers=headers
    )


def source_rows(path: Path, source: SourceFormat, *, start: int = 0) -> Iterator[SourceRow]:
    """Yield the data rows after the header in file order, skipping blank rows and then the
    first `start` rows (so `start` counts rows this yields, for resuming)."""
    width = len(source.headers)
    # The first record is the header.
    for number, values, error in islice(_records(path, source), start + 1, None):
        if not error:
            count = len(values)
            if count < width:
                values += [""] * (width - count)
            elif count > width:
                if any(values[width:]):
                    while not values[-1]:
                        values.pop()
                    error = ngettext(
                        "This row has %(values)s values but the file has %(columns)s column.",
                        "This row has %(values)s values but the file has %(columns)s columns.",
                        width,
                    ) % {"values": _number(len(values)), "columns": _number(width)}
                else:
                    del values[width:]
        yield SourceRow(number, values, error)


def source_count_rows(path: Path, source: SourceFormat) -> int:
    """The number of rows source_rows yields, for a progress bar."""
    return max(sum(1 for _record in _records(path, source)) - 1, 0)


def _not_tabular() -> ValidationError:
    return ValidationError(
        _("This file is not a CSV or Excel (.xlsx) file. Save it as CSV or .xlsx and try again."),
        code="not_tabular",
    )


def _unreadable_excel() -> ValidationError:
    return ValidationError(
        _("This Excel file could not be opened. Save it again as .xlsx or as CSV and try again."),
        code="unreadable_excel",
    )


def _number(value: int) -> str:
    return number_format(value, force_grouping=True)


def _csv_format(head: bytes, *, complete: bool) -> SourceFormat:
    """The encoding and delimiter of a text file that starts with `head`."""
    if head.startswith(_BINARY_MAGIC):
        raise _not_tabular()
    encoding = _guess_encoding(head)
    decoder = codecs.getincrementaldecoder(encoding)(errors=_decode_errors(encoding))
    sample = decoder.decode(head, final=complete)
    if "\x00" in sample or len(_CONTROL.findall(sample)) > 2 + len(sample) // 100:
        raise _not_tabular()
    if not complete:
        sample = sample[: max(sample.rfind("\n"), sample.rfind("\r")) + 1] or sample
    return SourceFormat(kind=CSV, encoding=encoding, delimiter=_guess_delimiter(sample), headers=[])


def _guess_encoding(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        # UTF-16 without a byte order mark: every other byte of Latin text is zero.
        start = head[:4096]
        half = len(start) // 2
        even, odd = start[0::2].count(0), start[1::2].count(0)
        if odd > half * 0.3 and even < half * 0.05:
            return "utf-16-le"
        if even > half * 0.3 and odd < half * 0.05:
            return "utf-16-be"
        raise _not_tabular()
    try:
        # Incremental, so a character cut in two at the end of the sample is no error.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _decode_errors(encoding: str) -> str:
    return _UTF8_FALLBACK if encoding.startswith("utf-8") else "replace"


def _guess_delimiter(sample: str) -> str:
    """The delimiter that splits the header into most columns that the rows below agree on."""
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        counts = []
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    counts.append(len(row))
                    if len(counts) == _SNIFF_RECORDS:
                        break
        except csv.Error:
            pass
        if not counts:
            continue
        header, rows = counts[0], counts[1:] or counts[:1]
        score = (sum(count == header for count in rows) / len(rows), header)
        if header > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def _records(path: Path, source: SourceFormat) -> Iterator[tuple[int, list[str], str]]:
    """Every non-blank record, the header first, as (row number, stripped values, error)."""
    if source.kind == XLSX:
        return _xlsx_records(path)
    return _csv_records(path, source.encoding, source.delimiter)


class _LineState:
    """What _line_batches tells the record loop, which does not see the lines themselves."""

    __slots__ = ("has_long_lines", "oversized")

    def __init__(self) -> None:
        self.oversized = 0  # lines skipped for length since the last record
        self.has_long_lines = False  # a line so far could hold a value that is too long


def _csv_records(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str], str]]:
    state = _LineState()
    strip = str.strip
    number = last_line = 0
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, errors=_decode_errors(encoding), newline="")
        lines = chain.from_iterable(_line_batches(text, state))
        reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True)
        while True:
            try:
                for row in reader:
                    number += 1
                    first, last_line = last_line + 1, reader.line_num
                    if state.oversized:
                        state.oversized = 0
                        yield number, [], _("This line is longer than 1 MB and was not read.")
                        continue
                    if last_line > first and row and row[-1].endswith(_END_LINE):
                        yield number, [], _unclosed_quote(first, last_line - 1)
                        return
                    if not row:
                        continue
                    values = list(map(strip, row))
                    if not any(values):
                        continue
                    # Only a long line or a quoted value over several lines can hold a
                    # value that is too long; most rows skip the check.
                    if (state.has_long_lines or last_line > first) and max(
                        map(len, values)
                    ) > MAX_VALUE_LENGTH:
                        yield number, _shorten(values), _value_too_long()
                        continue
                    yield number, values, ""
                return
            except csv.Error:
                # csv's field size limit: a quote left open, or a value beyond reason.
                # The reader starts afresh on the next line.
                number += 1
                state.oversized = 0
                first, last_line = last_line + 1, reader.line_num
                yield (
                    number,
                    [],
                    _(
                        "This row has a value of more than %(count)s characters, or a quote "
                        "that is not closed; lines %(first)d to %(last)d of the file were not "
                        "read."
                    )
                    % {"count": _number(csv.field_size_limit()), "first": first, "last": last_line},
                )


def _line_batches(text: io.TextIOWrapper, state: _LineState) -> Iterator[list[str]]:
    """The text's lines, a chunk's worth at a time. A line longer than MAX_LINE_BYTES is
    skipped in chunks, counted in `state.oversized`, and handed out as _OVERSIZED_LINE.

    Lines are measured in characters, which is bytes or fewer for every encoding but
    UTF-16/32. The count goes up only when the reader asks for the stand-in line, so the
    next record it returns is the one that held the long line.
    """
    carry = ""
    draining = skip_newline = False
    while chunk := text.read(_CHUNK_CHARS):
        if skip_newline:
            skip_newline = False
            chunk = chunk.removeprefix("\n")
        if draining:
            end = _LINE_END.search(chunk)
            if end is None:
                continue
            draining = False
            skip_newline = end.end() == len(chunk) and end.group() == "\r"
            chunk = chunk[end.end() :]
            if not chunk:
                continue
        lines = io.StringIO(carry + chunk, newline="").readlines()
        # A last line without its end, or with a \r that a \n may follow, waits for more.
        carry = "" if lines[-1].endswith("\n") else lines.pop()
        if lines and len(lines[0]) > MAX_LINE_BYTES:
            state.oversized += 1
            yield [_OVERSIZED_LINE]
            del lines[0]
        if lines:
            if not state.has_long_lines and max(map(len, lines)) > MAX_VALUE_LENGTH:
                state.has_long_lines = True
            yield lines
        if len(carry) > MAX_LINE_BYTES:
            # Skip the rest of the line; a line already ended by \r may still have its \n.
            skip_newline = carry.endswith("\r")
            carry, draining = "", not skip_newline
            state.oversized += 1
            yield [_OVERSIZED_LINE]
    if carry:
        state.has_long_lines = state.has_long_lines or len(carry) > MAX_VALUE_LENGTH
        yield [carry]
    yield [_END_LINE]


def _unclosed_quote(first: int, last: int) -> str:
    return _(
        "This row opens a quote that is never closed; lines %(first)d to %(last)d of the "
        "file were not read."
    ) % {"first": first, "last": last}


def _value_too_long() -> str:
    return _("A value is longer than %(count)s characters.") % {"count": _number(MAX_VALUE_LENGTH)}


def _shorten(values: list[str]) -> list[str]:
    """Values for an error report, without megabytes of one cell."""
    return [
        value[:MAX_VALUE_LENGTH] + "…" if len(value) > MAX_VALUE_LENGTH else value
        for value in values
    ]


# A workbook unpacks to many times its size, and openpyxl reads its shared strings whole:
# a few MB of zip could claim gigabytes. Real exports of a million rows stay well below.
MAX_XLSX_UNPACKED_BYTES = 1_500_000_000
MAX_XLSX_SHARED_STRINGS_BYTES = 300_000_000


def _check_unpacked_size(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # openpyxl says what is wrong with it
    unpacked = sum(member.file_size for member in members)
    shared = sum(m.file_size for m in members if m.filename.endswith("sharedStrings.xml"))
    if unpacked > MAX_XLSX_UNPACKED_BYTES or shared > MAX_XLSX_SHARED_STRINGS_BYTES:
        raise ValidationError(
            _("This Excel file unpacks to more than Koers reads. Save it as CSV and try again."),
            code="too_large",
        )


def _xlsx_records(path: Path) -> Iterator[tuple[int, list[str], str]]:
    _check_unpacked_size(path)
    # A file object, not a path: openpyxl refuses a path without an Excel suffix.
    with path.open("rb") as handle:
        try:
            with warnings.catch_warnings():
                # openpyxl warns about styles and extensions it ignores; they do not matter.
                warnings.simplefilter("ignore")
                workbook = load_workbook(handle, read_only=True, data_only=True)
        except Exception as error:
            raise _unreadable_excel() from error
        try:
            if not workbook.worksheets:
                return
            sheet = workbook.worksheets[0]
            # Some programs write a wrong size; read the cells that are there instead.
            sheet.reset_dimensions()
            cells_by_row = enumerate(sheet.iter_rows(values_only=True), start=1)
            while True:
                try:
                    number, cells = next(cells_by_row)
                except StopIteration:
                    return
                except Exception as error:
                    # Broken XML inside the workbook shows only once it is read.
                    raise _unreadable_excel() from error
                values = [_cell_text(cell) for cell in cells]
                while values and not values[-1]:
                    values.pop()
                if not values:
                    continue
                if max(map(len, values)) > MAX_VALUE_LENGTH:
                    yield number, _shorten(values), _value_too_long()
                else:
                    yield number, values, ""
        finally:
            workbook.close()


def _cell_text(value: object) -> str:
    """A cell as the text a CSV export would hold: 12345678, not 12345678.0; dates in ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        if value.is_integer():
            return str(int(value))
        text = repr(value)
        return format(Decimal(text), "f") if "e" in text else text
    if isinstance(value, datetime):
        if value.time() == time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()
