"""Someone brings their HubSpot export into Koers with the import wizard."""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from koers.crm.models import Contact

from .conftest import log_in

pytestmark = pytest.mark.browser

HUBSPOT_EXPORT = (
    "Record ID,First Name,Last Name,Email,Phone Number,Company Name,Lifecycle Stage\n"
    "9001,Anna,Smit,anna@smitbouw.nl,06-12345678,Smit Bouw B.V.,customer\n"
    "9002,Bram,Mulder,bram@,020 123 4567,Mulder & Zn,lead\n"
    "9003,Carla,de Bos,carla@bosadvies.nl,+31 30 123 4567,Bos Advies,marketingqualifiedlead\n"
    "9004,Dirk,<b>Vet</b>,dirk@vet.nl,,,lead\n"
)


def test_a_hubspot_export_is_mapped_checked_imported_and_its_rejects_downloaded(
    open_page, sales_a, demo_password, tmp_path
):
    sales_a.language = "en"
    sales_a.save(update_fields=["language"])
    export = tmp_path / "hubspot-contacts-2026.csv"
    export.write_text(HUBSPOT_EXPORT)

    page = open_page()
    log_in(page, "daan", demo_password)
    page.goto("/import/")
    page.get_by_label("Import into").select_option("contacts")
    page.get_by_label("File").set_input_files(export)
    with page.expect_navigation():
        page.get_by_test_id("upload").click()

    # The suggested mapping: HubSpot's headers each found their field.
    for column, field in enumerate(
        ["external_id", "first_name", "last_name", "email", "phone", "company_name"]
    ):
        expect(page.get_by_test_id(f"column-{column}")).to_have_value(field)
    expect(page.get_by_test_id("match-on")).to_have_value("external_id")
    with page.expect_navigation():
        page.get_by_test_id("check").click()

    # The dry run: two rows to create, two with errors naming row and field.
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    expect(page.get_by_test_id("count-rejected")).to_have_text("2")
    errors = page.get_by_test_id("preview-errors")
    expect(errors).to_contain_text("Email: Enter a valid email address")
    expect(errors.locator("tr", has_text="Last name: A name cannot be")).to_contain_text("5")
    assert Contact.objects.count() == 0

    with page.expect_navigation():
        page.get_by_test_id("run-import").click()
    expect(page.get_by_test_id("import-status")).to_have_text("Done")
    expect(page.get_by_test_id("progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    assert set(Contact.objects.values_list("external_id", "owner")) == {
        ("9001", sales_a.pk),
        ("9003", sales_a.pk),
    }

    with page.expect_download() as download:
        page.get_by_test_id("download-rejected").click()
    text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == [
        "Row", "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Company Name",
        "Lifecycle Stage", "Reason",
    ]  # fmt: skip
    assert [row[:2] for row in rows[1:]] == [["3", "9002"], ["5", "9004"]]
    assert "Email" in rows[1][-1]
    assert "HTML" in rows[2][-1]

    # Phone width: the report still reads.
    phone = open_page(width=390, height=844)
    log_in(phone, "daan", demo_password)
    phone.goto(page.url)
    expect(phone.get_by_test_id("count-created")).to_be_visible()
