"""What scoring adds to a contact's page: the engagement score, its trend, and why."""

import math
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format

from koers.core.models import User
from koers.crm.models import Contact
from koers.scoring import selectors

WHY_SHOWN = 8


@dataclass(frozen=True)
class WhyRow:
    rule: str
    label: str
    occurred_at: datetime
    points: float  # rounded to tenths, so that the rows add up to the score shown


def rounded_to_add_up(values: list[float]) -> tuple[float, list[float]]:
    """Round the total and each value to tenths so that the rounded values add up to the
    rounded total (largest remainder first), as a reader checks the sum."""
    target = round(sum(values) * 10)
    tenths = [math.floor(value * 10) for value in values]
    short = min(max(target - sum(tenths), 0), len(values))  # clamped against float noise
    by_remainder = sorted(range(len(values)), key=lambda index: tenths[index] - values[index] * 10)
    for index in by_remainder[:short]:
        tenths[index] += 1
    return target / 10, [value / 10 for value in tenths]


def engagement_panel(user: User, contact: Contact) -> dict:
    """The contact's score, level and history, and the points that make it up."""
    explained = selectors.engagement_explained(contact=contact, user=user)
    found = explained.contributions
    shown, rest = found[:WHY_SHOWN], found[WHY_SHOWN:]
    values = [item.points for item in shown]
    if rest:
        values.append(sum(item.points for item in rest))
    score, points = rounded_to_add_up(values)
    rows = [
        WhyRow(item.rule.name, item.label, item.occurred_at, value)
        for item, value in zip(shown, points, strict=False)
    ]
    return {
        "contact": contact,
        "score": score,
        "level": explained.level,
        "levels": range(1, 5),
        "threshold": explained.threshold,
        "half_life_days": explained.half_life_days,
        "rows": rows,
        "rest_count": len(rest),
        "rest_points": points[-1] if rest else 0,
        "chart": _history_chart(explained.history, score=score, today=timezone.localdate()),
    }


def _history_chart(history: list[tuple], *, score: float, today: date) -> dict | None:
    """The score at the end of each day it changed, ending at today's score as shown (points
    have faded since the last event); None when there is no trend to draw."""
    if len(history) < 2:
        return None
    history = [(day, value) for day, value in history if day < today] + [(today, score)]
    return {
        "labels": [date_format(day, "j M") for day, _score in history],
        "values": [round(value, 1) for _day, value in history],
    }
