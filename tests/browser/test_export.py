import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from koers.crm.factories import CompanyFactory, ContactFactory

from .conftest import log_in

pytestmark = pytest.mark.browser


def read_download(download) -> list[list[str]]:
    text = Path(download.path()).read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_a_salesperson_exports_the_contacts_list_as_filtered_on_screen(
    open_page, sales_a, sales_b, demo_password
):
    company = CompanyFactory(name="Noordelijk Bouw B.V.", owner=sales_a)
    for last_name in ("Dekker", "Dijkstra", "Jansen"):
        ContactFactory(
            company=company, owner=sales_a, first_name="Anna", name_prefix="", last_name=last_name
        )
    ContactFactory(company=CompanyFactory(owner=sales_b), owner=sales_b, last_name="Dekkers")
    sales_a.language = "en"
    sales_a.save(update_fields=["language"])

    page = open_page()
    log_in(page, "daan", demo_password)
    page.goto("/contacts/")

    # Type a search and export straight away, before the list (and the address) caught up.
    page.get_by_test_id("list-search").fill("d")
    page.get_by_test_id("export-menu").get_by_role("button", name="Export").click()
    with page.expect_download() as csv_download:
        page.get_by_test_id("export-csv").click()
    rows = read_download(csv_download.value)
    assert rows[0][3] == "Last name"
    assert sorted(row[3] for row in rows[1:]) == ["Dekker", "Dijkstra"]

    # Sorted by name the other way round (a hidden field of the filter bar): the file follows.
    expect(page).to_have_url(re.compile(r"q=d"))
    page.locator("#record-list").get_by_role("link", name="Name").click()
    expect(page).to_have_url(re.compile(r"sort=-name"))
    page.get_by_test_id("export-menu").get_by_role("button", name="Export").click()
    with page.expect_download() as csv_download:
        page.get_by_test_id("export-csv").click()
    assert csv_download.value.suggested_filename.startswith("contacts-")
    assert [row[3] for row in read_download(csv_download.value)[1:]] == ["Dijkstra", "Dekker"]

    # On a phone the menu is an icon that still opens, and Excel is one tap away.
    phone = open_page(width=390, height=844)
    log_in(phone, "daan", demo_password)
    phone.goto("/contacts/?q=jansen")
    menu = phone.get_by_test_id("export-menu").get_by_role("button", name="Export")
    expect(menu).to_be_visible()
    menu.click()
    with phone.expect_download() as xlsx_download:
        phone.get_by_test_id("export-xlsx").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
