"""An agent may call the people most likely to become customers first (scoring's nightly
prediction), and sees each person's chance on the campaign page and the call screen."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from koers.crm.factories import CompanyFactory, ContactFactory
from koers.outreach import selectors, services
from koers.outreach.models import CallListEntry
from koers.scoring.models import ConversionModel, ConversionScore

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def campaign(manager, sales_a):
    campaign = services.campaign_save(
        actor=manager, agents=[sales_a], contact_filter={}, name="Voorjaar", goal="Afspraken"
    )
    return services.campaign_set_status(actor=manager, campaign=campaign, status="active")


def _people(owner, count: int) -> list:
    """Leads at private limited companies with a phone: every one may be called."""
    same = {"owner": owner, "phone": "+31301234567", "lifecycle_stage": "lead"}
    same |= {"dmu_role": "decision_maker", "do_not_call": False}
    return [
        ContactFactory(company=CompanyFactory(legal_form="bv", owner=owner), **same)
        for _ in range(count)
    ]


def _scored(contact, probability: float, grade: str) -> None:
    model = ConversionModel.objects.first() or ConversionModel.objects.create(
        trained_at=NOW, status=ConversionModel.Status.READY
    )
    ConversionScore.objects.create(
        contact=contact, probability=probability, grade=grade, model=model, scored_at=NOW
    )


def test_the_call_list_orders_by_chance_when_asked_with_the_unscored_last(campaign, sales_a):
    first, second, third = _people(sales_a, 3)
    for person in (first, second, third):
        CallListEntry.objects.create(campaign=campaign, contact=person)
    _scored(second, 0.12, "C")
    _scored(third, 0.64, "A")

    usual = selectors.call_list(campaign=campaign)
    by_chance = selectors.call_list(campaign=campaign, order="chance")

    assert [entry.contact for entry in usual] == [first, second, third]
    assert [entry.contact for entry in by_chance] == [third, second, first]
    assert [(entry.chance, entry.chance_grade) for entry in by_chance] == [
        (0.64, "A"),
        (0.12, "C"),
        (None, None),
    ]


def test_a_call_back_that_is_due_still_comes_before_a_likelier_person(campaign, sales_a):
    likely, called_back = _people(sales_a, 2)
    called_back.call_back_on = timezone.localdate()
    called_back.save(update_fields=["call_back_on"])
    for person in (likely, called_back):
        CallListEntry.objects.create(campaign=campaign, contact=person)
    _scored(likely, 0.9, "A")

    by_chance = selectors.call_list(campaign=campaign, order="chance")

    assert [entry.contact for entry in by_chance] == [called_back, likely]


def test_the_agent_chooses_the_order_once_and_sees_each_chance(campaign, sales_a, client_for):
    unscored, unlikely, likely = _people(sales_a, 3)
    for person in (unscored, unlikely, likely):
        CallListEntry.objects.create(campaign=campaign, contact=person)
    _scored(unlikely, 0.12, "C")
    _scored(likely, 0.64, "A")
    client = client_for(sales_a)

    detail = client.get(f"{campaign.get_absolute_url()}?order=chance").content.decode()
    screen = client.get(reverse("outreach:call", args=[campaign.pk])).content.decode()

    chances = re.findall(r'data-testid="entry-chance">([^<]+)<', detail)
    assert chances == ["A · 64%", "C · 12%"]
    assert re.findall(r'data-testid="next-entry">\s*<td><a href="/contacts/(\d+)/"', detail) == [
        str(likely.pk),
        str(unlikely.pk),
        str(unscored.pk),
    ]
    # The choice holds for the session: the call screen starts with the likeliest.
    on_screen = screen[screen.index('data-testid="call-contact"') :]
    assert re.search(r'class="h2 mb-1">([^<]+)<', on_screen).group(1) == likely.full_name
    assert re.search(r'data-testid="entry-chance">([^<]+)<', on_screen).group(1) == "A · 64%"


def test_the_usual_order_comes_back_when_chosen(campaign, sales_a, client_for):
    unscored, likely = _people(sales_a, 2)
    for person in (unscored, likely):
        CallListEntry.objects.create(campaign=campaign, contact=person)
    _scored(likely, 0.64, "A")
    client = client_for(sales_a)
    client.get(f"{campaign.get_absolute_url()}?order=chance")

    screen = client.get(reverse("outreach:call", args=[campaign.pk]) + "?order=").content.decode()

    on_screen = screen[screen.index('data-testid="call-contact"') :]
    assert re.search(r'class="h2 mb-1">([^<]+)<', on_screen).group(1) == unscored.full_name
    assert "not scored yet" in on_screen
