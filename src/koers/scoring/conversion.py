"""Training the predictive conversion model and scoring every open contact with it."""

import pickle
from collections.abc import Callable
from datetime import datetime

import numpy as np
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from koers.scoring import predict
from koers.scoring.models import ConversionModel, ConversionScore

Report = Callable[[int, int], None]
# The model card warns above these: conversion twice as often (or half), or a feature
# whose mix moved by a population stability index over 0.25 (the usual "shifted" mark).
RATE_DRIFT = 2.0
PSI_DRIFT = 0.25
RECENT_SHARE = 0.10  # the latest decided records, compared with all of them
# Month and weekday say when a record is described, not who it is: open contacts are all
# described as of today and the latest decided records are all recent, so these two would
# always look shifted. Drift is measured on the other features.
NOT_DRIFT = {"month", "weekday"}
# Open contacts are described before their next conversation, decided ones before their
# last: their histories differ by construction, so the scored contacts are compared with
# the training data on who they are, not on what happened to them yet.
HISTORY = {
    "calls_unanswered",
    "conversations",
    "days_since_conversation",
    "last_outcome",
    "meetings",
    "emails",
    "web_visits",
}
# Below this many records a mix is too noisy to compare: ten groups of a few records each
# give a PSI above PSI_DRIFT by chance alone.
MIN_DRIFT_ROWS = 100


def _quiet(done: int, total: int) -> None:
    pass


def model_train(*, report: Report = _quiet, at: datetime | None = None) -> ConversionModel:
    """Train on every decided contact; with too little history, say so and keep the fit ×
    engagement fallback. Cross-validates first, so the card's figures are honest."""
    at = at or timezone.now()
    records = predict.training_records()
    positives = int(records.label.sum())
    negatives = len(records.label) - positives
    if min(positives, negatives) < predict.MIN_EACH:
        return ConversionModel.objects.create(
            trained_at=at,
            status=ConversionModel.Status.TOO_LITTLE,
            rows=len(records.label),
            positives=positives,
            card={"negatives": negatives, "need": predict.MIN_EACH},
        )
    steps = predict.FOLDS + 3
    report(0, steps)
    features = predict.FIXED + predict.custom_features(records)
    values = predict.feature_values(records, features)
    features = predict.informative(features, values)
    label = records.label
    fitter = predict.model_fitter(features)
    out_of_fold = predict.cross_validated(
        values, label, fitter, report=lambda fold: report(fold, steps)
    )
    baseline = predict.cross_validated(values, label, predict.naive_bayes_fitter(features))
    time_split = _time_split(records, values, fitter)
    report(predict.FOLDS + 1, steps)
    trained = predict.fit(values, label, features)
    trained.thresholds = predict.thresholds(out_of_fold)
    report(predict.FOLDS + 2, steps)
    card = {
        "cv": predict.figures(out_of_fold, label),
        "baseline": predict.figures(baseline, label),
        "time_split": time_split,
        "negatives": negatives,
        "base_probability": float(1 / (1 + np.exp(-trained.base_logodds))),
        "thresholds": trained.thresholds,
        "features": _importance(trained, values),
        "reference": predict.mix(trained, values),
        "drift": _recent_drift(records, values, trained),
    }
    return ConversionModel.objects.create(
        trained_at=at,
        status=ConversionModel.Status.READY,
        rows=len(label),
        positives=positives,
        card=card,
        fitted=pickle.dumps(trained),
    )


def _time_split(records: predict.Records, values: dict, fitter) -> dict | None:
    """Train on the first 80% of the decided records by time, test on the last 20%: how
    the model does on a future it has not seen (the honest check against drift)."""
    order = np.argsort(records.at, kind="stable")
    cut = int(len(order) * 0.8)
    train, test = order[:cut], order[cut:]
    label = records.label
    if len(set(label[train].tolist())) < 2 or len(set(label[test].tolist())) < 2:
        return None
    probability = fitter(predict.subset(values, train), label[train])(predict.subset(values, test))
    return {**predict.figures(probability, label[test]), "train_rate": float(label[train].mean())}


def _importance(trained: predict.Trained, values: dict, sample: int = 5000) -> list[dict]:
    """Features by their mean absolute push on a sample of records, largest first."""
    count = len(next(iter(values.values())))
    rows = np.random.default_rng(predict.SEED).choice(count, min(sample, count), replace=False)
    pushes = np.abs(trained.contributions(trained.matrix(predict.subset(values, rows)))).mean(0)
    ranked = sorted(zip(trained.features, pushes.tolist(), strict=True), key=lambda x: -x[1])
    return [{"name": feature.name, "importance": push} for feature, push in ranked]


def _recent_drift(records: predict.Records, values: dict, trained: predict.Trained) -> dict:
    """The latest decided records against all of them: conversion rate and feature mix."""
    order = np.argsort(records.at, kind="stable")
    recent = order[-max(1, int(len(order) * RECENT_SHARE)) :]
    return _drift_summary(
        trained,
        reference=predict.mix(trained, values),
        values=predict.subset(values, recent),
        rate=float(records.label[recent].mean()),
        train_rate=float(records.label.mean()),
    )


def _drift_summary(
    trained: predict.Trained,
    *,
    reference: dict,
    values: dict,
    rate=None,
    train_rate=None,
    skip: set[str] = NOT_DRIFT,
) -> dict:
    rows = len(next(iter(values.values())))
    shifted = {
        name: value
        for name, value in predict.drift(reference, trained, values).items()
        if name not in skip and rows >= MIN_DRIFT_ROWS
    }
    summary = {
        "rows": rows,
        "shifted": sorted(
            ([name, value] for name, value in shifted.items() if value > PSI_DRIFT),
            key=lambda item: -item[1],
        ),
    }
    if rate is not None:
        summary |= {"rate": rate, "train_rate": train_rate}
        summary["rate_warning"] = bool(
            train_rate and (rate > train_rate * RATE_DRIFT or rate < train_rate / RATE_DRIFT)
        )
    return summary


# By primary key and training time: a new database may number a new model as an old one.
_loaded: dict[tuple, predict.Trained] = {}


def trained_model() -> tuple[ConversionModel, predict.Trained] | None:
    """The newest ready model, unpickled once per process."""
    model = (
        ConversionModel.objects.filter(status=ConversionModel.Status.READY)
        .defer("fitted")
        .order_by("-trained_at", "-pk")
        .first()
    )
    if model is None:
        return None
    key = (model.pk, model.trained_at)
    if key not in _loaded:
        _loaded.clear()
        blob = ConversionModel.objects.values_list("fitted", flat=True).get(pk=model.pk)
        _loaded[key] = pickle.loads(bytes(blob))
    return model, _loaded[key]


def conversions_predict(*, report: Report = _quiet, at: datetime | None = None) -> int:
    """Score every open contact with the newest model, in id ranges; scores of contacts no
    longer open go. Also notes on the model card how the scored contacts' mix compares
    with the training data. Returns how many were scored."""
    found = trained_model()
    if found is None:
        ConversionScore.objects.all().delete()
        return 0
    model, trained = found
    at = at or timezone.now()
    windows = predict.id_windows()
    scored, sample = 0, []
    for step, (lo, hi) in enumerate(windows):
        records = predict.open_records(lo, hi, now=at)
        if len(records.ids):
            values = predict.feature_values(records, trained.features)
            probability = trained.probability(trained.matrix(values))
            _scores_write(records.ids, probability, trained, model_id=model.pk, at=at)
            scored += len(records.ids)
            sample.append(predict.subset(values, np.arange(min(len(records.ids), 2000))))
        report(step + 1, len(windows))
    # Those no longer open go; by who they are now, not by when they were scored, so that
    # two runs at once never delete each other's fresh scores.
    ConversionScore.objects.filter(
        Q(contact__lifecycle_stage__in=predict.CONVERTED) | Q(contact__deleted_at__isnull=False)
    ).delete()
    if sample:
        values = {name: np.concatenate([part[name] for part in sample]) for name in sample[0]}
        model.card["scoring_drift"] = _drift_summary(
            trained,
            reference=model.card["reference"],
            values=values,
            skip=NOT_DRIFT | HISTORY,
        )
        ConversionModel.objects.filter(pk=model.pk).update(card=model.card)
    return scored


def _scores_write(ids, probability, trained, *, model_id: int, at: datetime) -> None:
    grades = [trained.grade(p) for p in probability.tolist()]
    table = ConversionScore._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
                INSERT INTO {table} (contact_id, probability, grade, model_id, scored_at)
                SELECT unnest(%s::bigint[]), unnest(%s::float8[]), unnest(%s::text[]), %s, %s
                ON CONFLICT (contact_id) DO UPDATE SET probability = EXCLUDED.probability,
                    grade = EXCLUDED.grade, model_id = EXCLUDED.model_id,
                    scored_at = EXCLUDED.scored_at
                """,
                [ids.tolist(), probability.tolist(), grades, model_id, at],
            )
        else:
            cursor.executemany(
                f"""
                INSERT INTO {table} (contact_id, probability, grade, model_id, scored_at)
                VALUES (%s, %s, %s, %s, %s)
                ON CONFLICT (contact_id) DO UPDATE SET probability = excluded.probability,
                    grade = excluded.grade, model_id = excluded.model_id,
                    scored_at = excluded.scored_at
                """,
                [
                    (contact_id, p, grade, model_id, at)
                    for contact_id, p, grade in zip(
                        ids.tolist(), probability.tolist(), grades, strict=True
                    )
                ],
            )
