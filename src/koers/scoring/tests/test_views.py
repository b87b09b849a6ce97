"""The scoring pages: everyone reads the rules, admins, managers and marketing change them,
and a contact's page says what the score is and why."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from koers.core.models import AuditEntry, User
from koers.crm.factories import ContactFactory
from koers.scoring.models import EngagementRule, EngagementScore, EngagementSettings, ScoreHistory
from koers.tracking.models import Event

CHANGING = [User.Role.ADMIN, User.Role.MANAGER, User.Role.MARKETING]
NOT_CHANGING = [User.Role.SALES, User.Role.SUCCESS, User.Role.READ_ONLY]
NOW = timezone.now().replace(microsecond=0)

RULE_POST = {
    "name": "Read the case studies",
    "category": "content",
    "kind": "page_view",
    "pattern": " /cases ",
    "min_engaged_seconds": "30",
    "points": "4",
    "active": "on",
}
SETTINGS_POST = {"half_life_days": "10", "mql_threshold": "80", "action": "notify"}


@pytest.fixture
def marketer(make_user, team_a):
    return make_user(User.Role.MARKETING, team_a, username="mila", first_name="Mila")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def rule(db):
    return EngagementRule.objects.get(kind="email_open")


def _event(contact, *, days_ago=0, url="https://stroomlijn.nl/", engaged=None, **fields):
    return Event.objects.create(
        contact=contact,
        kind=fields.pop("kind", Event.Kind.PAGE_VIEW),
        url=url,
        engaged_seconds=engaged,
        occurred_at=NOW - timedelta(days=days_ago),
        **fields,
    )


def _points(html: str) -> list[str]:
    return re.findall(r'data-testid="why-points">([^<]+)<', html)


def _score(html: str) -> str:
    return re.search(r'data-testid="engagement-score">([^<]+)<', html).group(1)


# Who may do what


@pytest.mark.parametrize("role", CHANGING + NOT_CHANGING)
def test_everyone_may_read_the_rules_grouped_with_progress_first(role, make_user, client_for):
    response = client_for(make_user(role)).get(reverse("scoring:rules"))
    assert response.status_code == 200
    html = response.content.decode()
    groups = [html.index(f'data-testid="rules-{name}"') for name in EngagementRule.Weight.values]
    assert groups == sorted(groups)
    quote, opened = (
        EngagementRule.objects.get(kind=kind).name for kind in ("quote_view", "email_open")
    )
    assert html.index(quote) < groups[1] < html.index(opened) < groups[2]
    assert "Points halve every 30 days" in html
    assert "progress in the buying process counts most" in html.lower()
    assert reverse("tracking:campaign-list") in html  # Marketing › Scoring
    may_change = role in CHANGING
    assert (reverse("scoring:rule-create") in html) is may_change
    assert (reverse("scoring:settings") in html) is may_change
    assert (reverse("scoring:recompute") in html) is may_change


@pytest.mark.parametrize("role", NOT_CHANGING)
def test_only_admins_managers_and_marketing_change_scoring(
    role, make_user, client_for, rule, django_capture_on_commit_callbacks
):
    client = client_for(make_user(role))
    edit = reverse("scoring:rule-edit", args=[rule.pk])
    delete = reverse("scoring:rule-delete", args=[rule.pk])
    with django_capture_on_commit_callbacks() as queued:
        for url in [reverse("scoring:rule-create"), edit, delete, reverse("scoring:settings")]:
            assert client.get(url).status_code == 403
        assert client.post(reverse("scoring:rule-create"), RULE_POST).status_code == 403
        assert client.post(edit, {**RULE_POST, "points": "99"}).status_code == 403
        assert client.post(delete).status_code == 403
        assert client.post(reverse("scoring:settings"), SETTINGS_POST).status_code == 403
        assert client.post(reverse("scoring:recompute")).status_code == 403
    assert queued == []
    rule.refresh_from_db()
    assert rule.points == 1
    assert not EngagementRule.objects.filter(name=RULE_POST["name"]).exists()
    assert EngagementSettings.current().half_life_days == 30


@pytest.mark.parametrize("role", CHANGING)
def test_admins_managers_and_marketing_open_every_form(role, make_user, client_for, rule):
    client = client_for(make_user(role))
    for url in [
        reverse("scoring:rule-create"),
        reverse("scoring:rule-edit", args=[rule.pk]),
        reverse("scoring:rule-delete", args=[rule.pk]),
        reverse("scoring:settings"),
    ]:
        response = client.get(url)
        assert response.status_code == 200
        assert reverse("tracking:campaign-list") in response.content.decode()


def test_recompute_takes_a_post_only(marketer, client_for):
    assert client_for(marketer).get(reverse("scoring:recompute")).status_code == 405


# Rules and settings


def test_a_rule_is_created_edited_and_deleted_through_the_pages(
    marketer, client_for, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("scoring:rule-create"), RULE_POST)
    assert response.status_code == 302
    assert response.url == reverse("scoring:rules")
    assert len(queued) == 1  # the full recompute
    created = EngagementRule.objects.get(name="Read the case studies")
    assert (created.category, created.kind, created.pattern) == ("content", "page_view", "/cases")
    assert (created.min_engaged_seconds, created.points, created.active) == (30, 4, True)
    page = client.get(reverse("scoring:rules")).content.decode()
    assert page.index('data-testid="rules-content"') < page.index(
        f'data-testid="rule-{created.pk}"'
    )

    edit = reverse("scoring:rule-edit", args=[created.pk])
    assert 'value="/cases"' in client.get(edit).content.decode()
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(edit, {**RULE_POST, "points": "6", "active": ""})
    assert response.status_code == 302
    assert len(queued) == 1
    created.refresh_from_db()
    assert (created.points, created.active) == (6, False)

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(edit, {**RULE_POST, "name": "Case studies", "points": "6"})
    assert len(queued) == 1  # switched on again
    with django_capture_on_commit_callbacks() as queued:
        client.post(edit, {**RULE_POST, "name": "Case studies (all)", "points": "6"})
    assert queued == []  # a new name gives no one other points

    delete = reverse("scoring:rule-delete", args=[created.pk])
    assert "Case studies (all)" in client.get(delete).content.decode()
    assert EngagementRule.objects.filter(pk=created.pk).exists()  # asking deletes nothing
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(delete)
    assert response.status_code == 302
    assert len(queued) == 1
    assert not EngagementRule.objects.filter(pk=created.pk).exists()
    trail = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(EngagementRule), object_id=created.pk
    ).order_by("pk")
    assert [entry.action for entry in trail] == [
        "created",
        "updated",
        "updated",
        "updated",
        "deleted",
    ]
    assert trail.first().changes["pattern"] == [None, "/cases"]


def test_a_rule_without_points_is_refused_with_the_field_named(marketer, client_for):
    response = client_for(marketer).post(
        reverse("scoring:rule-create"), {**RULE_POST, "points": ""}
    )
    assert response.status_code == 200
    assert "points" in response.context["form"].errors
    assert not EngagementRule.objects.filter(name=RULE_POST["name"]).exists()


def test_settings_refuse_a_half_life_of_zero_and_name_the_field(manager, client_for):
    response = client_for(manager).post(
        reverse("scoring:settings"), {**SETTINGS_POST, "half_life_days": "0"}
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["half_life_days"]
    assert "<strong>Half-life (days)</strong>" in response.content.decode()
    assert EngagementSettings.current().half_life_days == 30


@pytest.mark.parametrize(
    ("field", "value"),
    [("half_life_days", "366"), ("mql_threshold", "0"), ("mql_threshold", "10001")],
)
def test_settings_refuse_numbers_out_of_range(field, value, admin_user, client_for):
    response = client_for(admin_user).post(
        reverse("scoring:settings"), {**SETTINGS_POST, field: value}
    )
    assert list(response.context["form"].errors) == [field]


def test_a_new_half_life_scores_everyone_again(
    manager, client_for, frozen, django_capture_on_commit_callbacks
):
    contact = ContactFactory()
    _event(contact, days_ago=10, url="https://stroomlijn.nl/blog")  # Visited a page: 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(manager).post(reverse("scoring:settings"), SETTINGS_POST)
    assert response.status_code == 302
    current = EngagementSettings.current()
    assert (current.half_life_days, current.mql_threshold, current.action) == (10, 80, "notify")
    assert EngagementScore.objects.get(contact=contact).score == pytest.approx(0.5)
    entry = AuditEntry.objects.get(actor=manager, object_id=current.pk, action="updated")
    assert entry.changes["half_life_days"] == [30, 10]


# Recomputing


def test_recompute_queues_the_full_recompute_and_updates_scores(
    marketer, client_for, frozen, django_capture_on_commit_callbacks
):
    contact = ContactFactory()
    _event(contact, url="https://stroomlijn.nl/pricing")  # pricing 15 + page 1
    _event(contact, days_ago=30, url="https://stroomlijn.nl/pricing/", engaged=75)  # 19 × ½
    _event(contact, days_ago=60, url="https://stroomlijn.nl/over-ons")  # 1 × ¼
    _event(None, url="https://stroomlijn.nl/pricing")  # an unknown visitor
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client_for(marketer).post(reverse("scoring:recompute"), follow=True)
    assert len(queued) == 1
    assert response.redirect_chain == [(reverse("scoring:rules"), 302)]
    assert "All scores are being recomputed" in response.content.decode()
    row = EngagementScore.objects.get(contact=contact)
    assert row.score == pytest.approx(16 + 19 / 2 + 1 / 4)
    assert row.last_event_at == NOW


# The contact's panel


def test_the_contact_page_shows_the_score_and_why_and_the_numbers_add_up(
    sales_a, client_for, frozen
):
    settings = EngagementSettings.current()
    settings.half_life_days = 1
    settings.save()
    contact = ContactFactory(owner=sales_a, company__owner=sales_a)
    _event(contact, url="https://stroomlijn.nl/pricing", title="Prijzen")  # 15 + 1
    for _ in range(10):  # 1 × ¼ each: rounded one by one they would add up to 3, not 2.5
        _event(contact, days_ago=2, url="https://stroomlijn.nl/blog")
    ScoreHistory.objects.create(contact=contact, day=NOW.date() - timedelta(days=2), score=2)
    ScoreHistory.objects.create(contact=contact, day=NOW.date(), score=18.5)

    response = client_for(sales_a).get(contact.get_absolute_url())

    html = response.content.decode()
    assert 'data-testid="engagement-panel"' in html
    assert _score(html) == "18.5"
    points = _points(html)
    assert len(points) == 9  # the top eight and the rest
    assert points[:2] == ["15.0", "1.0"]
    assert points[-1] == "1.0"  # 4 × ¼
    assert sum(float(value) for value in points) == pytest.approx(18.5)
    assert "and 4 more, together" in html
    assert EngagementRule.objects.get(pattern="/pric").name in html
    assert "Prijzen" in html
    assert 'data-level="2"' in html  # a tenth of the threshold of 60, not half
    assert "MQL from 60 points" in html
    assert 'data-testid="engagement-chart"' in html
    assert "Points halve every day" in html


def test_the_panel_without_points_explains_how_to_earn_them(sales_a, client_for):
    contact = ContactFactory(owner=sales_a, company__owner=sales_a)
    _event(contact, kind=Event.Kind.EMAIL_OPEN, days_ago=3650)  # faded to nothing

    html = client_for(sales_a).get(contact.get_absolute_url()).content.decode()

    assert 'data-testid="engagement-empty"' in html
    assert reverse("scoring:rules") in html
    assert 'data-testid="engagement-why"' not in html
    assert 'data-testid="engagement-chart"' not in html
