"""Reading engagement: a contact's score now, and why."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from koers.core.models import User
from koers.crm.models import Contact
from koers.crm.selectors import company_visible_to, contact_visible_to
from koers.pipeline.selectors import deal_visible_to
from koers.scoring import conversion, engine, predict
from koers.scoring.models import (
    CompanyFit,
    ConversionModel,
    EngagementScore,
    EngagementSettings,
    ScoreHistory,
)
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


def contact_fit(contact: Contact) -> CompanyFit | None:
    """The contact's ICP fit: its company's, or None without a company or a fit."""
    if contact.company_id is None:
        return None
    return CompanyFit.objects.filter(company_id=contact.company_id).first()


def fit_grade_counts(*, user: User) -> dict[str, int]:
    """How many live companies the user may see have each fit grade, A to D."""

    counts = dict(
        CompanyFit.objects.filter(company__in=company_visible_to(user=user).values("pk"))
        .values_list("grade")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {grade: counts.get(grade, 0) for grade in "ABCD"}


@dataclass(frozen=True)
class Prediction:
    """A contact's predicted chance to become a customer and the factors behind it; or,
    without a model, why not and the fit × engagement fallback."""

    probability: float | None
    grade: str | None
    base_probability: float | None
    up: list  # predict.Factor, largest push first
    down: list
    model: ConversionModel | None  # the model used, or the latest attempt that had too little
    fit: CompanyFit | None
    engagement_level: int
    decided: bool  # a customer already: nothing to predict


def conversion_explained(contact: Contact, *, shown: int = 4) -> Prediction:
    """The contact scored now by the newest model, with its largest pushes up and down."""

    fit = contact_fit(contact)
    settings = EngagementSettings.current()
    row = EngagementScore.objects.filter(contact=contact).first()
    score = score_now(row, at=timezone.now(), half_life_days=settings.half_life_days)
    level = engine.level(score, threshold=settings.mql_threshold)
    empty = {"probability": None, "grade": None, "base_probability": None, "up": [], "down": []}
    decided = contact.lifecycle_stage in predict.CONVERTED
    found = None if decided else conversion.trained_model()
    if found is None:
        latest = ConversionModel.objects.defer("fitted").order_by("-trained_at", "-pk").first()
        return Prediction(**empty, model=latest, fit=fit, engagement_level=level, decided=decided)
    model, trained = found
    records = predict.open_records(contact.pk, contact.pk)
    values = predict.feature_values(records, trained.features)
    probability = float(trained.probability(trained.matrix(values))[0])
    factors = trained.explain(values)
    return Prediction(
        probability=probability,
        grade=trained.grade(probability),
        base_probability=model.card["base_probability"],
        up=[factor for factor in factors if factor.contribution > 0][:shown],
        down=[factor for factor in factors if factor.contribution < 0][:shown],
        model=model,
        fit=fit,
        engagement_level=level,
        decided=False,
    )


def priority_matrix(user: User) -> dict:
    """How many open contacts the user may see sit in each cell of fit grade (A–D, or
    none) × engagement level (1–4). Stored scores are faded hourly, so they stand for now."""

    threshold = EngagementSettings.current().mql_threshold
    level = Case(
        When(condition=Q(**{"engagement__score__gte": threshold}), then=Value(4)),
        When(condition=Q(**{"engagement__score__gte": threshold / 2}), then=Value(3)),
        When(condition=Q(**{"engagement__score__gte": threshold / 10}), then=Value(2)),
        default=Value(1),
    )
    rows = (
        contact_visible_to(user=user)
        .exclude(lifecycle_stage__in=predict.CONVERTED)
        .annotate(grade=Coalesce(F("company__fit__grade"), Value("")), level=level)
        .values("grade", "level")
        .annotate(count=Count("pk"))
        .order_by()
    )
    cells = {(row["grade"], row["level"]): row["count"] for row in rows}
    return {"grades": ["A", "B", "C", "D", ""], "levels": [4, 3, 2, 1], "cells": cells}
