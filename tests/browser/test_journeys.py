import re

import pytest
from playwright.sync_api import expect

from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Company, Contact

from .conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def other_teams_company(sales_b):
    return CompanyFactory(name="Zuidelijk Transport B.V.", city="Breda", owner=sales_b)


def test_a_salesperson_logs_in_records_a_company_and_a_contact_and_finds_them(
    open_page, sales_a, demo_password, other_teams_company
):
    page = open_page()

    # The login page and start page speak Dutch, whatever the browser's language.
    page.goto("/login/")
    expect(page.get_by_role("heading", name="Inloggen bij Koers")).to_be_visible()
    log_in(page, "daan", demo_password)
    expect(page.get_by_role("heading", name="Welkom, Daan")).to_be_visible()

    # Switch to English; the choice sticks.
    page.get_by_test_id("language-menu").click()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Welcome, Daan")).to_be_visible()

    # A company with an invalid btw number is refused, naming the field, keeping the rest.
    page.get_by_role("link", name="Companies").first.click()
    page.get_by_role("link", name="New company").first.click()
    page.fill("#id_name", "Stroomlijn Software B.V.")
    page.select_option("#id_legal_form", "bv")
    page.fill("#id_kvk_number", "0123 4567")
    page.fill("#id_vat_number", "NL123456789B90")
    page.fill("#id_street", "Oudegracht 1")
    page.fill("#id_postcode", "3511aa")
    page.fill("#id_city", "Utrecht")
    page.fill("#id_phone", "030 123 4567")
    page.get_by_role("button", name="Save").click()
    errors = page.get_by_test_id("form-errors")
    expect(errors).to_contain_text("VAT number")
    expect(page.locator("#id_name")).to_have_value("Stroomlijn Software B.V.")
    expect(page.locator("#id_street")).to_have_value("Oudegracht 1")
    assert not Company.objects.filter(name="Stroomlijn Software B.V.").exists()

    page.fill("#id_vat_number", "NL004495445B01")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=re.compile("Stroomlijn Software B.V."))).to_be_visible()
    expect(page.get_by_test_id("vat")).to_have_text("NL004495445B01")
    expect(page.get_by_test_id("kvk")).to_have_text("01234567")

    # A contact, with the company picked by typing part of its name.
    page.get_by_role("link", name="Contacts").first.click()
    with page.expect_navigation():  # the company picker listens once the form has loaded
        page.get_by_role("link", name="New contact").first.click()
    page.fill("#id_first_name", "Mirthe")
    page.fill("#id_name_prefix", "van")
    page.fill("#id_last_name", "Oosterhuis")
    page.fill("#id_email", "Mirthe.vanOosterhuis@Stroomlijn.nl")
    page.fill("#id_phone", "06 12 34 56 78")
    page.locator("#id_company").fill("stroom")
    page.get_by_role("button", name=re.compile("Stroomlijn Software B.V.")).click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=re.compile("Mirthe van Oosterhuis"))).to_be_visible()
    expect(page.get_by_test_id("contact-company")).to_have_text("Stroomlijn Software B.V.")
    expect(page.get_by_test_id("phone")).to_have_text("06 12345678")
    assert Contact.objects.get().email == "mirthe.vanoosterhuis@stroomlijn.nl"

    # Found by part of the surname: in the list as you type, and in the global search.
    page.get_by_role("link", name="Contacts").first.click()
    # htmx listens once the list page's scripts have run.
    page.wait_for_url(re.compile(r"/contacts/(\?.*)?$"), wait_until="load")
    page.get_by_test_id("list-search").fill("sterhu")
    expect(page.get_by_test_id("contact-table")).to_contain_text("Mirthe van Oosterhuis")
    expect(page).to_have_url(re.compile(r"q=sterhu"))
    page.get_by_role("searchbox", name="Search", exact=True).fill("oosterh")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("search-contacts")).to_contain_text("Mirthe van Oosterhuis")

    # Another team's company: not in the list to click, and 404 at its URL.
    page.get_by_role("link", name="Companies").first.click()
    page.wait_for_url(re.compile(r"/companies/(\?.*)?$"), wait_until="load")
    page.get_by_test_id("list-search").fill("Zuidelijk")
    expect(page.get_by_text("No companies match these filters")).to_be_visible()
    response = page.goto(f"/companies/{other_teams_company.pk}/")
    assert response.status == 404
    expect(page.get_by_text("This page does not exist, or you may not see it")).to_be_visible()

    # And back to Dutch.
    page.goto("/")
    page.get_by_test_id("language-menu").click()
    page.get_by_role("button", name="Nederlands").click()
    expect(page.get_by_role("heading", name="Welkom, Daan")).to_be_visible()


def test_on_a_phone_the_menu_folds_away_and_still_leads_everywhere(
    open_page, sales_a, demo_password
):
    page = open_page(width=390, height=844)
    log_in(page, "daan", demo_password)

    contacts_link = page.locator("#navbar-menu").get_by_text("Contactpersonen", exact=True)
    expect(contacts_link).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    contacts_link.click()
    expect(page.get_by_role("heading", name="Contactpersonen")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_long_list_shows_its_rows_first_then_counts_them_and_pages(
    open_page, sales_a, demo_password
):
    for n in range(60):
        ContactFactory(last_name=f"Persoon {n:02d}", company__owner=sales_a, owner=sales_a)
    page = open_page()
    log_in(page, "daan", demo_password)

    page.goto("/contacts/?per_page=25")
    count = page.get_by_test_id("list-count")
    expect(count).to_have_text("1–25 van 60")  # filled in by the footer's own request
    page.get_by_test_id("next-page").click()
    expect(count).to_have_text("26–50 van 60")
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.get_by_test_id("contact-table")).to_contain_text("Persoon 25")
