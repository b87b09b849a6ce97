from datetime import UTC, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from koers.activities import services as activity_services
from koers.activities.models import Activity
from koers.core.models import Notification
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Contact
from koers.outreach import selectors, services
from koers.outreach.models import CallCampaign, CallListEntry


@pytest.fixture
def campaign(manager, sales_a):
    campaign = services.campaign_save(
        actor=manager,
        agents=[sales_a],
        contact_filter={"lifecycle_stage": "lead", "nonsense": "x"},
        name="Najaarsbelronde",
        goal="Afspraken voor de accountmanagers",
        script="Goedemorgen, u spreekt met …",
        cool_off_days=365,
        recent_call_days=30,
        max_attempts=2,
    )
    return services.campaign_set_status(actor=manager, campaign=campaign, status="active")


@pytest.fixture
def company(sales_a):
    return CompanyFactory(owner=sales_a, legal_form="bv")


def _person(company, owner, **fields):
    fields = {"phone": "+31201234567", "lifecycle_stage": "lead", **fields}
    return ContactFactory(company=company, owner=owner, **fields)


def _entry(campaign, contact):
    return CallListEntry.objects.create(campaign=campaign, contact=contact)


def test_building_the_list_adds_whom_the_rules_allow_and_says_why_others_are_left_off(
    manager, campaign, company, sales_a
):
    allowed = _person(company, sales_a)
    _person(company, sales_a, do_not_call=True)
    _person(None, sales_a)  # a consumer without consent
    _person(company, sales_a, lifecycle_stage="customer")  # not in the filter
    report = services.campaign_build_list(actor=manager, campaign=campaign)
    assert report["added"] == 1
    assert report["matched"] == 3
    assert report["excluded"] == {"refused": 1, "no_lawful_basis": 1}
    assert list(campaign.entries.values_list("contact", flat=True)) == [allowed.pk]
    assert campaign.contact_filter == {"lifecycle_stage": "lead"}
    again = services.campaign_build_list(actor=manager, campaign=campaign)
    assert again["added"] == 0
    assert campaign.entries.count() == 1


def test_only_managers_marketing_and_admins_set_campaigns_up(sales_a, read_only_a, manager):
    with pytest.raises(PermissionDenied):
        services.campaign_save(
            actor=sales_a, agents=[sales_a], contact_filter={}, name="x", goal="y"
        )
    with pytest.raises(ValidationError) as error:
        services.campaign_save(
            actor=manager, agents=[read_only_a], contact_filter={}, name="x", goal="y"
        )
    assert "agents" in error.value.message_dict
    assert not CallCampaign.objects.exists()


def test_an_objection_is_one_click_and_means_never_again(campaign, company, sales_a, manager):
    person = _person(company, sales_a)
    other = services.campaign_save(
        actor=manager, agents=[sales_a], contact_filter={}, name="Ander", goal="g"
    )
    CallListEntry.objects.create(campaign=other, contact=person)
    entry = _entry(campaign, person)
    services.call_record(actor=sales_a, entry=entry, outcome="objected")
    person.refresh_from_db()
    assert person.do_not_call
    assert person.objected_at is not None
    assert not CallListEntry.objects.filter(contact=person, state="open").exists()
    services.campaign_set_status(actor=manager, campaign=other, status="active")
    CallListEntry.objects.filter(contact=person).update(state="open")  # even if reopened
    for each in (campaign, other):
        assert not selectors.call_list(campaign=each).filter(contact=person).exists()


def test_no_answer_comes_back_tomorrow_until_the_attempts_run_out(campaign, company, sales_a):
    person = _person(company, sales_a)
    entry = _entry(campaign, person)
    today = timezone.localdate()
    services.call_record(actor=sales_a, entry=entry, outcome="no_answer")
    assert not selectors.call_list(campaign=campaign).exists()
    tomorrow = today + timedelta(days=1)
    assert selectors.call_list(campaign=campaign, today=tomorrow).get().contact == person
    services.call_record(actor=sales_a, entry=entry, outcome="voicemail")
    entry.refresh_from_db()
    assert entry.state == "done"  # max_attempts = 2
    assert Activity.objects.filter(contact=person, kind="call").count() == 2


def test_outcomes_check_what_they_need(campaign, company, sales_a):
    entry = _entry(campaign, _person(company, sales_a))
    cases = {
        "not_interested": {},
        "call_back": {"call_back_on": timezone.localdate()},
        "meeting_booked": {"meeting_at": timezone.now() - timedelta(hours=1)},
        "qualified": {},
    }
    for outcome, extra in cases.items():
        with pytest.raises(ValidationError):
            services.call_record(actor=sales_a, entry=entry, outcome=outcome, **extra)
    entry.refresh_from_db()
    assert entry.attempts == 0
    assert not Activity.objects.exists()


def test_a_booked_meeting_goes_to_the_account_executive_with_an_invitation(
    campaign, company, sales_a, colleague_a, django_capture_on_commit_callbacks
):
    colleague_a.email = "yara@example.nl"
    colleague_a.save()
    person = _person(company, sales_a)
    when = timezone.now() + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        call = services.call_record(
            actor=sales_a,
            entry=_entry(campaign, person),
            outcome="meeting_booked",
            meeting_at=when,
            account_executive=colleague_a,
            qualification="Budget in Q1, the CFO decides",
        )
    meeting = call.meeting
    assert (meeting.kind, meeting.owner, meeting.due_at) == ("meeting", colleague_a, when)
    assert meeting.body == "Budget in Q1, the CFO decides"
    note = Notification.objects.get(recipient=colleague_a)
    assert "heeft een afspraak voor je gemaakt" in note.message
    assert note.url == person.get_absolute_url()
    [invitation] = mail.outbox
    assert invitation.to == ["yara@example.nl"]
    _name, content, kind = invitation.attachments[0]
    assert kind.startswith("text/calendar")
    assert "BEGIN:VEVENT" in content
    assert when.astimezone(UTC).strftime("DTSTART:%Y%m%dT%H%M%SZ") in content
    # The account executive's verdict shows in the results.
    activity_services.activity_complete(actor=colleague_a, activity=meeting, outcome="qualified")
    results = selectors.campaign_results(campaign=campaign)
    assert (results.total.meetings_booked, results.total.meetings_held) == (1, 1)
    assert results.total.qualified == 1


def test_wrong_person_adds_the_right_one_and_send_information_plans_the_email(
    campaign, company, sales_a
):
    services.call_record(
        actor=sales_a,
        entry=_entry(campaign, _person(company, sales_a)),
        outcome="wrong_person",
        right_person="Petra van Dijk",
    )
    right = Contact.objects.get(first_name="Petra")
    assert (right.last_name, right.company) == ("van Dijk", company)
    assert campaign.entries.filter(contact=right, state="open").exists()
    services.call_record(
        actor=sales_a,
        entry=_entry(campaign, _person(company, sales_a)),
        outcome="send_information",
        note="Brochure over de koppeling",
    )
    task = Activity.objects.get(kind="email", done_at__isnull=True)
    assert task.owner == sales_a
    assert task.body == "Brochure over de koppeling"


def test_results_count_attempts_reach_and_conversations_per_agent_and_day(
    campaign, company, sales_a, colleague_a, manager
):
    campaign.agents.add(colleague_a)
    now = timezone.now()
    outcomes = [
        (sales_a, "no_answer", 0),
        (sales_a, "conversation", 0),
        (sales_a, "wrong_person", 1),
        (colleague_a, "not_interested", 1),
    ]
    for agent, outcome, days in outcomes:
        services.call_record(
            actor=agent,
            entry=_entry(campaign, _person(company, sales_a)),
            outcome=outcome,
            reason="te duur",
            now=now - timedelta(days=days),
        )
    results = selectors.campaign_results(campaign=campaign)
    by_agent = {row.label: row for row in results.by_agent}
    daan = by_agent["Daan Bakker"]
    assert (daan.attempts, daan.reached, daan.conversations) == (3, 2, 1)
    assert daan.reach_rate == pytest.approx(2 / 3)
    assert by_agent["Yara El Amrani"].conversations == 1
    assert [row.attempts for _day, row in results.by_day] == [2, 2]


def test_campaign_pages_are_for_its_agents_and_those_who_run_campaigns(
    client_for, campaign, sales_a, colleague_a, sales_b, manager, company
):
    _entry(campaign, _person(company, sales_a))
    detail = reverse("outreach:campaign-detail", args=[campaign.pk])
    call = reverse("outreach:call", args=[campaign.pk])
    for user in (sales_a, manager):
        assert client_for(user).get(detail).status_code == 200
    for user in (colleague_a, sales_b):
        client = client_for(user)
        assert client.get(detail).status_code == 404
        assert client.get(call).status_code == 404
        assert campaign.name not in client.get(reverse("outreach:campaign-list")).content.decode()
    assert client_for(sales_a).get(reverse("outreach:campaign-create")).status_code == 403
    build = reverse("outreach:campaign-build", args=[campaign.pk])
    assert client_for(sales_a).post(build).status_code == 403


def test_the_call_screen_says_why_the_call_is_allowed_and_starts_with_the_right_to_object(
    client_for, campaign, sales_a, company
):
    person = _person(company, sales_a)
    _entry(campaign, person)
    page = client_for(sales_a).get(reverse("outreach:call", args=[campaign.pk])).content.decode()
    assert person.full_name in page
    assert "Business call to a company (Private limited company (BV))" in page
    assert page.index('data-testid="right-to-object"') < page.index("Goedemorgen, u spreekt met")
