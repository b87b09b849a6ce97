from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from koers.activities import selectors, services, timeline
from koers.activities.models import AccountTeamMember, Activity
from koers.core.models import Notification
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.pipeline.factories import DealFactory, PipelineFactory
from koers.pipeline.models import StageChange


@pytest.fixture
def company_a(sales_a):
    return CompanyFactory(owner=sales_a, legal_form="bv")


@pytest.fixture
def contact_a(company_a, sales_a):
    return ContactFactory(company=company_a, owner=sales_a)


def test_a_call_on_a_contact_lands_on_the_contact_and_its_company(sales_a, contact_a):
    activity = services.activity_log(
        actor=sales_a, kind="call", subject="  Spoke   to the   CFO ", contact=contact_a
    )
    assert activity.company == contact_a.company
    assert activity.subject == "Spoke to the CFO"
    assert activity.done_at is not None
    assert activity.owner == sales_a
    for subject, record in (("contact", contact_a), ("company", contact_a.company)):
        page = timeline.timeline_page(user=sales_a, subject=subject, record_id=record.pk)
        assert [entry.item for entry in page.entries] == [activity]


def test_logging_needs_a_line_a_kind_and_a_record(sales_a, contact_a):
    with pytest.raises(ValidationError) as error:
        services.activity_log(actor=sales_a, kind="fax", subject=" ", contact=contact_a)
    assert set(error.value.message_dict) == {"kind", "subject"}
    with pytest.raises(ValidationError):
        services.activity_log(actor=sales_a, kind="note", subject="Floating")
    assert not Activity.objects.exists()


def test_nobody_logs_on_a_record_they_cannot_see_and_read_only_logs_nothing(
    sales_b, read_only_a, contact_a
):
    with pytest.raises(PermissionDenied):
        services.activity_log(actor=sales_b, kind="note", subject="Peek", contact=contact_a)
    with pytest.raises(PermissionDenied):
        services.activity_log(actor=read_only_a, kind="note", subject="Hi", contact=contact_a)
    assert not Activity.objects.exists()


def test_a_long_line_is_kept_whole_in_the_details(sales_a, contact_a):
    line = "woord " * 60
    activity = services.activity_log(actor=sales_a, kind="note", subject=line, contact=contact_a)
    assert len(activity.subject) <= 200
    assert activity.body.startswith(line.strip())


def test_a_mention_tells_the_colleague_with_a_link_to_the_record(
    sales_a, colleague_a, manager, contact_a
):
    services.activity_log(
        actor=sales_a,
        kind="note",
        subject="@yara can you join the demo? cc @SANNE, mail me at daan@example.nl @nobody",
        contact=contact_a,
    )
    notified = Notification.objects.order_by("recipient__username")
    assert [(n.recipient, n.url) for n in notified] == [
        (manager, contact_a.get_absolute_url()),
        (colleague_a, contact_a.get_absolute_url()),
    ]
    assert "noemde je bij" in notified[1].message  # in her language: Dutch
    assert set(Activity.objects.get().mentions.all()) == {colleague_a, manager}


def test_the_timeline_merges_sources_newest_first_and_pages_without_gaps(sales_a, company_a):
    pipeline = PipelineFactory()
    deal = DealFactory(pipeline=pipeline, company=company_a, owner=sales_a)
    start = timezone.now() - timedelta(days=10)
    same_moment = start + timedelta(days=5)
    for day in range(10):
        services.activity_log(
            actor=sales_a,
            kind="call" if day % 2 else "note",
            subject=f"day {day}",
            company=company_a,
            occurred_at=same_moment if day in (4, 5) else start + timedelta(days=day),
        )
    stage = pipeline.stages.order_by("position")[1]
    for at in (start, same_moment):  # ties across sources are ordered too
        StageChange.objects.create(deal=deal, to_stage=stage, actor=sales_a, at=at)

    seen, cursor = [], None
    while True:
        page = timeline.timeline_page(
            user=sales_a, subject="company", record_id=company_a.pk, before=cursor, limit=3
        )
        seen += page.entries
        if page.next_cursor is None:
            break
        cursor = timeline.Cursor.decode(page.next_cursor.encode())
    assert len(seen) == 10 + deal.stage_changes.count()
    assert len({(entry.source, entry.id) for entry in seen}) == len(seen)
    moments = [entry.at for entry in seen]
    assert moments == sorted(moments, reverse=True)

    calls = timeline.timeline_page(
        user=sales_a, subject="company", record_id=company_a.pk, kinds={"call"}
    )
    assert {entry.item.subject for entry in calls.entries} == {f"day {d}" for d in (1, 3, 5, 7, 9)}
    stages = timeline.timeline_page(
        user=sales_a, subject="deal", record_id=deal.pk, kinds={"stage"}
    )
    assert next(entry.item.to_stage for entry in stages.entries) == stage


def test_a_company_timeline_hides_what_concerns_deals_the_user_may_not_see(
    sales_a, sales_b, manager, company_a
):
    deal = DealFactory(pipeline=PipelineFactory(), company=company_a, owner=sales_b)
    StageChange.objects.create(deal=deal, to_stage=deal.stage, actor=sales_b)
    services.activity_log(actor=manager, kind="call", subject="Over de deal", deal=deal)
    services.activity_log(actor=manager, kind="note", subject="Over het bedrijf", company=company_a)
    for user, expected in ((sales_a, {"Over het bedrijf"}), (manager, None)):
        page = timeline.timeline_page(user=user, subject="company", record_id=company_a.pk)
        shown = {e.item.subject for e in page.entries if e.source == "activity"}
        if expected is None:
            assert shown == {"Over de deal", "Over het bedrijf"}
            assert len([e for e in page.entries if e.source == "stage"]) == 1
        else:
            assert shown == expected
            assert not [e for e in page.entries if e.source == "stage"]


def test_a_cursor_that_is_not_one_is_ignored():
    assert timeline.Cursor.decode("") is None
    assert timeline.Cursor.decode("2026-13-45T00:00~activity~1") is None
    assert timeline.Cursor.decode("2026-01-01T00:00~activity~x") is None
    assert timeline.Cursor.decode("2026-01-01T00:00~activity~1") is None  # no time zone
    assert timeline.Cursor.decode("2026-01-01T00:00+00:00~activity~7").id == 7


def test_my_day_sorts_planned_work_into_overdue_today_and_upcoming(sales_a, colleague_a, contact_a):
    now = timezone.now()
    today = timezone.localdate()

    def plan(subject, due_at, owner=sales_a):
        return services.activity_log(
            actor=sales_a,
            kind="task",
            subject=subject,
            contact=contact_a,
            due_at=due_at,
            owner=owner,
            done=False,
        )

    late = plan("late", now - timedelta(days=2))
    due = plan("due", selectors.start_of(today) + timedelta(hours=23))
    soon = plan("soon", now + timedelta(days=3))
    plan("far", now + timedelta(days=30))
    plan("hers", now, owner=colleague_a)
    day = selectors.my_day(user=sales_a, today=today)
    assert (day.overdue, day.today, day.upcoming) == ([late], [due], [soon])
    services.activity_complete(actor=sales_a, activity=due)
    day = selectors.my_day(user=sales_a, today=today)
    assert day.today == []
    assert day.done_today == 1
    assert Notification.objects.filter(
        recipient=colleague_a, message__contains="gaf je een taak"
    ).exists()


def test_reminders_are_sent_once_when_work_comes_due(sales_a, contact_a):
    now = timezone.now()
    services.activity_log(
        actor=sales_a,
        kind="call",
        subject="Call back Jan",
        contact=contact_a,
        due_at=now + timedelta(hours=1),
        done=False,
    )
    assert services.reminders_send(now=now) == 0
    assert services.reminders_send(now=now + timedelta(hours=2)) == 1
    assert services.reminders_send(now=now + timedelta(hours=3)) == 0
    reminder = Notification.objects.get(recipient=sales_a)
    assert "Call back Jan" in reminder.message
    assert reminder.url == contact_a.get_absolute_url()


def test_only_author_holder_or_manager_may_complete_or_delete(
    sales_a, colleague_a, manager, contact_a
):
    activity = services.activity_log(actor=sales_a, kind="note", subject="Mine", contact=contact_a)
    with pytest.raises(PermissionDenied):
        services.activity_delete(actor=colleague_a, activity=activity)
    services.activity_delete(actor=manager, activity=activity)
    assert not Activity.objects.exists()


def test_quick_log_is_one_line_and_one_click_and_shows_on_the_page(client_for, sales_a, contact_a):
    client = client_for(sales_a)
    response = client.post(
        reverse("activities:log", args=["contact", contact_a.pk]),
        {"subject": "Voicemail ingesproken", "kind": "call"},
    )
    assert response.status_code == 302
    page = client.get(contact_a.get_absolute_url()).content.decode()
    assert "Voicemail ingesproken" in page
    assert Activity.objects.get().kind == "call"


def test_timeline_views_answer_only_for_visible_records(client_for, sales_b, sales_a, contact_a):
    services.activity_log(actor=sales_a, kind="note", subject="Secret plan", contact=contact_a)
    client = client_for(sales_b)
    for url in (
        reverse("activities:timeline", args=["contact", contact_a.pk]),
        reverse("activities:timeline", args=["company", contact_a.company_id]),
        reverse("activities:timeline", args=["widget", contact_a.pk]),
    ):
        assert client.get(url).status_code == 404
    response = client.post(
        reverse("activities:log", args=["contact", contact_a.pk]),
        {"subject": "x", "kind": "note"},
    )
    assert response.status_code == 404
    activity = Activity.objects.get()
    for name in ("activities:done", "activities:delete"):
        assert client.post(reverse(name, args=[activity.pk])).status_code == 404
    assert client.get(reverse("activities:calendar", args=[activity.pk])).status_code == 404
    mine = client_for(sales_a).get(reverse("activities:timeline", args=["contact", contact_a.pk]))
    assert "Secret plan" in mine.content.decode()


def test_the_kind_filter_and_older_pages_over_http(client_for, sales_a, contact_a):
    for number in range(30):
        services.activity_log(
            actor=sales_a,
            kind="call" if number < 5 else "note",
            subject=f"entry {number:02}",
            contact=contact_a,
            occurred_at=timezone.now() - timedelta(minutes=number),
        )
    client = client_for(sales_a)
    url = reverse("activities:timeline", args=["contact", contact_a.pk])
    calls = client.get(url, {"kind": "call"}).content.decode()
    assert calls.count('data-testid="entry-call"') == 5
    assert "entry-note" not in calls
    first = client.get(url).content.decode()
    assert "entry 00" in first
    assert "entry 29" not in first
    assert "timeline-more" in first
    cursor = first.split("before=")[1].split('"')[0].replace("&amp;", "&")
    older = client.get(f"{url}?before={cursor}").content.decode()
    assert "entry 29" in older
    assert "entry 00" not in older
    assert "timeline-more" not in older


def test_account_team_add_and_remove(client_for, sales_a, colleague_a, company_a):
    client = client_for(sales_a)
    client.post(
        reverse("activities:account-team-add", args=[company_a.pk]),
        {"user": colleague_a.pk, "role": "csm"},
    )
    member = AccountTeamMember.objects.get()
    assert (member.user, member.role) == (colleague_a, "csm")
    assert "Customer success manager" in client.get(company_a.get_absolute_url()).content.decode()
    assert Notification.objects.filter(recipient=colleague_a).exists()
    client.post(reverse("activities:account-team-remove", args=[member.pk]))
    assert not AccountTeamMember.objects.exists()


def test_a_meeting_exports_as_an_ics_invite(client_for, sales_a, contact_a):
    meeting = services.activity_log(
        actor=sales_a,
        kind="meeting",
        subject="Demo; with, the board",
        body="Agenda:\nprijzen",
        contact=contact_a,
        due_at=timezone.now() + timedelta(days=2),
        done=False,
    )
    response = client_for(sales_a).get(reverse("activities:calendar", args=[meeting.pk]))
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/calendar")
    assert "SUMMARY:Demo\\; with\\, the board\r\n" in text
    assert "DESCRIPTION:Agenda:\\nprijzen" in text
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_my_day_page_lists_overdue_work(client_for, sales_a, contact_a):
    services.activity_log(
        actor=sales_a,
        kind="call",
        subject="Bel Jan terug",
        contact=contact_a,
        due_at=timezone.now() - timedelta(days=1),
        done=False,
    )
    page = client_for(sales_a).get(reverse("activities:my-day")).content.decode()
    overdue = page.split('data-testid="overdue"')[1].split('data-testid="today"')[0]
    assert "Bel Jan terug" in overdue
