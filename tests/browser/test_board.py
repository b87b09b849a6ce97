import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from koers.crm.factories import CompanyFactory, ContactFactory
from koers.pipeline.factories import DealFactory, PipelineFactory
from koers.pipeline.models import Deal, StageChange

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_a_deal_moves_on_the_board_within_the_rules_and_is_won(open_page, sales_a, demo_password):
    pipeline = PipelineFactory(sales_model="inbound", name="Inbound")
    stage = {s.key: s for s in pipeline.stages.all()}
    company = CompanyFactory(name="Bakker Installatie", owner=sales_a)
    contact = ContactFactory(
        company=company, owner=sales_a, first_name="Els", name_prefix="", last_name="Bakker"
    )
    deal = DealFactory(
        pipeline=pipeline, company=company, owner=sales_a, name="Planning Bakker",
        amount_recurring=Decimal("400"), expected_close_on="2027-03-01",
    )  # fmt: skip
    deal.deal_contacts.create(contact=contact, dmu_role="champion")
    StageChange.objects.create(deal=deal, to_stage=stage["qualify"], actor=sales_a)

    sales_a.language = "en"
    sales_a.save(update_fields=["language"])
    page = open_page()
    log_in(page, "daan", demo_password)
    page.goto(f"/pipelines/{pipeline.pk}/")
    card = page.get_by_test_id(f"deal-{deal.pk}")
    column = {
        key: page.get_by_test_id(f"column-{s.pk}") for key, s in stage.items() if s.kind == "open"
    }
    expect(column["qualify"]).to_contain_text("Planning Bakker")

    # To the next stage: allowed (it has a contact).
    # The card moves at once; the board takes the next drag once the server has answered.
    with page.expect_response(lambda response: "/move/" in response.url):
        card.drag_to(column["needs_analysis"].locator("[data-dropzone]"))
    expect(column["needs_analysis"]).to_contain_text("Planning Bakker")
    expect(column["qualify"]).not_to_contain_text("Planning Bakker")

    # Negotiation wants a decision maker among the contacts: refused, and it stays put.
    page.get_by_test_id(f"deal-{deal.pk}").drag_to(column["negotiation"].locator("[data-dropzone]"))
    expect(page.get_by_test_id("board-message")).to_contain_text("decision maker")
    expect(column["needs_analysis"]).to_contain_text("Planning Bakker")
    expect(column["negotiation"]).not_to_contain_text("Planning Bakker")
    assert Deal.objects.get(pk=deal.pk).stage == stage["needs_analysis"]

    # Make Els the decision maker on the deal's page, then win it.
    with page.expect_navigation():  # htmx listens once the deal's page has loaded
        page.get_by_role("link", name="Planning Bakker").click()
    page.get_by_placeholder("Add a person: type part of a name").fill("bakk")
    page.get_by_role("button", name=re.compile("Els Bakker")).click()
    page.get_by_label("DMU role").select_option("decision_maker")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_test_id("buying-committee")).to_contain_text("Decision maker")
    page.get_by_test_id("mark-won").click()
    expect(page.get_by_test_id("deal-status")).to_have_text("Won")

    history = page.get_by_test_id("stage-history")
    expect(history).to_contain_text("Qualify")
    expect(history).to_contain_text("Qualify → Needs analysis")
    expect(history).to_contain_text("Needs analysis → Won")
    assert list(
        StageChange.objects.filter(deal=deal)
        .order_by("at", "id")
        .values_list("to_stage__key", flat=True)
    ) == ["qualify", "needs_analysis", "won"]
