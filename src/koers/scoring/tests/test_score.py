"""The engagement score is the sum of its events' faded rule points, and says why."""

from datetime import timedelta

import pytest
from django.utils import timezone

from koers.activities.models import Activity
from koers.core.models import Notification
from koers.crm.factories import ContactFactory
from koers.crm.models import LifecycleStage
from koers.scoring import services
from koers.scoring.models import EngagementRule, EngagementScore, EngagementSettings, ScoreHistory
from koers.scoring.selectors import engagement_explained, score_now
from koers.tracking.models import Event
from koers.tracking.services.events import events_store

NOW = timezone.now().replace(microsecond=0)
HAND_COMPUTED = 14 + 1 * 0.5 + 8 * 0.25  # see `history` below


@pytest.fixture
def rules(db):
    EngagementRule.objects.all().delete()
    EngagementSettings.objects.all().delete()
    EngagementSettings.objects.create(half_life_days=10, mql_threshold=15)
    return [
        EngagementRule.objects.create(
            name="Pricing", kind="page_view", pattern="/Pricing", points=10
        ),
        EngagementRule.objects.create(name="Any page", kind="page_view", points=1),
        EngagementRule.objects.create(name="Download", kind="download", points=8),
        EngagementRule.objects.create(
            name="Long read", kind="page_view", min_engaged_seconds=60, points=3
        ),
        EngagementRule.objects.create(name="Off", kind="form_submit", points=50, active=False),
    ]


def event(contact, kind, days_ago, url="", engaged=None):
    return Event.objects.create(
        contact=contact,
        kind=kind,
        url=url,
        engaged_seconds=engaged,
        occurred_at=NOW - timedelta(days=days_ago),
    )


@pytest.fixture
def history(rules, sales_a):
    contact = ContactFactory(owner=sales_a, lifecycle_stage=LifecycleStage.LEAD)
    event(contact, "page_view", 0, "https://example.nl/pricing", engaged=90)  # 10 + 1 + 3
    event(contact, "page_view", 10, "https://example.nl/blog", engaged=5)  # 1 × ½
    event(contact, "download", 20, "https://example.nl/a.pdf")  # 8 × ¼
    event(contact, "form_submit", 5, "https://example.nl/contact")  # its rule is off
    event(ContactFactory(owner=sales_a), "download", 0)  # someone else's
    return contact


def test_the_score_is_the_sum_of_faded_rule_points(history):
    scores = services.contacts_score(contact_ids=[history.pk], at=NOW)
    assert scores[history.pk] == pytest.approx(HAND_COMPUTED)
    row = EngagementScore.objects.get(contact=history)
    assert row.score == pytest.approx(HAND_COMPUTED)
    assert ScoreHistory.objects.get(contact=history).score == pytest.approx(HAND_COMPUTED)


def test_why_lists_every_event_and_rule_and_adds_up_to_the_score(history):
    explained = engagement_explained(contact=history, at=NOW)
    assert explained.score == pytest.approx(HAND_COMPUTED)
    assert sum(item.points for item in explained.contributions) == pytest.approx(explained.score)
    assert sorted((item.rule.name, round(item.points, 6)) for item in explained.contributions) == [
        ("Any page", 0.5),
        ("Any page", 1.0),
        ("Download", 2.0),
        ("Long read", 3.0),
        ("Pricing", 10.0),
    ]
    assert explained.level == 4  # above the threshold of 15


def test_the_full_recompute_gives_the_same_scores(history):
    other = ContactFactory()
    EngagementScore.objects.create(contact=other, score=99, scored_at=NOW)  # no events any more
    assert services.scores_recompute(at=NOW) == 2
    assert EngagementScore.objects.get(contact=history).score == pytest.approx(HAND_COMPUTED)
    assert EngagementScore.objects.get(contact=other).score == 0


def test_a_pattern_with_like_wildcards_matches_only_literally(rules):
    EngagementRule.objects.create(name="Percent", kind="page_view", pattern="100%_off", points=7)
    matching, not_matching = ContactFactory(), ContactFactory()
    event(matching, "page_view", 0, "https://example.nl/100%_off")
    event(not_matching, "page_view", 0, "https://example.nl/100xxoff")
    services.scores_recompute(at=NOW)
    assert EngagementScore.objects.get(contact=matching).score == pytest.approx(8)
    assert EngagementScore.objects.get(contact=not_matching).score == pytest.approx(1)
    assert services.contacts_score(contact_ids=[matching.pk, not_matching.pk], at=NOW) == {
        matching.pk: pytest.approx(8),
        not_matching.pk: pytest.approx(1),
    }


def test_scores_fade_by_half_each_half_life(history):
    services.contacts_score(contact_ids=[history.pk], at=NOW)
    row = EngagementScore.objects.get(contact=history)
    later = NOW + timedelta(days=10)
    assert score_now(row, at=later, half_life_days=10) == pytest.approx(HAND_COMPUTED / 2)
    services.scores_fade(at=later)
    assert EngagementScore.objects.get(contact=history).score == pytest.approx(HAND_COMPUTED / 2)
    assert engagement_explained(contact=history, at=later).score == pytest.approx(HAND_COMPUTED / 2)


def test_crossing_the_threshold_makes_an_mql_and_gives_the_owner_a_task(history, sales_a):
    services.contacts_score(contact_ids=[history.pk], at=NOW)
    history.refresh_from_db()
    assert history.lifecycle_stage == LifecycleStage.MQL
    task = Activity.objects.get(contact=history, done_at__isnull=True)
    assert task.owner == sales_a
    assert f"score {round(HAND_COMPUTED)}" in task.subject
    assert (
        Notification.objects.filter(recipient=sales_a, url=history.get_absolute_url()).count() == 1
    )
    # Once: scoring again does not act again.
    services.contacts_score(contact_ids=[history.pk], at=NOW)
    assert Activity.objects.filter(contact=history).count() == 1


def test_below_the_threshold_nothing_happens(rules, sales_a):
    contact = ContactFactory(owner=sales_a, lifecycle_stage=LifecycleStage.LEAD)
    event(contact, "page_view", 0, "https://example.nl/pricing")
    assert services.contacts_score(contact_ids=[contact.pk], at=NOW)[contact.pk] == 11
    contact.refresh_from_db()
    assert contact.lifecycle_stage == LifecycleStage.LEAD
    assert not Activity.objects.filter(contact=contact).exists()


def test_stored_events_update_the_score_of_their_contact(
    rules, sales_a, django_capture_on_commit_callbacks
):
    from koers.tracking.models import Site, Visitor

    contact = ContactFactory(owner=sales_a)
    site = Site.objects.create(name="Web", allowed_domains="example.nl")
    Visitor.objects.create(site=site, uid="v" * 20, contact=contact, first_seen=NOW, last_seen=NOW)
    record = {
        "s": site.pk,
        "v": "v" * 20,
        "t": NOW.timestamp(),
        "e": [{"k": "download", "u": "https://example.nl/", "h": "https://example.nl/a.pdf"}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        events_store([record])  # scoring runs once the events are committed
    assert EngagementScore.objects.get(contact=contact).score == pytest.approx(8, rel=1e-3)


def test_someone_already_further_along_is_not_alerted(history, sales_a):
    history.lifecycle_stage = LifecycleStage.CUSTOMER
    history.save()
    services.contacts_score(contact_ids=[history.pk], at=NOW)
    history.refresh_from_db()
    assert history.lifecycle_stage == LifecycleStage.CUSTOMER
    assert not Activity.objects.filter(contact=history).exists()
    assert not Notification.objects.filter(recipient=sales_a).exists()
    assert EngagementScore.objects.get(contact=history).mql_at is not None


def test_events_long_past_count_for_nothing_and_never_break_the_recompute(rules):
    EngagementSettings.objects.update(half_life_days=1)
    contact = ContactFactory()
    event(contact, "download", 3 * 365)  # some 1,100 halvings ago
    event(contact, "download", 1)
    assert services.scores_recompute(at=NOW) == 1
    assert EngagementScore.objects.get(contact=contact).score == pytest.approx(4)
    assert services.contacts_score(contact_ids=[contact.pk], at=NOW)[contact.pk] == pytest.approx(4)
    EngagementScore.objects.filter(contact=contact).update(scored_at=NOW - timedelta(days=2000))
    services.scores_fade(at=NOW)
    assert EngagementScore.objects.get(contact=contact).score == pytest.approx(0)


def test_patterns_match_accented_capitals_in_the_recompute_as_per_contact(rules):
    EngagementRule.objects.create(name="Café", kind="page_view", pattern="Café", points=10)
    contact = ContactFactory()
    Event.objects.create(contact=contact, kind="page_view", title="CAFÉ menu", occurred_at=NOW)
    assert services.contacts_score(contact_ids=[contact.pk], at=NOW)[contact.pk] == 11
    services.scores_recompute(at=NOW)
    assert EngagementScore.objects.get(contact=contact).score == pytest.approx(11)


def test_a_stage_of_a_deal_the_user_may_not_see_shows_its_points_but_not_its_name(
    rules, sales_a, sales_b
):
    EngagementRule.objects.create(name="Stage", kind="stage_reached", points=30)
    from koers.pipeline.factories import DealFactory

    contact = ContactFactory(owner=sales_a)
    hidden = DealFactory(owner=sales_b)
    Event.objects.create(
        contact=contact,
        kind="stage_reached",
        title="Behoefteanalyse",
        properties={"deal": hidden.pk, "stage": "needs"},
        occurred_at=NOW,
    )
    mine = engagement_explained(contact=contact, user=sales_a, at=NOW)
    theirs = engagement_explained(contact=contact, user=sales_b, at=NOW)
    assert mine.score == theirs.score == pytest.approx(30)
    assert [item.label for item in mine.contributions] == [""]
    assert [item.label for item in theirs.contributions] == ["Behoefteanalyse"]
