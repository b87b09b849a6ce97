"""Reading engagement: a contact's score now, and why."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from koers.core.models import User
from koers.crm.models import Contact
from koers.pipeline.selectors import deal_visible_to
from koers.scoring import engine
from koers.scoring.models import EngagementScore, EngagementSettings, ScoreHistory
from koers.scoring.services import active_rules, scored_events
from koers.tracking.models import Event


@dataclass(frozen=True)
class Explained:
    score: float
    level: int
    threshold: int
    half_life_days: int
    contributions: list[engine.Contribution]
    history: list[tuple]  # (day, score)


def score_now(row: EngagementScore | None, *, at: datetime, half_life_days: float) -> float:
    """A stored score faded to `at`: every point fades alike, so one factor does it."""
    if row is None:
        return 0.0
    return engine.faded(row.score, occurred_at=row.scored_at, at=at, half_life_days=half_life_days)


def _hide_unseen_stages(events: list[Event], *, user: User) -> None:
    stages = [event for event in events if event.kind == Event.Kind.STAGE_REACHED]
    deal_ids = {event.properties.get("deal") for event in stages}
    seen = set(
        deal_visible_to(user=user).filter(pk__in=deal_ids - {None}).values_list("pk", flat=True)
    )
    for event in stages:
        if event.properties.get("deal") not in seen:
            event.title = ""
            event.url = ""


def engagement_explained(
    *, contact: Contact, user: User | None = None, at: datetime | None = None
) -> Explained:
    """The contact's score at `at` from its events, with every (event, rule) that gave
    points: they add up to the score. The caller has checked the user may see the contact;
    a stage reached in a deal the user may not see keeps its points but not its name."""
    at = at or timezone.now()
    settings = EngagementSettings.current()
    rules = active_rules()
    events = list(scored_events([contact.pk], rules, at=at, half_life_days=settings.half_life_days))
    if user is not None:
        _hide_unseen_stages(events, user=user)
    found = engine.contributions(events, rules, at=at, half_life_days=settings.half_life_days)
    score = sum(item.points for item in found)
    history = list(
        ScoreHistory.objects.filter(contact=contact).order_by("day").values_list("day", "score")
    )
    return Explained(
        score=score,
        level=engine.level(score, threshold=settings.mql_threshold),
        threshold=settings.mql_threshold,
        half_life_days=settings.half_life_days,
        contributions=found,
        history=history,
    )
