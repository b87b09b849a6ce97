import pytest

from koers.pipeline.advisor import advise
from koers.pipeline.models import SalesModel


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # mostly inbound leads and one contact per sale
        (("inbound", "low", "one", "few"), SalesModel.INBOUND),
        # own prospecting
        (("outbound", "low", "one", "few"), SalesModel.OUTBOUND),
        # more than 80% of revenue from existing customers
        (("inbound", "high", "one", "few"), SalesModel.RELATIONSHIP),
        (("mixed", "high", "one", "few"), SalesModel.RELATIONSHIP),
        # many people per sale, in one team
        (("inbound", "low", "team", "few"), SalesModel.TEAM),
        (("mixed", "half", "team", "few"), SalesModel.TEAM),
        # many stakeholders at a few target accounts
        (("outbound", "low", "team", "many"), SalesModel.ACCOUNT_BASED),
        (("inbound", "low", "one", "many"), SalesModel.ACCOUNT_BASED),
    ],
)
def test_the_advisor_maps_the_four_answers_to_a_sales_model(answers, expected):
    lead_origin, existing_revenue, people_per_sale, people_at_account = answers
    advice = advise(
        lead_origin=lead_origin,
        existing_revenue=existing_revenue,
        people_per_sale=people_per_sale,
        people_at_account=people_at_account,
    )
    assert advice.recommended.model == expected
    assert advice.runner_up.model != expected
    assert advice.recommended.reasons  # every advice says why


def test_the_runner_up_is_the_next_best_with_its_own_reasons():
    advice = advise(
        lead_origin="inbound",
        existing_revenue="high",
        people_per_sale="one",
        people_at_account="few",
    )
    assert advice.recommended.model == SalesModel.RELATIONSHIP
    assert advice.runner_up.model == SalesModel.INBOUND
    assert advice.recommended.points > advice.runner_up.points
    assert len(advice.runner_up.reasons) == 2
