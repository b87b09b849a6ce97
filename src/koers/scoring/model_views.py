"""The predictive score in the product: a contact's chance to become a customer and why,
the model card with its honest figures and warnings, the priority matrix of fit ×
engagement on the start page, and what the contact list shows and filters of it.
Everyone may read them; admins, managers and marketing retrain the model."""

import math
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dates
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from koers.activities.models import Activity
from koers.core.models import User
from koers.crm import sbi
from koers.crm.list_extras import ListColumn, ListFilter, ListSort
from koers.crm.models import Company, Contact
from koers.scoring import conversion, jobs, predict, selectors, services
from koers.scoring.models import (
    ConversionModel,
    ConversionScore,
    EngagementSettings,
    ScoringJob,
)

GRADES = ("A", "B", "C", "D")
LEVELS = (4, 3, 2, 1)
RETRAINING = gettext_lazy(
    "The model is being trained again, then every open contact is scored; this takes a moment."
)


def may_retrain(user: User) -> bool:
    return services.may_change_scoring(user)


def model_retrain_queue(*, actor: User) -> ScoringJob:
    """Start training and then scoring, as a job whose progress the model card shows."""
    if not may_retrain(actor):
        raise PermissionDenied(_("Only admins, managers and marketing may retrain the model."))
    from koers.scoring import tasks

    job = jobs.job_create(kind=ScoringJob.Kind.TRAIN, actor=actor)
    transaction.on_commit(lambda: tasks.model_retrain(job.pk))
    return job


# --- in words ------------------------------------------------------------------------------


def percent(probability: float | None) -> str:
    """A probability as people read it: whole percentages, never a flat 0% or 100%."""
    if probability is None:
        return ""
    if probability < 0.01:
        return "<1%"
    if probability > 0.99:
        return ">99%"
    return f"{round(probability * 100)}%"


def _choices(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def value_words(feature: str, value: str) -> str:
    """A factor's raw value as the contact's page says it: labels instead of codes."""
    words = {
        "industry": sbi.DIVISIONS,
        "function": _choices(Contact.Function.choices),
        "dmu_role": _choices(Contact.DMURole.choices),
        "lead_source": _choices(Contact.LeadSource.choices),
        "employee_band": _choices(Company.EmployeeBand.choices),
        "revenue_band": _choices(Company.RevenueBand.choices),
        "last_outcome": _choices(Activity.Outcome.choices),
        "channel": {"mobile": _("a mobile number"), "phone": _("a landline only")},
        "has_email": {"1": _("yes"), "0": _("no")},
        "month": {str(number): str(name) for number, name in dates.MONTHS.items()},
        "weekday": {str(number + 1): str(name) for number, name in dates.WEEKDAYS.items()},
    }.get(feature, {})
    return str(words.get(value, value))


@dataclass(frozen=True)
class Reason:
    label: str
    value: str
    contribution: float  # in log-odds
    odds: float  # what it multiplies the odds by
    width: int  # of the bar, in % of the largest shown

    @property
    def odds_text(self) -> str:
        places = 2 if self.odds < 10 else 0
        # number_format cuts digits off; round first.
        return number_format(round(self.odds, places), decimal_pos=places)

    @property
    def is_up(self) -> bool:
        return self.contribution > 0


def _reasons(factors: list, largest: float) -> list[Reason]:
    return [
        Reason(
            label=factor.label,
            value=value_words(factor.feature, factor.value),
            contribution=factor.contribution,
            odds=math.exp(factor.contribution),
            width=max(4, round(abs(factor.contribution) / largest * 100)),
        )
        for factor in factors
    ]


# --- the contact's page --------------------------------------------------------------------


def conversion_panel(user: User, contact: Contact) -> dict:
    """The contact's chance to become a customer, its grade and the reasons; or, without a
    model, how much history there is and the fit × engagement priority instead."""
    prediction = selectors.conversion_explained(contact)
    factors = prediction.up + prediction.down
    largest = max((abs(factor.contribution) for factor in factors), default=1.0) or 1.0
    model = prediction.model
    history = None
    if prediction.probability is None and not prediction.decided:
        card = model.card if model is not None else {}
        history = {
            "trained": model is not None,
            # The counts are over every contact: only those who may change scoring see them.
            "counted": services.may_change_scoring(user),
            "customers": model.positives if model is not None else 0,
            "nos": card.get("negatives", 0),
            "need": card.get("need", predict.MIN_EACH),
        }
    return {
        "contact": contact,
        "prediction": prediction,
        "percent": percent(prediction.probability),
        "base_percent": percent(prediction.base_probability),
        "reasons": _reasons(factors, largest),
        "fit_grade": prediction.fit.grade if prediction.fit else "",
        "level": prediction.engagement_level,
        "history": history,
    }


# --- the model card ------------------------------------------------------------------------


def _ready_model() -> ConversionModel | None:
    return (
        ConversionModel.objects.filter(status=ConversionModel.Status.READY)
        .defer("fitted")
        .order_by("-trained_at", "-pk")
        .first()
    )


def _better(model: float, baseline: float) -> str:
    """Which of the two does better, where higher is better; none on a tie."""
    if round(model, 4) == round(baseline, 4):
        return ""
    return "model" if model > baseline else "baseline"


def _figure_rows(cv: dict, baseline: dict) -> list[dict]:
    """The model's cross-validated figures next to the naive-Bayes baseline's."""
    return [
        {
            "name": "auc",
            "label": _("AUC"),
            "help": _("How often a customer is ranked above a no: 0.5 is guessing, 1 is perfect."),
            "model": cv["auc"],
            "baseline": baseline["auc"],
            "better": _better(cv["auc"], baseline["auc"]),
            "format": "2",
        },
        {
            "name": "brier",
            "label": _("Brier score"),
            "help": _("How far the chances are from what happened: 0 is perfect, lower is better."),
            "model": cv["brier"],
            "baseline": baseline["brier"],
            "better": _better(baseline["brier"], cv["brier"]),
            "format": "3",
        },
        {
            "name": "top10",
            "label": _("Customers found in the top 10%"),
            "help": _("Share of all customers among the highest-ranked 10%."),
            "model": cv["top10"] * 100,
            "baseline": baseline["top10"] * 100,
            "better": _better(cv["top10"], baseline["top10"]),
            "format": "%",
        },
        {
            "name": "top20",
            "label": _("Customers found in the top 20%"),
            "help": _("Share of all customers among the highest-ranked 20%."),
            "model": cv["top20"] * 100,
            "baseline": baseline["top20"] * 100,
            "better": _better(cv["top20"], baseline["top20"]),
            "format": "%",
        },
    ]


def _decile_labels() -> list[str]:
    return [f"{tenth * 10}–{tenth * 10 + 10}%" for tenth in range(10)]


def _shifted(pairs: list) -> list[dict]:
    return [{"label": predict.feature_label(name), "psi": psi} for name, psi in pairs]


def _warnings(card: dict) -> list[dict]:
    """What the drift checks found: outcomes or the mix of contacts moved away from the
    history the model learned from."""
    found = []
    drift = card.get("drift") or {}
    if drift.get("rate_warning"):
        found.append(
            {
                "name": "rate",
                "text": _(
                    "Lately %(rate)s of the decided contacts became customers, against "
                    "%(train_rate)s in all the history the model learned from. Outcomes are "
                    "changing: the chances shown may be too high or too low."
                )
                % {
                    "rate": percent(drift.get("rate")),
                    "train_rate": percent(drift.get("train_rate")),
                },
                "features": [],
            }
        )
    if drift.get("shifted"):
        found.append(
            {
                "name": "recent",
                "text": _(
                    "The most recently decided contacts differ from the history the model "
                    "learned from in:"
                ),
                "features": _shifted(drift["shifted"]),
            }
        )
    scoring = card.get("scoring_drift") or {}
    if scoring.get("shifted"):
        found.append(
            {
                "name": "scoring",
                "text": _(
                    "The open contacts being scored differ from the contacts the model learned "
                    "from in:"
                ),
                "features": _shifted(scoring["shifted"]),
            }
        )
    return found


def _card_context(model: ConversionModel) -> dict:
    card = model.card
    cv, baseline = card["cv"], card["baseline"]
    features = card.get("features", [])
    largest = max((feature["importance"] for feature in features), default=1.0) or 1.0
    split = card.get("time_split")
    return {
        "negatives": card.get("negatives", model.rows - model.positives),
        "rate": percent(cv["rate"]),
        "base_percent": percent(card.get("base_probability")),
        "figures": _figure_rows(cv, baseline),
        "lift_chart": {
            "labels": _decile_labels(),
            "values": [round(decile["lift"], 2) for decile in cv["deciles"]],
            "label": _("Lift"),
        },
        "calibration_chart": {
            "labels": _decile_labels(),
            "values": [round(decile["predicted"] * 100, 1) for decile in cv["deciles"]],
            "label": _("Predicted (%)"),
            "totals": [round(decile["actual"] * 100, 1) for decile in cv["deciles"]],
            "totals_label": _("Became customers (%)"),
        },
        "deciles": [
            {
                "label": label,
                "predicted": decile["predicted"] * 100,
                "actual": decile["actual"] * 100,
                "lift": decile["lift"],
            }
            for label, decile in zip(_decile_labels(), cv["deciles"], strict=True)
        ],
        "features": [
            {
                "label": predict.feature_label(feature["name"]),
                "importance": feature["importance"],
                "width": max(2, round(feature["importance"] / largest * 100)),
            }
            for feature in features
        ],
        "split": _split_context(split) if split else None,
        "thresholds": [
            {"grade": grade, "from": lowest * 100 if lowest > 0 else None}
            for grade, lowest in card.get("thresholds", [])
        ],
        "warnings": _warnings(card),
        # Below this, the mix of the latest decided contacts is not compared (too noisy).
        "recent_rows": (card.get("drift") or {}).get("rows", 0),
        "recent_needed": conversion.MIN_DRIFT_ROWS,
    }


def _split_context(split: dict) -> dict:
    """The time-ordered check: trained on the older 80%, tested on the newest 20%."""
    return {
        "auc": split["auc"],
        "brier": split["brier"],
        "top10": split["top10"] * 100,
        "top20": split["top20"] * 100,
        "rows": split["rows"],
        "train_rate": percent(split["train_rate"]),
        "test_rate": percent(split["rate"]),
    }


def model_card(request: HttpRequest) -> HttpResponse:
    """The predictive model's card: how it was trained, how good it is, what it uses, and
    whether the world has moved away from what it learned."""
    model = _ready_model()
    latest = ConversionModel.objects.defer("fitted").order_by("-trained_at", "-pk").first()
    too_little = latest if latest is not None and latest.status != latest.Status.READY else None
    allowed = may_retrain(request.user)
    context = {
        "model": model,
        "too_little": too_little,
        "need": (too_little.card.get("need") if too_little else None) or predict.MIN_EACH,
        # Only those who may start a run follow it (the job view answers only them).
        "job": jobs.job_latest(ScoringJob.Kind.TRAIN) if allowed else None,
        "may_retrain": allowed,
    }
    if model is not None:
        context |= _card_context(model)
    return render(request, "scoring/model.html", context)


@require_POST
def model_retrain(request: HttpRequest) -> HttpResponse:
    model_retrain_queue(actor=request.user)
    messages.info(request, RETRAINING)
    return redirect("scoring:model")


# --- priority: fit × engagement ------------------------------------------------------------


def _heat(grade: str, level: int) -> str:
    """Where a cell sits in the matrix: call first (good fit and engaged), then the mixed
    cells, then the rest."""
    fit_rank = GRADES.index(grade) // 2 if grade else 2
    engaged_rank = 0 if level >= 3 else 1
    return {0: "first", 1: "mixed"}.get(fit_rank + engaged_rank, "rest")


def priority_section(user: User) -> dict:
    """The start page's priority matrix loads after the page: it counts every open contact."""
    return {}


def priority(request: HttpRequest) -> HttpResponse:
    """The matrix of open contacts by fit grade × engagement level, each cell a link to them."""
    matrix = selectors.priority_matrix(request.user)
    list_url = reverse("crm:contact-list")
    rows = []
    for grade in matrix["grades"]:
        cells = []
        for level in matrix["levels"]:
            count = matrix["cells"].get((grade, level), 0)
            query = urlencode({"fit": grade or "none", "engagement": level, "open": "1"})
            cells.append(
                {
                    "level": level,
                    "count": count,
                    "url": f"{list_url}?{query}",
                    "heat": _heat(grade, level),
                }
            )
        rows.append({"grade": grade, "cells": cells})
    return render(
        request,
        "scoring/partials/priority_matrix.html",
        {
            "rows": rows,
            "levels": matrix["levels"],
            "total": sum(matrix["cells"].values()),
            "has_model": _ready_model() is not None,
        },
    )


# --- the contact list: a priority column, its filters and the sort by chance ----------------


def _threshold() -> float:
    """The MQL threshold, read without writing: a list page is a GET."""
    settings = EngagementSettings.objects.order_by("pk").first()
    if settings is None:
        return float(EngagementSettings._meta.get_field("mql_threshold").default)
    return float(settings.mql_threshold)


def engagement_level_expression(threshold: float) -> Case:
    """A contact's engagement level 1–4 from its stored score (scoring.engine.level)."""
    return Case(
        When(engagement__score__gte=threshold, then=Value(4)),
        When(engagement__score__gte=threshold / 2, then=Value(3)),
        When(engagement__score__gte=threshold / 10, then=Value(2)),
        default=Value(1),
        output_field=IntegerField(),
    )


def _level_condition(value: str) -> Q:
    """The contacts at one engagement level; level 1 includes those without a score."""
    threshold = _threshold()
    score = "engagement__score"
    return {
        "4": Q(**{f"{score}__gte": threshold}),
        "3": Q(**{f"{score}__gte": threshold / 2, f"{score}__lt": threshold}),
        "2": Q(**{f"{score}__gte": threshold / 10, f"{score}__lt": threshold / 2}),
        "1": Q(**{f"{score}__lt": threshold / 10}) | Q(engagement__isnull=True),
    }[value]


def _fit_condition(value: str) -> Q:
    if value == "none":
        return Q(company__fit__isnull=True)
    return Q(company__fit__grade=value)


def _fit_choices() -> list[tuple[str, str]]:
    return [
        ("", _("Any fit")),
        *((grade, _("Fit %(grade)s") % {"grade": grade}) for grade in GRADES),
        ("none", _("No fit")),
    ]


def _level_choices() -> list[tuple[str, str]]:
    return [
        ("", _("Any engagement")),
        *((str(level), _("Engagement %(level)s of 4") % {"level": level}) for level in LEVELS),
    ]


def _open_choices() -> list[tuple[str, str]]:
    return [("", _("Open and customers")), ("1", _("Open contacts only"))]


def _priority_annotations() -> dict:
    return {
        "priority_fit": F("company__fit__grade"),
        "priority_level": engagement_level_expression(_threshold()),
        "priority_chance": F("conversion__probability"),
        "priority_grade": F("conversion__grade"),
    }


FIT_FILTER = ListFilter("fit", gettext_lazy("ICP fit"), _fit_choices, _fit_condition)
ENGAGEMENT_FILTER = ListFilter(
    "engagement", gettext_lazy("Engagement"), _level_choices, _level_condition
)
OPEN_FILTER = ListFilter(
    "open",
    gettext_lazy("Customers"),
    _open_choices,
    lambda _value: ~Q(lifecycle_stage__in=predict.CONVERTED),
)
# Only scored contacts (open ones) take part: the database walks conversion_probability.
CHANCE_SORT = ListSort(
    "-probability",
    order_by=("-conversion__probability", "-id"),
    rows=Q(conversion__isnull=False),
    available=lambda: ConversionScore.objects.exists(),
)
PRIORITY_COLUMN = ListColumn(
    "priority",
    gettext_lazy("Priority"),
    "scoring/partials/priority_cell.html",
    sort="-probability",
    annotations=_priority_annotations,
    title=gettext_lazy("Fit grade · engagement level, and the chance to become a customer"),
)
