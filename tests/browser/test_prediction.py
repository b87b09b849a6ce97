"""A salesperson sees which open contact is likely to become a customer, and why.

The team's history is made here: customers and contacts who said "not interested" on a
call, differing in one thing only, a custom field "Budget" (approved or not; one in four
the other way round). The model is trained and every open contact scored as the nightly
jobs do; the pages then have to show what the model computed.
"""

import math
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from koers.activities.models import Activity
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.scoring import conversion, model_views
from koers.scoring.models import ConversionModel, ConversionScore

from .conftest import log_in

pytestmark = pytest.mark.browser

NOW = timezone.now().replace(microsecond=0)


def person(owner, budget: str, **fields):
    """A contact like every other but for the budget custom field."""
    company = CompanyFactory(
        industry="62",
        employee_band="10-49",
        revenue_band="1m-10m",
        legal_form="bv",
        city="Utrecht",
        owner=owner,
    )
    same = {
        "function": "ceo",
        "dmu_role": "decision_maker",
        "lead_source": "website",
        "mobile": "",
        "phone": "+31301234567",
        "lifecycle_stage": "lead",
    }
    return ContactFactory(
        company=company, owner=owner, custom_fields={"Budget": budget}, **(same | fields)
    )


def call(contact, outcome: str, at) -> None:
    Activity.objects.create(
        kind=Activity.Kind.CALL,
        outcome=outcome,
        subject="Call",
        contact=contact,
        owner=contact.owner,
        occurred_at=at,
        done_at=at,
    )


def history(owner, each: int = 34) -> None:
    for day in range(each):
        at = NOW - timedelta(days=2 * each - 2 * day)
        usual = day % 4 != 3
        customer = person(owner, "approved" if usual else "none", lifecycle_stage="customer")
        call(customer, Activity.Outcome.CONVERSATION, at)
        said_no = person(owner, "none" if usual else "approved")
        call(said_no, Activity.Outcome.NOT_INTERESTED, at)


def two_decimals(value: float) -> str:
    # As Django's floatformat rounds: half up, from the float's shortest repr.
    return str(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_a_salesperson_sees_the_chance_and_the_reasons_then_the_model_card(
    open_page, sales_a, demo_password
):
    sales_a.language = "en"
    sales_a.save(update_fields=["language"])
    history(sales_a)
    sophie = person(sales_a, "approved", first_name="Sophie", last_name="Willems")
    model = conversion.model_train()
    assert model.status == ConversionModel.Status.READY
    conversion.conversions_predict()
    stored = ConversionScore.objects.get(contact=sophie)

    page = open_page()
    log_in(page, "daan", demo_password)
    page.goto(sophie.get_absolute_url())

    panel = page.get_by_test_id("conversion-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("conversion-grade")).to_have_text(stored.grade)
    expect(panel.get_by_test_id("conversion-probability")).to_have_text(
        model_views.percent(stored.probability)
    )
    reasons = panel.get_by_test_id("conversion-reasons")
    expect(reasons).to_contain_text("Budget: approved")
    first = reasons.get_by_test_id("conversion-reason").first
    expect(first).to_contain_text("Budget: approved")
    pushes = model_views.selectors.conversion_explained(sophie).up
    assert pushes[0].label == "Budget"
    expect(first.get_by_test_id("reason-odds")).to_have_text(
        f"×{math.exp(pushes[0].contribution):.2f}"
    )
    expect(panel.get_by_test_id("conversion-priority")).to_have_text("– · 1")

    # The model card the panel links to shows the figures the training stored.
    with page.expect_response(lambda response: response.url.endswith("/sales/prediction/")):
        panel.get_by_test_id("conversion-model-link").click()
    expect(page.get_by_test_id("stat-auc")).to_have_text(two_decimals(model.card["cv"]["auc"]))
    expect(page.get_by_test_id("model-outcomes")).to_have_text("34 · 34")
    expect(page.get_by_test_id("model-feature").first).to_contain_text("Budget")
    expect(page.get_by_test_id("retrain")).to_have_count(0)  # sales reads, does not retrain

    # The start page counts the open contacts by fit × engagement; a cell opens them, and
    # the list puts the likeliest first.
    page.goto("/")
    cell = page.get_by_test_id("priority-none-1")
    expect(cell).to_have_text("35")  # the 34 no's, still leads, and Sophie
    with page.expect_response(lambda response: "/contacts/?" in response.url):
        cell.click()
    expect(page.get_by_test_id("filter-fit")).to_have_value("none")
    with page.expect_response(lambda response: "sort=-probability" in response.url):
        page.get_by_test_id("column-priority").get_by_role("link").click()
    likeliest = ConversionScore.objects.order_by("-probability", "-contact_id").first()
    rows = page.get_by_test_id("contact-table").locator("tbody tr")
    expect(rows.first).to_contain_text(likeliest.contact.full_name)
    expect(rows.first.get_by_test_id("priority-chance")).to_have_text(
        f"{likeliest.grade} {model_views.percent(likeliest.probability)}"
    )
