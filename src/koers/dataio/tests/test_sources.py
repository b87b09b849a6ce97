"""Reading import files: encodings, delimiters, ragged and garbage input, XLSX, streaming."""

import time
import tracemalloc
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from openpyxl import Workbook

from koers.dataio import sources
from koers.dataio.sources import SourceFormat, SourceRow


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _write(tmp_path: Path, content: bytes, name: str = "import.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _read(path: Path, **kwargs) -> tuple[SourceFormat, list[SourceRow]]:
    source = sources.source_inspect(path, file_name=path.name)
    return source, list(sources.source_rows(path, source, **kwargs))


def _refusal(path: Path) -> str:
    with pytest.raises(ValidationError) as refused:
        sources.source_inspect(path, file_name=path.name)
    return refused.value.messages[0]


def test_source_inspect_reads_windows_1252_as_cp1252(tmp_path):
    path = _write(tmp_path, "Naam,Plaats\r\nCafé De Zwaan,’s-Hertogenbosch\r\n".encode("cp1252"))

    source, rows = _read(path)

    assert (source.kind, source.encoding, source.delimiter) == ("csv", "cp1252", ",")
    assert rows == [SourceRow(2, ["Café De Zwaan", "’s-Hertogenbosch"], "")]


def test_source_inspect_drops_the_utf8_byte_order_mark(tmp_path):
    path = _write(tmp_path, "\ufeffNaam,E-mail\nCafé,info@cafe.nl\n".encode())

    source, rows = _read(path)

    assert source.encoding == "utf-8-sig"
    assert source.headers == ["Naam", "E-mail"]
    assert rows[0].values == ["Café", "info@cafe.nl"]


def test_source_inspect_reads_excel_unicode_text(tmp_path):
    text = "Bedrijfsnaam\tPlaats\r\nJansen, Piet B.V.\tZürich\r\n"
    path = _write(tmp_path, text.encode("utf-16"), name="export.txt")

    source, rows = _read(path)

    assert (source.encoding, source.delimiter) == ("utf-16", "\t")
    assert rows == [SourceRow(2, ["Jansen, Piet B.V.", "Zürich"], "")]


def test_source_inspect_reads_utf16_without_byte_order_mark(tmp_path):
    path = _write(tmp_path, "Naam;Plaats\r\nCafé;Delft\r\n".encode("utf-16-le"))

    source, rows = _read(path)

    assert (source.encoding, source.delimiter) == ("utf-16-le", ";")
    assert rows[0].values == ["Café", "Delft"]


def test_source_inspect_finds_semicolons_in_a_dutch_file_with_commas_in_values(tmp_path):
    path = _write(
        tmp_path,
        b"Bedrijfsnaam;KvK-nummer;Plaats\n"
        b"Bakker, Jansen & Zn. B.V.;12345678;Den Haag\n"
        b"De Vries, Installatie;87654321;Utrecht\n",
    )

    source, rows = _read(path)

    assert source.delimiter == ";"
    assert source.headers == ["Bedrijfsnaam", "KvK-nummer", "Plaats"]
    assert [row.values for row in rows] == [
        ["Bakker, Jansen & Zn. B.V.", "12345678", "Den Haag"],
        ["De Vries, Installatie", "87654321", "Utrecht"],
    ]


@pytest.mark.parametrize("delimiter", ["\t", "|", ",", ";"])
def test_source_inspect_finds_each_delimiter(tmp_path, delimiter):
    lines = [["Naam", "Plaats", "Telefoon"], ["Acme", "Delft", "015 123"], ["Beta", "Ede", ""]]
    path = _write(tmp_path, "".join(delimiter.join(line) + "\n" for line in lines).encode())

    source, rows = _read(path)

    assert source.delimiter == delimiter
    assert [row.values for row in rows] == lines[1:]


def test_source_inspect_defaults_to_comma_for_one_column(tmp_path):
    path = _write(tmp_path, b"E-mail\ninfo@acme.nl\n")

    source, rows = _read(path)

    assert (source.delimiter, source.headers) == (",", ["E-mail"])
    assert rows == [SourceRow(2, ["info@acme.nl"], "")]


def test_source_rows_keeps_newlines_and_delimiters_inside_quotes(tmp_path):
    path = _write(
        tmp_path,
        b'Naam,Notitie,Plaats\r\n"Acme, B.V.","Eerste regel\r\nTweede; regel",Delft\r\nBeta,,Ede\r\n',
    )

    source, rows = _read(path)

    assert source.delimiter == ","
    assert rows == [
        SourceRow(2, ["Acme, B.V.", "Eerste regel\r\nTweede; regel", "Delft"], ""),
        SourceRow(3, ["Beta", "", "Ede"], ""),
    ]


def test_source_rows_pads_short_rows_and_refuses_long_ones(tmp_path):
    path = _write(
        tmp_path,
        b"a,b,c,d,e\n1,2\n1,2,3,4,5,6,7\n1,2,3,4,5,,,\n1,2,3,4,5,6,7,,\n",
    )

    _source, rows = _read(path)

    assert rows == [
        SourceRow(2, ["1", "2", "", "", ""], ""),
        SourceRow(
            3,
            ["1", "2", "3", "4", "5", "6", "7"],
            "This row has 7 values but the file has 5 columns.",
        ),
        SourceRow(4, ["1", "2", "3", "4", "5"], ""),
        SourceRow(
            5,
            ["1", "2", "3", "4", "5", "6", "7"],
            "This row has 7 values but the file has 5 columns.",
        ),
    ]


def test_source_rows_skips_blank_lines_but_numbers_rows_as_a_spreadsheet_does(tmp_path):
    path = _write(tmp_path, b"\n\nNaam,Plaats\n\nAcme,Delft\n , \n,,\nBeta,Ede")

    source, rows = _read(path)

    assert source.headers == ["Naam", "Plaats"]
    assert rows == [SourceRow(5, ["Acme", "Delft"], ""), SourceRow(8, ["Beta", "Ede"], "")]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_source_rows_reads_every_line_ending(tmp_path, newline):
    path = _write(tmp_path, newline.join([b"Naam,Plaats", b"Acme,Delft", b"Beta,Ede"]) + newline)

    _source, rows = _read(path)

    assert [row.values for row in rows] == [["Acme", "Delft"], ["Beta", "Ede"]]


def test_source_inspect_names_empty_headers_and_drops_trailing_ones(tmp_path):
    path = _write(tmp_path, b" Naam ,,Plaats,,\nAcme,x,Delft\n")

    source, rows = _read(path)

    assert source.headers == ["Naam", "Column 2", "Plaats"]
    assert rows[0].values == ["Acme", "x", "Delft"]


def test_source_rows_keeps_markup_and_formulas_as_text(tmp_path):
    path = _write(
        tmp_path,
        b"Naam,Website,Opmerking\n"
        b'<script>alert(1)</script>,"=HYPERLINK(""http://evil"",""x"")",<b>vet</b>\n'
        b"@SUM(1+1),+31 6 1234 5678,-2\n",
    )

    _source, rows = _read(path)

    assert [row.values for row in rows] == [
        ["<script>alert(1)</script>", '=HYPERLINK("http://evil","x")', "<b>vet</b>"],
        ["@SUM(1+1)", "+31 6 1234 5678", "-2"],
    ]


def test_source_rows_gives_dates_as_written(tmp_path):
    written = ["2024-03-05", "05-03-2024", "5/3/2024", "05.03.24", "5 maart 2024"]
    path = _write(tmp_path, ("Datum\n" + "".join(f'"{day}"\n' for day in written)).encode())

    _source, rows = _read(path)

    assert [row.values for row in rows] == [[day] for day in written]


def test_source_rows_reads_a_utf8_file_with_a_stray_cp1252_byte_after_the_sample(tmp_path):
    filler = b"".join(b"Acme %07d,Delft\n" % number for number in range(80_000))
    path = _write(tmp_path, b"Naam,Plaats\n" + filler + "Café,Zoë\n".encode("cp1252"))

    source, rows = _read(path, start=80_000)

    assert source.encoding == "utf-8"
    assert rows == [SourceRow(80_002, ["Café", "Zoë"], "")]


def test_source_inspect_keeps_utf8_when_the_sample_cuts_a_character_in_two(tmp_path):
    content = b"Naam\n" + (b"a" * 99 + b"\n") * 9_999 + b"a" * 94 + "é".encode() + b"\n"
    assert content[999_999:1_000_001] == "é".encode()  # across the one-megabyte sample
    path = _write(tmp_path, content)

    source, rows = _read(path, start=9_999)

    assert source.encoding == "utf-8"
    assert rows == [SourceRow(10_001, ["a" * 94 + "é"], "")]


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        b"Naam,Plaats\nAcme\x00\x00\x01,Delft\n",
        bytes(range(256)) * 40,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    ],
    ids=["pdf", "nul-bytes", "random-binary", "png"],
)
def test_source_inspect_refuses_binary_files(tmp_path, content):
    path = _write(tmp_path, content)

    assert _refusal(path) == (
        "This file is not a CSV or Excel (.xlsx) file. Save it as CSV or .xlsx and try again."
    )


def test_source_inspect_refuses_an_old_excel_file(tmp_path):
    path = _write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), name="export.xls")

    assert _refusal(path).startswith("This looks like an old (.xls) or password-protected")


def test_source_inspect_refuses_an_empty_file(tmp_path):
    assert _refusal(_write(tmp_path, b"")) == "This file is empty."


def test_source_inspect_refuses_a_file_of_blank_lines(tmp_path):
    path = _write(tmp_path, b"\r\n  \r\n,,,\r\n")

    assert _refusal(path) == "This file has no header row. Put the column names in the first row."


def test_source_inspect_refuses_too_many_columns(tmp_path):
    path = _write(tmp_path, ";".join(f"c{number}" for number in range(201)).encode() + b"\n")

    assert _refusal(path) == "This file has 201 columns; at most 200 can be imported."


def test_source_inspect_refuses_a_header_longer_than_a_megabyte(tmp_path):
    path = _write(tmp_path, b"a," * 600_000 + b"\n1,2\n")

    assert _refusal(path) == (
        "The first row of this file cannot be read. This line is longer than 1 MB and was not read."
    )


def test_source_inspect_refuses_a_broken_xlsx(tmp_path):
    path = _write(tmp_path, b"PK\x03\x04 not really a workbook", name="klanten.xlsx")

    assert _refusal(path) == (
        "This Excel file could not be opened. Save it again as .xlsx or as CSV and try again."
    )


def test_source_inspect_refuses_a_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "klanten.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("klanten.csv", "Naam\nAcme\n")

    assert _refusal(path).startswith("This file is not a CSV or Excel (.xlsx) file.")


def _workbook(tmp_path: Path, rows: list[list], name: str = "klanten.xlsx") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def test_source_rows_reads_xlsx_cells_as_text(tmp_path):
    path = _workbook(
        tmp_path,
        [
            ["Naam", None, "KvK", "Telefoon", "Omzet", "Sinds", "Laatst", "Actief", "Klein"],
            [
                " Acme ",
                "x",
                12345678,
                612345678,
                1234.5,
                date(2024, 3, 5),
                datetime(2024, 3, 5, 14, 30),  # noqa: DTZ001 - Excel has no time zones
                True,
                1.5e-05,
            ],
            [None, None, 87654321.0, None, 3.0, date(2023, 12, 31), None, False, None],
        ],
    )

    source, rows = _read(path)

    assert (source.kind, source.encoding, source.delimiter) == ("xlsx", "", "")
    assert source.headers == [
        "Naam",
        "Column 2",
        "KvK",
        "Telefoon",
        "Omzet",
        "Sinds",
        "Laatst",
        "Actief",
        "Klein",
    ]
    assert rows == [
        SourceRow(
            2,
            [
                "Acme",
                "x",
                "12345678",
                "612345678",
                "1234.5",
                "2024-03-05",
                "2024-03-05 14:30:00",
                "true",
                "0.000015",
            ],
            "",
        ),
        SourceRow(3, ["", "", "87654321", "", "3", "2023-12-31", "", "false", ""], ""),
    ]


def test_source_rows_keeps_formula_looking_xlsx_text(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Naam", "Som"])
    sheet.append(["Acme"])
    sheet["B2"].value = "=1+1"
    sheet["B2"].data_type = "s"  # text that starts with "=", as a user may type it
    sheet["A3"] = "=SUM(1,2)"  # a real formula that no program has calculated
    sheet["B3"] = "<script>alert(1)</script>"
    path = tmp_path / "klanten.xlsx"
    workbook.save(path)

    _source, rows = _read(path)

    assert rows == [
        SourceRow(2, ["Acme", "=1+1"], ""),
        SourceRow(3, ["", "<script>alert(1)</script>"], ""),
    ]


def test_source_rows_numbers_xlsx_rows_as_excel_does(tmp_path):
    path = _workbook(tmp_path, [[], ["Naam", "Plaats"], [None], ["Acme"], ["B", "C", "D"]])

    source, rows = _read(path)

    assert source.headers == ["Naam", "Plaats"]
    assert rows == [
        SourceRow(4, ["Acme", ""], ""),
        SourceRow(5, ["B", "C", "D"], "This row has 3 values but the file has 2 columns."),
    ]


def test_source_inspect_reads_an_xlsx_uploaded_without_suffix(tmp_path):
    path = _workbook(tmp_path, [["Naam"], ["Acme"]], name="upload")

    source, rows = _read(path)

    assert source.kind == "xlsx"
    assert rows == [SourceRow(2, ["Acme"], "")]


def test_source_rows_resumes_after_start_rows(tmp_path):
    lines = b"".join(b"Acme %d,Delft\n\n" % number for number in range(10))
    path = _write(tmp_path, b"Naam,Plaats\n" + lines)
    source = sources.source_inspect(path, file_name=path.name)
    every = list(sources.source_rows(path, source))

    resumed = list(sources.source_rows(path, source, start=4))

    assert resumed == every[4:]
    assert resumed[0] == SourceRow(10, ["Acme 4", "Delft"], "")


def test_source_rows_resumes_an_xlsx(tmp_path):
    path = _workbook(tmp_path, [["Naam"], *[[f"Acme {number}"] for number in range(5)]])
    source = sources.source_inspect(path, file_name=path.name)

    assert list(sources.source_rows(path, source, start=3)) == [
        SourceRow(5, ["Acme 3"], ""),
        SourceRow(6, ["Acme 4"], ""),
    ]


def test_source_count_rows_counts_what_source_rows_yields(tmp_path):
    path = _write(
        tmp_path,
        b'\nNaam,Plaats\n\nAcme,Delft\n"Multi\nline",Ede\n,,\n1,2,3\nx\n' + b"y" * 20_000 + b",z\n",
    )
    source = sources.source_inspect(path, file_name=path.name)
    rows = list(sources.source_rows(path, source))

    assert sources.source_count_rows(path, source) == len(rows) == 5


def test_source_count_rows_of_an_xlsx(tmp_path):
    path = _workbook(tmp_path, [["Naam"], ["Acme"], [None], ["Beta"]])
    source = sources.source_inspect(path, file_name=path.name)

    assert sources.source_count_rows(path, source) == 2


def test_source_rows_refuses_a_value_longer_than_the_limit(tmp_path):
    path = _write(tmp_path, b"Naam,Notitie\nAcme," + b"n" * 10_001 + b"\nBeta,kort\n")

    _source, rows = _read(path)

    assert rows[0].error == "A value is longer than 10,000 characters."
    assert rows[0].values == ["Acme", "n" * 10_000 + "…"]
    assert rows[1] == SourceRow(3, ["Beta", "kort"], "")


def test_source_rows_refuses_a_quoted_value_over_many_lines_that_is_too_long(tmp_path):
    path = _write(tmp_path, b'Naam,Notitie\nAcme,"' + b"regel\n" * 2_000 + b'"\nBeta,kort\n')

    _source, rows = _read(path)

    assert rows[0].error == "A value is longer than 10,000 characters."
    assert rows[1].values == ["Beta", "kort"]


def test_source_rows_reports_a_quote_never_closed_at_the_end(tmp_path):
    path = _write(tmp_path, b'Naam,Plaats\nAcme,Delft\nBeta,"Ede\nGamma,Zeist\nDelta,Epe\n')

    _source, rows = _read(path)

    assert rows == [
        SourceRow(2, ["Acme", "Delft"], ""),
        SourceRow(
            3,
            [],
            "This row opens a quote that is never closed; lines 3 to 5 of the file were not read.",
        ),
    ]


def test_source_rows_goes_on_after_a_quote_never_closed_in_a_large_file(tmp_path):
    rest = b"".join(b"Acme %d,Delft\n" % number for number in range(20_000))
    path = _write(tmp_path, b'Naam,Plaats\nBeta,"Ede\n' + rest)

    _source, rows = _read(path)

    assert rows[0].number == 2
    assert rows[0].error.startswith(
        "This row has a value of more than 131,072 characters, or a quote that is not closed; "
        "lines 2 to "
    )
    assert rows[1].error == ""
    assert rows[-1] == SourceRow(len(rows) + 1, ["Acme 19999", "Delft"], "")
    assert 10_000 < len(rows) < 20_000


def test_source_rows_reports_a_100_mb_line_and_reads_on(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as out:
        out.write(b"Naam,Notitie\nAcme,kort\nBeta,")
        block = b"x" * 1_000_000
        for _block in range(100):
            out.write(block)
        out.write(b"\nGamma,kort\n")
    source = sources.source_inspect(path, file_name=path.name)
    started = time.monotonic()
    tracemalloc.start()

    rows = list(sources.source_rows(path, source))

    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert rows == [
        SourceRow(2, ["Acme", "kort"], ""),
        SourceRow(3, [], "This line is longer than 1 MB and was not read."),
        SourceRow(4, ["Gamma", "kort"], ""),
    ]
    assert sources.source_count_rows(path, source) == 3
    assert peak < 20_000_000
    assert time.monotonic() - started < 5
    path.unlink()  # pytest keeps the last runs' tmp_path; not 100 MB of them


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("length", [95, 100, 101, 250, 1000])
def test_source_rows_skips_a_long_line_across_chunk_edges(tmp_path, monkeypatch, newline, length):
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 90)
    monkeypatch.setattr(sources, "_CHUNK_CHARS", 32)
    lines = ["Naam,Notitie", "Acme,kort", "Beta," + "x" * length, "", "Gamma,kort", ""]
    path = _write(tmp_path, newline.join(lines).encode())
    source = sources.SourceFormat(kind="csv", encoding="utf-8", delimiter=",", headers=["a", "b"])

    rows = list(sources.source_rows(path, source))

    assert rows == [
        SourceRow(2, ["Acme", "kort"], ""),
        SourceRow(3, [], "This line is longer than 1 MB and was not read."),
        SourceRow(5, ["Gamma", "kort"], ""),
    ]


def test_source_rows_skips_a_long_line_wherever_the_chunks_cut_it(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 90)
    monkeypatch.setattr(sources, "_CHUNK_CHARS", 32)
    source = sources.SourceFormat(kind="csv", encoding="utf-8", delimiter=",", headers=["a", "b"])
    for newline in ("\n", "\r\n", "\r"):
        for length in range(80, 180):
            lines = ["Naam,Notitie", "Beta," + "x" * length, "Gamma,kort", "Delta,kort", ""]
            path = _write(tmp_path, newline.join(lines).encode())

            rows = list(sources.source_rows(path, source))

            long = SourceRow(2, [], "This line is longer than 1 MB and was not read.")
            too_long = len(lines[1] + newline) > 90  # a line is measured with its ending
            first = long if too_long else SourceRow(2, ["Beta", "x" * length], "")
            assert rows == [
                first,
                SourceRow(3, ["Gamma", "kort"], ""),
                SourceRow(4, ["Delta", "kort"], ""),
            ], (newline, length)


def test_source_rows_marks_the_quoted_row_that_holds_a_long_line(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 90)
    monkeypatch.setattr(sources, "_CHUNK_CHARS", 32)
    content = 'Naam,Notitie\nAcme,"een\n' + "x" * 200 + '\ndrie"\nGamma,kort\n'
    path = _write(tmp_path, content.encode())
    source = sources.SourceFormat(kind="csv", encoding="utf-8", delimiter=",", headers=["a", "b"])

    rows = list(sources.source_rows(path, source))

    assert rows == [
        SourceRow(2, [], "This line is longer than 1 MB and was not read."),
        SourceRow(3, ["Gamma", "kort"], ""),
    ]
