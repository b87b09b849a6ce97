from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from koers.core.models import AuditEntry, Notification
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Contact
from koers.pipeline import services
from koers.pipeline.models import Deal, Stage, StageChange


@pytest.fixture
def pipeline(manager):
    return services.pipeline_create_from_template(actor=manager, sales_model="inbound")


@pytest.fixture
def company(sales_a):
    return CompanyFactory(owner=sales_a)


def stage(pipeline, key):
    return pipeline.stages.get(key=key)


def test_a_new_deal_starts_in_the_first_stage_with_its_value_and_first_touch(
    sales_a, pipeline, company
):
    contact = ContactFactory(company=company, owner=sales_a)

    deal = services.deal_create(
        actor=sales_a,
        name="Planning voor 40 monteurs",
        pipeline=pipeline,
        company=company,
        contacts=[(contact, "champion")],
        amount_one_off=Decimal("5000"),
        amount_recurring=Decimal("800"),
    )

    assert deal.stage.key == "qualify"
    assert deal.owner == sales_a
    assert deal.value == Decimal("14600")  # 5,000 + 12 × 800
    assert deal.first_touch_at == min(company.created_at, contact.created_at)
    assert list(deal.deal_contacts.values_list("dmu_role", flat=True)) == ["champion"]
    change = StageChange.objects.get(deal=deal)
    assert (change.from_stage, change.to_stage, change.actor) == (None, deal.stage, sales_a)
    assert AuditEntry.objects.filter(object_id=deal.pk, action="created").exists()


def test_a_deal_may_not_enter_a_stage_whose_rules_it_does_not_meet(sales_a, pipeline, company):
    deal = services.deal_create(
        actor=sales_a, name="Zonder bedrag", pipeline=pipeline, company=company
    )

    with pytest.raises(ValidationError) as raised, translation.override("en"):
        services.deal_move(actor=sales_a, deal=deal, to_stage=stage(pipeline, "proposal"))

    # Needs analysis (skipped) wants a contact; proposal an amount and a close date.
    message = raised.value.message_dict["stage"][0]
    assert "at least one contact" in message
    assert "an amount" in message
    assert "an expected close date" in message
    deal.refresh_from_db()
    assert deal.stage.key == "qualify"
    assert StageChange.objects.filter(deal=deal).count() == 1


def test_moves_win_lose_and_reopen_are_all_recorded(sales_a, pipeline, company):
    contact = ContactFactory(
        company=company, owner=sales_a, dmu_role=Contact.DMURole.DECISION_MAKER
    )
    deal = services.deal_create(
        actor=sales_a,
        name="Volledig",
        pipeline=pipeline,
        company=company,
        contacts=[(contact, "")],
        amount_recurring=Decimal("500"),
        expected_close_on="2027-01-31",
    )

    services.deal_move(actor=sales_a, deal=deal, to_stage=stage(pipeline, "proposal"))
    services.deal_mark_won(actor=sales_a, deal=deal)
    assert (deal.status, deal.stage.key) == (Deal.Status.WON, "won")
    assert deal.won_at is not None

    services.deal_reopen(actor=sales_a, deal=deal)
    assert (deal.status, deal.stage.key, deal.won_at) == (Deal.Status.OPEN, "proposal", None)

    with pytest.raises(ValidationError) as raised:
        services.deal_mark_lost(actor=sales_a, deal=deal, reason="")
    assert "lost_reason" in raised.value.message_dict
    services.deal_mark_lost(actor=sales_a, deal=deal, reason="competitor", note="Koos voor X")
    assert (deal.status, deal.lost_reason, deal.lost_note) == (
        Deal.Status.LOST,
        "competitor",
        "Koos voor X",
    )

    path = list(
        StageChange.objects.filter(deal=deal)
        .order_by("at", "id")
        .values_list("to_stage__key", flat=True)
    )
    assert path == ["qualify", "proposal", "won", "proposal", "lost"]


def test_only_a_won_deal_goes_on_to_the_stages_after_the_sale(manager, sales_a, company):
    pipeline = services.pipeline_create_from_template(actor=manager, sales_model="relationship")
    boss = ContactFactory(company=company, owner=sales_a)
    deal = services.deal_create(
        actor=sales_a,
        name="Upsell",
        pipeline=pipeline,
        company=company,
        contacts=[(boss, Contact.DMURole.DECISION_MAKER)],
        amount_one_off=Decimal("900"),
        expected_close_on="2027-01-01",
    )
    check_in = pipeline.stages.get(key="first_check_in")

    with pytest.raises(ValidationError):
        services.deal_move(actor=sales_a, deal=deal, to_stage=check_in)
    services.deal_mark_won(actor=sales_a, deal=deal)
    services.deal_move(actor=sales_a, deal=deal, to_stage=check_in)

    assert (deal.status, deal.stage.key) == (Deal.Status.WON, "first_check_in")


def test_an_edit_may_not_break_the_rules_of_the_stage_the_deal_is_in(sales_a, pipeline, company):
    deal = services.deal_create(
        actor=sales_a,
        name="Met bedrag",
        pipeline=pipeline,
        company=company,
        amount_one_off=Decimal("10"),
    )
    Deal.objects.filter(pk=deal.pk).update(stage=stage(pipeline, "won"), status="won")
    deal.refresh_from_db()
    services.deal_update(actor=sales_a, deal=deal, name="Nog steeds gewonnen")  # closed: no check
    Deal.objects.filter(pk=deal.pk).update(stage=stage(pipeline, "qualify"), status="open")
    deal.refresh_from_db()

    services.deal_update(actor=sales_a, deal=deal, amount_one_off=Decimal("0"))
    assert deal.value == 0


def test_read_only_users_cannot_create_or_move_deals(read_only_a, sales_a, pipeline, company):
    with pytest.raises(PermissionDenied):
        services.deal_create(actor=read_only_a, name="Nee", pipeline=pipeline)
    deal = services.deal_create(actor=sales_a, name="Ja", pipeline=pipeline, company=company)
    with pytest.raises(PermissionDenied):
        services.deal_move(actor=read_only_a, deal=deal, to_stage=stage(pipeline, "lost"))


def test_a_deal_cannot_link_what_its_creator_may_not_see(sales_a, sales_b, pipeline):
    other_company = CompanyFactory(owner=sales_b)
    other_contact = ContactFactory(company=other_company, owner=sales_b)

    with pytest.raises(ValidationError) as company_error:
        services.deal_create(actor=sales_a, name="X", pipeline=pipeline, company=other_company)
    with pytest.raises(ValidationError) as contact_error:
        services.deal_create(
            actor=sales_a, name="X", pipeline=pipeline, contacts=[(other_contact, "")]
        )

    assert "company" in company_error.value.message_dict
    assert "contacts" in contact_error.value.message_dict
    assert not Deal.objects.exists()


def test_only_managers_and_admins_change_pipelines(sales_a, manager):
    with pytest.raises(PermissionDenied):
        services.pipeline_create_from_template(actor=sales_a, sales_model="inbound")
    pipeline = services.pipeline_create_from_template(actor=manager, sales_model="inbound")
    with pytest.raises(PermissionDenied):
        services.pipeline_update(actor=sales_a, pipeline=pipeline, name="Mijn")


def test_stages_can_be_renamed_reordered_and_given_rules(manager):
    pipeline = services.pipeline_create_from_template(actor=manager, sales_model="inbound")
    proposal, negotiation = stage(pipeline, "proposal"), stage(pipeline, "negotiation")
    others = [
        s.pk
        for s in pipeline.stages.order_by("position")
        if s.pk not in (proposal.pk, negotiation.pk)
    ]

    services.stage_save(
        actor=manager, pipeline=pipeline, stage=proposal, name="Offerte", kind="open",
        probability=60, required=["amount"],
    )  # fmt: skip
    services.stage_reorder(
        actor=manager,
        pipeline=pipeline,
        stage_ids=[others[0], others[1], negotiation.pk, proposal.pk, *others[2:]],
    )

    proposal.refresh_from_db()
    negotiation.refresh_from_db()
    assert (proposal.name, proposal.probability, proposal.required) == ("Offerte", 60, ["amount"])
    assert negotiation.position < proposal.position
    with pytest.raises(ValidationError):
        services.stage_save(
            actor=manager,
            pipeline=pipeline,
            stage=proposal,
            name="",
            kind="open",
            probability=101,
            required=[],
        )


def test_a_hand_off_creates_the_deal_for_the_ae_and_tells_them(
    sales_a, colleague_a, pipeline, company
):
    contact = ContactFactory(company=company, owner=sales_a, dmu_role=Contact.DMURole.CHAMPION)

    deal = services.deal_hand_off(
        actor=sales_a,
        contact=contact,
        owner=colleague_a,
        pipeline=pipeline,
        name="Warme lead",
        qualification_budget="€ 20.000 per jaar",
        qualification_need="Planning van 30 monteurs",
    )

    assert deal.owner == colleague_a
    assert deal.handed_off_by == sales_a
    assert deal.company == company
    assert list(deal.deal_contacts.values_list("contact", "dmu_role")) == [(contact.pk, "champion")]
    notification = Notification.objects.get(recipient=colleague_a)
    assert notification.url == deal.get_absolute_url()
    assert "Warme lead" in notification.message


def test_a_hand_off_needs_what_was_learnt(sales_a, colleague_a, pipeline, company):
    contact = ContactFactory(company=company, owner=sales_a)
    with pytest.raises(ValidationError):
        services.deal_hand_off(
            actor=sales_a, contact=contact, owner=colleague_a, pipeline=pipeline, name="Koud"
        )
    assert not Deal.objects.exists()


def test_a_stage_with_deal_history_cannot_be_deleted(manager, sales_a, pipeline, company):
    services.deal_create(actor=sales_a, name="X", pipeline=pipeline, company=company)
    with pytest.raises(ValidationError):
        services.stage_delete(actor=manager, stage=stage(pipeline, "qualify"))
    services.stage_delete(actor=manager, stage=stage(pipeline, "needs_analysis"))
    assert not pipeline.stages.filter(key="needs_analysis").exists()
    assert pipeline.stages.filter(kind=Stage.Kind.OPEN).count() == 3
