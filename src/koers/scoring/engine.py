"""The engagement score: each event earns the points of every rule it matches, and points
fade by half every half-life. Plain functions, shared by the per-contact score, its
"why" list and (in SQL, see services.py) the full recompute."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    kind: str
    pattern: str  # lower-case; empty matches every event of the kind
    min_engaged_seconds: int
    points: int

    def matches(self, *, kind: str, url: str, title: str, engaged_seconds: int | None) -> bool:
        return (
            kind == self.kind
            and (engaged_seconds or 0) >= self.min_engaged_seconds
            and (not self.pattern or self.pattern in url.lower() or self.pattern in title.lower())
        )


@dataclass(frozen=True)
class Contribution:
    """The points one rule gave one event, faded to the moment of scoring."""

    event_id: int
    kind: str
    label: str  # the event's title or page
    occurred_at: datetime
    rule: Rule
    points: float


def faded(points: float, *, occurred_at: datetime, at: datetime, half_life_days: float) -> float:
    """What points earned at `occurred_at` are worth at `at` (never more than at first)."""
    age_days = max((at - occurred_at).total_seconds(), 0) / SECONDS_PER_DAY
    return points * 0.5 ** (age_days / half_life_days)


def contributions(
    events: Iterable, rules: list[Rule], *, at: datetime, half_life_days: float
) -> list[Contribution]:
    """Every (event, rule) pair that earned points, largest first."""
    found = [
        Contribution(
            event.pk,
            event.kind,
            event.title or event.url,
            event.occurred_at,
            rule,
            faded(rule.points, occurred_at=event.occurred_at, at=at, half_life_days=half_life_days),
        )
        for event in events
        for rule in rules
        if rule.matches(
            kind=event.kind, url=event.url, title=event.title, engaged_seconds=event.engaged_seconds
        )
    ]
    return sorted(found, key=lambda item: -abs(item.points))


def level(score: float, *, threshold: float) -> int:
    """Engagement 1–4 for the priority matrix: 4 at the MQL threshold, 3 from half of it,
    2 from a tenth, else 1."""
    if score >= threshold:
        return 4
    if score >= threshold / 2:
        return 3
    if score >= threshold / 10:
        return 2
    return 1
