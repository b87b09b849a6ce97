import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from koers.core.models import RoleVisibility, User
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Company, Contact, LifecycleStage
from koers.dataio import exports
from koers.pipeline.factories import DealFactory
from koers.pipeline.models import Deal

FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


def export_url(list_name, file_format, query=""):
    url = reverse("dataio:export", args=[list_name, file_format])
    return f"{url}?{query}" if query else url


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # a byte order mark, so Excel reads UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def read_xlsx(response):
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return workbook.active


def xlsx_values(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def download(client, list_name, file_format, query=""):
    response = client.get(export_url(list_name, file_format, query))
    assert response.status_code == 200
    return read_csv(response) if file_format == "csv" else xlsx_values(read_xlsx(response))


def column(rows: list[list], header: str) -> list:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


@pytest.fixture
def company_a(sales_a):
    return CompanyFactory(
        name="Noordelijk Bouw B.V.",
        legal_form=Company.LegalForm.BV,
        city="Groningen",
        lifecycle_stage=LifecycleStage.CUSTOMER,
        phone="+31501234567",
        owner=sales_a,
    )


@pytest.fixture
def company_b(sales_b):
    return CompanyFactory(name="Zuidelijk Transport B.V.", city="Breda", owner=sales_b)


# What a file holds


def test_csv_export_of_contacts_holds_the_list_with_labels_and_iso_dates(
    client_for, sales_a, company_a
):
    contact = ContactFactory(
        company=company_a,
        owner=sales_a,
        first_name="Mirthe",
        name_prefix="van",
        last_name="Oosterhuis",
        email="mirthe@noordelijkbouw.nl",
        phone="+31501234567",
        dmu_role=Contact.DMURole.DECISION_MAKER,
        function=Contact.Function.CEO,
        lifecycle_stage=LifecycleStage.CUSTOMER,
        do_not_call=True,
        call_back_on=dt.date(2026, 12, 1),
    )

    response = client_for(sales_a).get(export_url("contacts", "csv"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="contacts-{today}.csv"'
    rows = read_csv(response)
    assert rows[0][:6] == ["ID", "First name", "Name prefix", "Last name", "Email", "Phone"]
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["ID"] == str(contact.pk)
    assert record["Last name"] == "Oosterhuis"
    assert record["Phone"] == "'+31501234567"  # neutralised, as OWASP advises for CSV
    assert record["DMU role"] == "Decision maker"
    assert record["Function"] == "CEO / managing director"
    assert record["Company"] == "Noordelijk Bouw B.V."
    assert record["Lifecycle stage"] == "Customer"
    assert record["Owner"] == "Daan Bakker"
    assert record["Do not call"] == "yes"
    assert record["Call back on"] == "2026-12-01"
    created = dt.datetime.fromisoformat(record["Created"])
    assert created == contact.created_at.replace(microsecond=0)
    assert created.utcoffset() in (dt.timedelta(hours=1), dt.timedelta(hours=2))  # Amsterdam
    assert len(rows) == 2


def test_csv_export_speaks_the_users_language_while_it_streams(client_for, sales_a, company_a):
    # The rows are written after the view returned, outside the language middleware.
    response = client_for(sales_a, language="nl").get(export_url("companies", "csv"))

    rows = read_csv(response)
    assert rows[0][:3] == ["ID", "Naam", "Rechtsvorm"]
    assert column(rows, "Levenscyclusfase") == ["Klant"]
    assert column(rows, "Rechtsvorm") == ["Besloten vennootschap (bv)"]


def test_xlsx_export_of_deals_has_typed_cells_and_a_bold_header(client_for, sales_a, company_a):
    deal = DealFactory(
        name="Nieuwe kantoorpanden",
        company=company_a,
        owner=sales_a,
        amount_one_off=Decimal("2500.50"),
        amount_recurring=Decimal("100"),
        value=Decimal("3700.50"),
        expected_close_on=dt.date(2026, 12, 15),
    )

    response = client_for(sales_a).get(export_url("deals", "xlsx"))

    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="deals-{today}.xlsx"'
    sheet = read_xlsx(response)
    assert sheet.title == "Deals"
    rows = xlsx_values(sheet)
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"  # the header stays in view
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["ID"] == deal.pk
    assert record["Name"] == "Nieuwe kantoorpanden"
    assert record["Stage"] == "Qualify"
    assert record["Status"] == "Open"
    assert record["Company"] == "Noordelijk Bouw B.V."
    assert record["One-off amount"] == 2500.5
    assert record["First-year value"] == 3700.5
    assert record["Expected close date"].date() == dt.date(2026, 12, 15)  # a date cell
    local_created = timezone.localtime(deal.created_at).replace(microsecond=0, tzinfo=None)
    assert record["Created"] == local_created
    assert record["Won"] is None
    amount = sheet.cell(row=2, column=rows[0].index("One-off amount") + 1)
    assert amount.data_type == "n"
    assert amount.number_format == "#,##0.00"


def test_xlsx_export_of_contacts_keeps_yes_no_as_booleans(client_for, sales_a, company_a):
    ContactFactory(company=company_a, owner=sales_a, do_not_call=True)

    rows = download(client_for(sales_a), "contacts", "xlsx")

    assert column(rows, "Do not call") == [True]


# Filters and visibility


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_of_a_filtered_list_holds_only_the_matching_rows(
    client_for, sales_a, colleague_a, company_a, file_format
):
    CompanyFactory(name="Groninger Zuivel B.V.", city="Groningen", owner=colleague_a)
    CompanyFactory(name="Utrechtse Software B.V.", city="Utrecht", owner=sales_a)
    ContactFactory(company=company_a, owner=sales_a, last_name="Dekker", lifecycle_stage="lead")
    ContactFactory(company=company_a, owner=sales_a, last_name="Smit", lifecycle_stage="mql")
    ContactFactory(company=company_a, owner=colleague_a, last_name="Bos", lifecycle_stage="lead")
    DealFactory(name="Won deal", owner=sales_a, status=Deal.Status.WON)
    DealFactory(name="Open deal", owner=sales_a)
    client = client_for(sales_a)

    companies = download(client, "companies", file_format, "city=groningen&sort=-name")
    contacts = download(client, "contacts", file_format, "lifecycle_stage=lead&owner=me")
    deals = download(client, "deals", file_format, "status=won&page=2&per_page=25")

    assert column(companies, "Name") == ["Noordelijk Bouw B.V.", "Groninger Zuivel B.V."]
    assert column(contacts, "Last name") == ["Dekker"]
    assert column(deals, "Name") == ["Won deal"]


def test_export_holds_every_page_of_the_list(client_for, sales_a):
    CompanyFactory.create_batch(60, owner=sales_a)

    rows = download(client_for(sales_a), "companies", "csv", "per_page=25&page=2")

    assert len(rows) == 61


def test_export_ignores_filter_values_that_do_not_fit_as_the_list_does(
    client_for, sales_a, company_a
):
    rows = download(client_for(sales_a), "companies", "csv", "lifecycle_stage=nonsense&sort=x")

    assert column(rows, "Name") == ["Noordelijk Bouw B.V."]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("list_name", ["companies", "contacts", "deals"])
def test_export_leaves_out_the_records_of_another_team(
    client_for, sales_a, sales_b, company_a, company_b, list_name, file_format
):
    ContactFactory(company=company_a, owner=sales_a, last_name="Noorderhaven")
    ContactFactory(company=company_b, owner=sales_b, last_name="Zuiderwijk")
    DealFactory(name="Deal Noord", company=company_a, owner=sales_a)
    DealFactory(name="Deal Zuid", company=company_b, owner=sales_b)
    header = "Last name" if list_name == "contacts" else "Name"

    team_a = download(client_for(sales_a), list_name, file_format)
    team_b = download(client_for(sales_b), list_name, file_format)
    # Asking for the other team's owner or company changes nothing.
    asked = download(client_for(sales_a), list_name, file_format, f"owner={sales_b.pk}")

    expected_a, expected_b = {
        "companies": (["Noordelijk Bouw B.V."], ["Zuidelijk Transport B.V."]),
        "contacts": (["Noorderhaven"], ["Zuiderwijk"]),
        "deals": (["Deal Noord"], ["Deal Zuid"]),
    }[list_name]
    assert column(team_a, header) == expected_a
    assert column(team_b, header) == expected_b
    assert column(asked, header) == []


def test_export_follows_the_visibility_rule_of_each_role(
    client_for, manager, sales_a, colleague_a, company_a, company_b
):
    CompanyFactory(name="Amsterdamse Accountants B.V.", owner=colleague_a)
    query = "sort=name"

    team = column(download(client_for(sales_a), "companies", "csv", query), "Name")
    everyone = column(download(client_for(manager), "companies", "csv", query), "Name")
    RoleVisibility.objects.create(role=User.Role.SALES, scope=RoleVisibility.Scope.OWN)
    own = column(download(client_for(sales_a), "companies", "csv", query), "Name")

    assert team == ["Amsterdamse Accountants B.V.", "Noordelijk Bouw B.V."]
    assert everyone == [
        "Amsterdamse Accountants B.V.",
        "Noordelijk Bouw B.V.",
        "Zuidelijk Transport B.V.",
    ]
    assert own == ["Noordelijk Bouw B.V."]


def test_export_of_deleted_deals_holds_only_the_users_own_teams(client_for, sales_a, sales_b):
    mine = DealFactory(name="Deleted Noord", owner=sales_a, deleted_at=timezone.now())
    DealFactory(name="Deleted Zuid", owner=sales_b, deleted_at=timezone.now())
    DealFactory(name="Alive Noord", owner=sales_a)

    rows = download(client_for(sales_a), "deals", "csv", "trash=on")

    assert column(rows, "ID") == [str(mine.pk)]


def test_export_reads_the_rows_in_a_fixed_number_of_queries(client_for, sales_a, company_a):
    ContactFactory(company=company_a, owner=sales_a)
    DealFactory(company=company_a, owner=sales_a)
    client = client_for(sales_a)

    def queries() -> dict:
        counts = {}
        for list_name in ("companies", "contacts", "deals"):
            for file_format in ("csv", "xlsx"):
                with CaptureQueriesContext(connection) as context:
                    download(client, list_name, file_format)
                counts[list_name, file_format] = len(context.captured_queries)
        return counts

    few = queries()
    CompanyFactory.create_batch(20, owner=sales_a, parent=company_a)
    ContactFactory.create_batch(20, company=company_a, owner=sales_a)
    DealFactory.create_batch(20, company=company_a, owner=sales_a)
    many = queries()

    assert many == few
    assert max(few.values()) <= 7


# Formula injection


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_csv_export_prefixes_a_cell_that_would_run_as_a_formula(client_for, sales_a, start):
    name = f'{start}HYPERLINK("http://evil.example","x")'
    CompanyFactory(name=name, owner=sales_a, domain="", kvk_number="")
    ContactFactory(company=None, owner=sales_a, first_name="", last_name=f"{start}1+1", phone="")
    client = client_for(sales_a)

    companies = download(client, "companies", "csv")
    contacts = download(client, "contacts", "csv")

    assert column(companies, "Name") == [f"'{name}"]
    assert column(contacts, "Last name") == [f"'{start}1+1"]


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_xlsx_export_writes_a_formula_like_cell_as_text(client_for, sales_a, start):
    name = f"{start}cmd|' /C calc'!A0"
    CompanyFactory(name=name, owner=sales_a)

    response = client_for(sales_a).get(export_url("companies", "xlsx"))

    sheet = read_xlsx(response)
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("Name") + 1)
    assert cell.data_type == "s"  # a string, never a formula
    assert cell.quotePrefix  # marked as text, as a typed leading apostrophe is in Excel
    # XML turns a carriage return into a line feed; the text is otherwise as it was.
    assert cell.value == name.replace("\r", "\n")


def test_xlsx_export_drops_characters_a_sheet_cannot_hold(client_for, sales_a):
    CompanyFactory(name="Bel\x07 & Co B.V.", owner=sales_a)

    rows = download(client_for(sales_a), "companies", "xlsx")

    assert column(rows, "Name") == ["Bel & Co B.V."]


def test_export_text_that_only_contains_formula_signs_is_left_alone(client_for, sales_a):
    CompanyFactory(name="Bakker + Zonen B.V.", owner=sales_a, phone="")

    rows = download(client_for(sales_a), "companies", "csv")

    assert column(rows, "Name") == ["Bakker + Zonen B.V."]


# Limits


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_stops_at_its_row_limit_and_says_so(client_for, sales_a, monkeypatch, file_format):
    monkeypatch.setattr(exports, "CSV_MAX_ROWS", 2)
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 2)
    for name in ("Alfa B.V.", "Bravo B.V.", "Charlie B.V."):
        CompanyFactory(name=name, owner=sales_a)

    rows = download(client_for(sales_a), "companies", file_format, "sort=name")

    assert [row[1] for row in rows[1:3]] == ["Alfa B.V.", "Bravo B.V."]
    assert rows[3][0] == (
        "Only the first 2 rows were exported; filter the list to export the rest."
    )
    assert len(rows) == 4


def test_export_within_its_row_limit_has_no_notice(client_for, sales_a, monkeypatch):
    monkeypatch.setattr(exports, "CSV_MAX_ROWS", 2)
    CompanyFactory(name="Alfa B.V.", owner=sales_a)
    CompanyFactory(name="Bravo B.V.", owner=sales_a)

    rows = download(client_for(sales_a), "companies", "csv")

    assert len(rows) == 3


# Access


def test_export_sends_an_anonymous_visitor_to_the_login_page(client):
    url = export_url("contacts", "csv")

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('core:login')}?next={url}"


@pytest.mark.parametrize(
    ("list_name", "file_format"),
    [("users", "csv"), ("audit", "xlsx"), ("contacts", "pdf"), ("contacts", "json")],
)
def test_export_of_an_unknown_list_or_format_is_not_found(
    client_for, sales_a, list_name, file_format
):
    response = client_for(sales_a).get(export_url(list_name, file_format))

    assert response.status_code == 404


def test_export_refuses_a_post(client_for, sales_a):
    response = client_for(sales_a).post(export_url("contacts", "csv"))

    assert response.status_code == 405


def test_export_is_not_kept_in_any_cache(client_for, sales_a):
    response = client_for(sales_a).get(export_url("contacts", "xlsx"))

    assert response["Cache-Control"] == "private, no-store"


# The Export menu on the list pages


@pytest.mark.parametrize(
    ("list_url", "list_name"),
    [
        ("crm:company-list", "companies"),
        ("crm:contact-list", "contacts"),
        ("pipeline:deal-list", "deals"),
    ],
)
def test_list_page_offers_its_export_with_the_current_filters(
    client_for, read_only_a, list_url, list_name
):
    # Exporting is reading: a read-only user may, as they may read the list.
    response = client_for(read_only_a).get(reverse(list_url), {"q": "bouw", "owner": "me"})

    html = response.content.decode()
    assert 'data-testid="export-menu"' in html
    for file_format in ("csv", "xlsx"):
        assert f'href="{export_url(list_name, file_format, "q=bouw&amp;owner=me")}"' in html


def test_company_export_holds_the_technologies_as_an_import_reads_them(client_for, sales_a):
    CompanyFactory(owner=sales_a, name="Veldhuis", technologies=["Exact Online", "SAP"])

    rows = download(client_for(sales_a), "companies", "csv")

    assert column(rows, "Technologies") == ["Exact Online, SAP"]
