from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from koers.core.models import Notification
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.pipeline.factories import DealFactory, PipelineFactory
from koers.pipeline.models import Deal, Pipeline, StageChange
from koers.pipeline.services import deal_trash_purge


@pytest.fixture
def pipeline():
    return PipelineFactory(sales_model="inbound", name="Inbound")


@pytest.fixture
def deal_a(pipeline, sales_a):
    return DealFactory(pipeline=pipeline, owner=sales_a, name="Deal van team A")


@pytest.fixture
def deal_b(pipeline, sales_b):
    return DealFactory(pipeline=pipeline, owner=sales_b, name="Deal van team B")


def test_the_board_shows_the_visible_deals_per_stage(client_for, sales_a, pipeline, deal_a, deal_b):
    response = client_for(sales_a).get(reverse("pipeline:board", args=[pipeline.pk]))

    board = response.context["board"]
    qualify = board.columns[0]
    assert qualify.stage.key == "qualify"
    assert [deal.name for deal in qualify.deals] == ["Deal van team A"]
    assert (qualify.count, qualify.value) == (1, Decimal("12000"))
    assert qualify.weighted == Decimal("1200")  # 10% of 12,000
    assert "Deal van team B" not in response.content.decode()
    assert [column.stage.key for column in board.columns] == [
        "qualify", "needs_analysis", "proposal", "negotiation",
    ]  # fmt: skip
    assert board.won.stage.key == "won"
    assert board.lost.stage.key == "lost"


def test_a_board_column_shows_its_first_cards_and_counts_the_rest(
    client_for, manager, pipeline, sales_a, django_assert_max_num_queries
):
    DealFactory.create_batch(35, pipeline=pipeline, owner=sales_a)
    client = client_for(manager)

    with django_assert_max_num_queries(12) as few_stages_many_deals:
        response = client.get(reverse("pipeline:board", args=[pipeline.pk]))
    qualify = response.context["board"].columns[0]
    assert (qualify.count, len(qualify.deals), qualify.hidden) == (35, 30, 5)

    DealFactory.create_batch(
        5, pipeline=pipeline, owner=sales_a, stage=pipeline.stages.get(key="proposal")
    )
    with django_assert_max_num_queries(12) as more:
        client.get(reverse("pipeline:board", args=[pipeline.pk]))
    assert len(more.captured_queries) == len(few_stages_many_deals.captured_queries)


def test_the_board_filters_by_owner(client_for, manager, pipeline, deal_a, deal_b, sales_b):
    response = client_for(manager).get(
        reverse("pipeline:board", args=[pipeline.pk]), {"owner": sales_b.pk}
    )
    assert [deal.name for deal in response.context["board"].columns[0].deals] == ["Deal van team B"]


def test_dropping_a_deal_on_a_stage_whose_rules_it_misses_keeps_it_put(
    client_for, sales_a, pipeline, deal_a
):
    proposal = pipeline.stages.get(key="proposal")

    response = client_for(sales_a).post(
        reverse("pipeline:deal-move", args=[deal_a.pk]),
        {"stage": proposal.pk, "from": "board"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="board",
    )

    assert response.status_code == 200
    assert "an expected close date" in response.context["message"]
    deal_a.refresh_from_db()
    assert deal_a.stage.key == "qualify"
    assert "<html" not in response.content.decode()  # the board only, for htmx


def test_dropping_a_deal_on_lost_asks_why_then_loses_it(client_for, sales_a, pipeline, deal_a):
    lost = pipeline.stages.get(key="lost")
    client = client_for(sales_a)
    url = reverse("pipeline:deal-move", args=[deal_a.pk])

    asked = client.post(url, {"stage": lost.pk, "from": "board"})
    assert asked.context["lost_deal"] == deal_a
    deal_a.refresh_from_db()
    assert deal_a.status == Deal.Status.OPEN

    client.post(url, {"stage": lost.pk, "from": "board", "reason": "price", "note": "Te duur"})
    deal_a.refresh_from_db()
    assert (deal_a.status, deal_a.lost_reason, deal_a.lost_note) == ("lost", "price", "Te duur")


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "pipeline:deal-detail"),
        ("get", "pipeline:deal-edit"),
        ("post", "pipeline:deal-edit"),
        ("post", "pipeline:deal-move"),
        ("post", "pipeline:deal-won"),
        ("get", "pipeline:deal-lost"),
        ("post", "pipeline:deal-lost"),
        ("post", "pipeline:deal-reopen"),
        ("post", "pipeline:deal-delete"),
        ("post", "pipeline:deal-contact-add"),
        ("get", "pipeline:deal-contact-pick"),
    ],
)
def test_another_teams_deal_is_not_found_at_any_url(
    client_for, sales_a, deal_b, pipeline, method, name
):
    response = getattr(client_for(sales_a), method)(
        reverse(name, args=[deal_b.pk]),
        {"stage": pipeline.stages.get(key="lost").pk, "reason": "price"},
    )
    assert response.status_code == 404
    deal_b.refresh_from_db()
    assert deal_b.status == Deal.Status.OPEN
    assert deal_b.deleted_at is None


def test_the_deal_list_shows_visible_deals_and_filters_stalled(client_for, sales_a, deal_a, deal_b):
    Deal.objects.filter(pk=deal_a.pk).update(last_activity_at="2020-01-01T00:00:00Z")
    client = client_for(sales_a)

    everything = client.get(reverse("pipeline:deal-list"))
    stalled = client.get(reverse("pipeline:deal-list"), {"stalled": "on"})

    assert [deal.name for deal in everything.context["page"].rows] == ["Deal van team A"]
    assert [deal.is_stalled for deal in stalled.context["page"].rows] == [True]


def test_the_deal_page_shows_its_stage_history(client_for, sales_a, pipeline):
    company = CompanyFactory(owner=sales_a)
    client = client_for(sales_a)
    client.post(
        reverse("pipeline:deal-create"),
        {"name": "Nieuw", "pipeline": pipeline.pk, "company": company.pk, "owner": sales_a.pk,
         "amount_one_off": "1000", "amount_recurring": "0", "expected_close_on": "2027-02-01"},
    )  # fmt: skip
    deal = Deal.objects.get()
    contact = ContactFactory(company=company, owner=sales_a)
    client.post(
        reverse("pipeline:deal-contact-add", args=[deal.pk]),
        {"contact": contact.pk, "dmu_role": "champion"},
    )
    client.post(
        reverse("pipeline:deal-move", args=[deal.pk]),
        {"stage": pipeline.stages.get(key="proposal").pk},
    )
    client.post(reverse("pipeline:deal-won", args=[deal.pk]))  # negotiation wants a decision maker

    response = client.get(deal.get_absolute_url())

    moves = [move.to_stage.key for move, _stayed in response.context["moves"]]
    assert moves == ["qualify", "proposal"]
    assert "decision maker" in response.content.decode()  # the refused win said why
    assert list(deal.deal_contacts.values_list("dmu_role", flat=True)) == ["champion"]


def test_a_salesperson_hands_a_contact_to_an_ae(client_for, sales_a, colleague_a, pipeline):
    contact = ContactFactory(company=CompanyFactory(owner=sales_a), owner=sales_a)

    response = client_for(sales_a).post(
        reverse("pipeline:deal-hand-off", args=[contact.pk]),
        {
            "owner": colleague_a.pk,
            "pipeline": pipeline.pk,
            "name": "Warm",
            "qualification_need": "Planning",
        },
    )

    deal = Deal.objects.get()
    assert response.url == deal.get_absolute_url()
    assert deal.owner == colleague_a
    assert Notification.objects.filter(recipient=colleague_a, read_at=None).count() == 1
    inbox = client_for(colleague_a).get(reverse("core:notification-list"))
    assert "Warm" in inbox.content.decode()


def test_the_advisor_page_recommends_and_creates_a_pipeline(client_for, manager):
    client = client_for(manager)
    response = client.get(
        reverse("pipeline:advisor"),
        {
            "lead_origin": "outbound",
            "existing_revenue": "low",
            "people_per_sale": "team",
            "people_at_account": "many",
        },
    )
    assert response.context["advice"].recommended.model == "account_based"

    created = client.post(reverse("pipeline:pipeline-create"), {"sales_model": "account_based"})
    pipeline = Pipeline.objects.get()
    assert created.url == pipeline.get_absolute_url()
    assert pipeline.stages.order_by("position").first().key == "identify_target_account"


def test_salespeople_may_not_create_or_change_pipelines(client_for, sales_a, pipeline):
    client = client_for(sales_a)
    assert (
        client.post(reverse("pipeline:pipeline-create"), {"sales_model": "inbound"}).status_code
        == 403
    )
    assert (
        client.post(
            reverse("pipeline:pipeline-settings", args=[pipeline.pk]),
            {"name": "X", "stall_days": 3},
        ).status_code
        == 403
    )
    assert client.get(reverse("pipeline:stage-create", args=[pipeline.pk])).status_code == 403
    assert Pipeline.objects.count() == 1


def test_the_figures_page_computes_from_the_visible_deals(
    client_for, sales_a, pipeline, deal_a, deal_b
):
    response = client_for(sales_a).get(reverse("pipeline:insights", args=[pipeline.pk]))
    assert response.context["figures"].open_deals == 1
    assert [row.deals for row in response.context["forecast_by_owner"]] == [1]


def test_a_company_page_lists_its_deals(client_for, sales_a, pipeline):
    company = CompanyFactory(owner=sales_a)
    DealFactory(pipeline=pipeline, owner=sales_a, company=company, name="Bij dit bedrijf")
    page = client_for(sales_a).get(company.get_absolute_url()).content.decode()
    assert "Bij dit bedrijf" in page


def test_moving_a_deal_records_the_change_once(client_for, sales_a, pipeline, deal_a):
    client = client_for(sales_a)
    needs = pipeline.stages.get(key="needs_analysis")
    ContactFactory(owner=sales_a).deal_roles.create(deal=deal_a)
    client.post(
        reverse("pipeline:deal-move", args=[deal_a.pk]), {"stage": needs.pk, "from": "board"}
    )
    client.post(
        reverse("pipeline:deal-move", args=[deal_a.pk]), {"stage": needs.pk, "from": "board"}
    )
    assert StageChange.objects.filter(deal=deal_a, to_stage=needs).count() == 1


def test_a_deleted_deal_waits_in_the_trash_to_be_restored_or_erased(
    client_for, sales_a, deal_a, deal_b
):
    client = client_for(sales_a)
    client.post(reverse("pipeline:deal-delete", args=[deal_a.pk]))
    trash = client.get(reverse("pipeline:deal-list"), {"trash": "on"})
    assert [deal.name for deal in trash.context["page"].rows] == ["Deal van team A"]

    client.post(reverse("pipeline:deal-restore", args=[deal_a.pk]))
    assert client.get(deal_a.get_absolute_url()).status_code == 200

    client.post(reverse("pipeline:deal-delete", args=[deal_a.pk]))
    Deal.objects.filter(pk=deal_a.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    assert deal_trash_purge(older_than_days=30) == 1
    assert not Deal.objects.filter(pk=deal_a.pk).exists()
    assert Deal.objects.filter(pk=deal_b.pk).exists()


def test_a_move_to_a_stage_that_does_not_exist_is_not_found(client_for, sales_a, deal_a):
    client = client_for(sales_a)
    assert (
        client.post(reverse("pipeline:deal-move", args=[deal_a.pk]), {"stage": "abc"}).status_code
        == 404
    )
    other_pipeline = PipelineFactory()
    foreign = other_pipeline.stages.first()
    assert (
        client.post(
            reverse("pipeline:deal-move", args=[deal_a.pk]), {"stage": foreign.pk}
        ).status_code
        == 404
    )
