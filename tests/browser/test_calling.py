"""An agent works a call list; a colleague is mentioned in a note."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from koers.activities.models import Activity
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.outreach import services
from koers.outreach.models import CallListEntry

from .conftest import log_in

pytestmark = pytest.mark.browser


def speak_english(*users):
    for user in users:
        user.language = "en"
        user.save(update_fields=["language"])


@pytest.fixture
def campaign(manager, sales_a):
    campaign = services.campaign_save(
        actor=manager,
        agents=[sales_a],
        contact_filter={},
        name="Najaarsronde",
        goal="Afspraken voor de accountmanagers",
        script="Goedemorgen, u spreekt met Daan van Stroomlijn.",
    )
    return services.campaign_set_status(actor=manager, campaign=campaign, status="active")


def test_an_agent_works_through_three_people_and_a_call_back_returns_on_its_date(
    open_page, campaign, sales_a, colleague_a, demo_password
):
    speak_english(sales_a, colleague_a)
    company = CompanyFactory(name="Veldhuis Logistiek B.V.", legal_form="bv", owner=sales_a)
    same = {"company": company, "owner": sales_a, "phone": "+31301234567", "name_prefix": ""}
    same |= {"dmu_role": "decision_maker", "lifecycle_stage": "lead"}  # the list's order is id
    people = [
        ContactFactory(first_name=first, last_name=last, **same)
        for first, last in (("Anna", "Smit"), ("Bram", "Mulder"), ("Carla", "Bos"))
    ]
    for person in people:
        CallListEntry.objects.create(campaign=campaign, contact=person)
    anna, bram, carla = people
    # Within the session's two weeks, whatever the hour the test runs.
    back_on = timezone.localdate() + timedelta(days=3)

    page = open_page()
    log_in(page, "daan", demo_password)
    page.goto(f"/campaigns/{campaign.pk}/call/")
    expect(page.get_by_test_id("call-basis")).to_contain_text("Business call to a company")
    expect(page.get_by_test_id("right-to-object")).to_be_visible()

    # Anna: not interested, with the reason.
    expect(page.get_by_test_id("call-contact")).to_contain_text("Anna Smit")
    page.get_by_test_id("outcome-not_interested").click()
    page.fill("#id_reason", "Net een ander pakket gekozen")
    page.get_by_test_id("confirm-not_interested").click()

    # Bram: call back in three days.
    expect(page.get_by_test_id("call-contact")).to_contain_text("Bram Mulder")
    page.get_by_test_id("outcome-call_back").click()
    page.get_by_test_id("call-back-on").fill(back_on.isoformat())
    page.get_by_test_id("confirm-call_back").click()

    # Carla: a meeting for Yara, with what was learnt.
    expect(page.get_by_test_id("call-contact")).to_contain_text("Carla Bos")
    page.get_by_test_id("outcome-meeting_booked").click()
    page.fill("#id_meeting_on", (timezone.localdate() + timedelta(days=3)).isoformat())
    page.fill("#id_meeting_time", "14:30")
    page.select_option("#id_account_executive", str(colleague_a.pk))
    page.fill("#id_qualification", "Budget in Q1; de CFO beslist")
    page.get_by_test_id("confirm-meeting_booked").click()
    expect(page.get_by_test_id("nobody")).to_be_visible()

    # Each timeline shows the call and how it went.
    for person, outcome in (
        (anna, "Not interested"),
        (bram, "Call back later"),
        (carla, "Meeting booked"),
    ):
        page.goto(person.get_absolute_url())
        call = page.get_by_test_id("timeline").get_by_test_id("entry-call")
        expect(call).to_have_count(1)
        expect(call).to_contain_text(outcome)
        expect(call).to_contain_text("Najaarsronde")
    meeting = Activity.objects.get(kind="meeting")
    assert meeting.owner == colleague_a
    assert timezone.localtime(meeting.due_at).time() == time(14, 30)

    # On the call-back date, Bram is back on the list and on Daan's day.
    moment = timezone.make_aware(datetime.combine(back_on, time(9, 30)))
    with time_machine.travel(moment, tick=True):
        page.goto(f"/campaigns/{campaign.pk}/call/")
        expect(page.get_by_test_id("call-contact")).to_contain_text("Bram Mulder")
        page.goto("/my-day/")
        expect(page.get_by_test_id("today")).to_contain_text("Bram Mulder")


def test_a_mentioned_colleague_sees_the_notification_after_logging_in(
    open_page, sales_a, colleague_a, demo_password
):
    speak_english(sales_a, colleague_a)
    contact = ContactFactory(first_name="Joost", name_prefix="", last_name="Kramer", owner=sales_a)
    page = open_page()
    log_in(page, "daan", demo_password)
    page.goto(contact.get_absolute_url())
    page.get_by_test_id("quick-log-line").fill("@yara kun jij de offerte met Joost bespreken?")
    page.get_by_test_id("log-note").click()
    note = page.get_by_test_id("timeline").get_by_test_id("entry-note")
    expect(note).to_contain_text("kun jij de offerte")
    expect(note.locator(".mention")).to_have_text("@yara")
    page.context.clear_cookies()

    page.goto("/login/")
    log_in(page, "yara", demo_password)
    expect(page.get_by_test_id("notifications")).to_contain_text("1")
    page.get_by_test_id("notifications").click()
    expect(page.get_by_text("Daan Bakker mentioned you on Joost Kramer")).to_be_visible()
