"""Benchmark `predict`: the predictive conversion model on real telemarketing calls, and
how fast it trains and scores.

    make bench ONLY=predict              the bank file, training 100,000, scoring 1,000,000
    SCALE=small make bench ONLY=predict  the bank file, training 10,000, scoring 100,000
    .venv/bin/python bench/predict.py --markdown   the tables of docs/benchmarks.md

The requirement (issue 6), on this 2-core machine:
- Quality, on the UCI bank-marketing calls (../shared/data/bank-marketing/
  bank-additional-full.csv, 41,188 calls, 11.3% subscribed) loaded through Koers's own
  import (bench/bankdata.py: contacts with custom fields, then their call history as
  activities; the `duration` column is left out, it is known only after the call). The
  model (koers.scoring.predict, the features Koers derives from those records) and the
  baseline of Odoo's predictive lead scoring (naive Bayes over the same fields' values,
  numbers binned into deciles, counts plus 0.1) are evaluated by stratified 5-fold
  cross-validation (seed 42) and on a time-ordered split (the first 80% of the calls by
  date → the last 20%). For both: AUC, Brier score and the share of all subscribers in
  the top 10% and top 20% of the ranking. Target on cross-validation: AUC ≥ 0.80 and
  top-decile capture ≥ 1.10 × the baseline's. The model card's drift warning is checked
  on the same data (the later months convert far more often).
- Speed: `koers.scoring.conversion.model_train()` (what the training job runs: features,
  5-fold cross-validation, the baseline, the time-ordered check, the final fit and the
  card) on 100,000 decided contacts, and `conversions_predict()` (features, probability,
  grade, upsert of every score) over 1,000,000 open contacts: each under 2 minutes. The
  bank contacts are copied in SQL (ids shifted, with their activities) to reach those
  counts: copies 2.4× for training (the copies keep their outcome), then open copies
  (stage lead, the deciding call left out) until 1,000,000 contacts are open.

PostgreSQL only (database koers_bench_predict on 127.0.0.1, made anew each run): the
counts need a server, and the scoring's upsert is written for it and SQLite alike.
Figures go to var/bench/predict.json.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from _common import OUT_DIR, ROOT, SCALES, git_state, machine_info, now_iso, scale_name, write_json
from _measure import run_child

NAME = "predict"
TRAIN_CONTACTS, SCORE_CONTACTS = 100_000, 1_000_000
TARGET_S = 120
MIN_AUC, MIN_CAPTURE_RATIO = 0.80, 1.10
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "koers_bench_predict"
VAR_DIR = OUT_DIR / "predict-var"


def _fresh_pg_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--child", choices=["postgresql"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--markdown", action="store_true", help="print docs/benchmarks.md tables")
    args = parser.parse_args()
    if args.child:
        return child(args.out)
    if args.markdown:
        print(markdown(json.loads((OUT_DIR / f"{NAME}.json").read_text())))
        return 0
    scale = scale_name()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    _fresh_pg_database()
    run = run_child(
        __file__, NAME, "postgresql", f"{PG_SERVER}/{PG_DATABASE}", VAR_DIR, scale, refill=False
    )
    report = {
        "benchmark": NAME,
        "date": now_iso(),
        "scale": scale,
        "machine": machine_info(),
        "source": git_state(),
        **run,
    }
    path = write_json(NAME, report)
    if "error" in run:
        print(f"error: {run['error']}")
        return 1
    print()
    print(markdown(report))
    print(f"\nfigures: {path.relative_to(ROOT)}")
    return 0


def _verdicts(report: dict) -> dict[str, bool]:
    cv = report["cross_validation"]
    return {
        "auc": cv["model"]["auc"] >= MIN_AUC,
        "capture": cv["top10_ratio"] >= MIN_CAPTURE_RATIO,
        "train": report["train"]["seconds"] < TARGET_S,
        "score": report["score"]["seconds"] < TARGET_S,
    }


def markdown(report: dict) -> str:
    def row(name: str, figures: dict) -> str:
        return (
            f"| {name} | {figures['auc']:.4f} | {figures['brier']:.4f} | "
            f"{figures['top10']:.1%} | {figures['top20']:.1%} |"
        )

    cv, split, bank = report["cross_validation"], report["time_split"], report["bank"]
    ok = _verdicts(report)
    lines = [
        f"Bank calls: {bank['rows']:,} rows imported through Koers's import in "
        f"{bank['import_s']:.0f} s ({bank['contacts']:,} contacts, {bank['activities']:,} "
        f"call activities, {bank['rejected']} rejected); {cv['rows']:,} decided contacts, "
        f"{cv['rate']:.1%} subscribed; {len(report['features'])} features.",
        "",
        "| stratified 5-fold CV | AUC | Brier | top 10% | top 20% |",
        "|---|---|---|---|---|",
        row("Koers model", cv["model"]),
        row("naive Bayes (Odoo's method)", cv["baseline"]),
        "",
        f"Top-decile capture ratio {cv['top10_ratio']:.3f} (target ≥ {MIN_CAPTURE_RATIO}); "
        f"AUC target ≥ {MIN_AUC}: {'met' if ok['auc'] and ok['capture'] else 'NOT met'}.",
        "",
        f"| time-ordered: first 80% → last 20% (rate {split['train_rate']:.1%} → "
        f"{split['test_rate']:.1%}) | AUC | Brier | top 10% | top 20% |",
        "|---|---|---|---|---|",
        row("Koers model", split["model"]),
        row("naive Bayes (Odoo's method)", split["baseline"]),
        "",
        f"Model card drift warning on this data: rate {report['drift']['rate']:.1%} in the "
        f"newest tenth vs {report['drift']['train_rate']:.1%} overall → "
        f"{'warns' if report['drift']['rate_warning'] else 'NO warning'}; shifted features: "
        + ", ".join(name for name, _psi in report["drift"]["shifted"][:5]),
        "",
        "| speed | contacts | seconds | target |",
        "|---|---|---|---|",
        f"| training job (CV, baseline, time check, fit, card) | "
        f"{report['train']['contacts']:,} | {report['train']['seconds']:.1f} | "
        f"< {TARGET_S} s: {'met' if ok['train'] else 'NOT met'} |",
        f"| scoring every open contact | {report['score']['contacts']:,} | "
        f"{report['score']['seconds']:.1f} | < {TARGET_S} s: "
        f"{'met' if ok['score'] else 'NOT met'} |",
    ]
    return "\n".join(lines)


def child(out: Path) -> int:
    import django

    django.setup()
    import numpy as np
    from bankdata import DATA_FILE, bank_import
    from django.core.management import call_command
    from django.db import connection

    from koers.core.models import User
    from koers.scoring import conversion, predict

    scale = scale_name()
    call_command("migrate", interactive=False, verbosity=0)
    actor = User.objects.create(username="bench", role=User.Role.ADMIN, is_superuser=True)

    started = time.perf_counter()
    imported = bank_import(DATA_FILE, actor=actor)
    import_s = time.perf_counter() - started
    print(f"  imported {imported} in {import_s:.1f} s", flush=True)

    records = predict.training_records()
    features = predict.FIXED + predict.custom_features(records)
    values = predict.feature_values(records, features)
    features = predict.informative(features, values)
    label = records.label
    fitters = {
        "model": predict.model_fitter(features),
        "baseline": predict.naive_bayes_fitter(features),
    }
    cross = {
        name: predict.figures(predict.cross_validated(values, label, fitter), label)
        for name, fitter in fitters.items()
    }
    order = np.argsort(records.at, kind="stable")
    cut = int(len(order) * 0.8)
    train, test = order[:cut], order[cut:]
    split = {}
    for name, fitter in fitters.items():
        score = fitter(predict.subset(values, train), label[train])
        split[name] = predict.figures(score(predict.subset(values, test)), label[test])
    print(f"  cv {cross['model']['auc']:.4f} vs {cross['baseline']['auc']:.4f}", flush=True)
    card = conversion.model_train().card

    def strip(figures: dict) -> dict:
        return {key: figures[key] for key in ("auc", "brier", "top10", "top20", "deciles")}

    report: dict = {
        "bank": {"import_s": import_s, **imported},
        "features": [feature.name for feature in features],
        "cross_validation": {
            "rows": len(label),
            "rate": float(label.mean()),
            "model": strip(cross["model"]),
            "baseline": strip(cross["baseline"]),
            "top10_ratio": cross["model"]["top10"] / cross["baseline"]["top10"],
        },
        "time_split": {
            "train_rate": float(label[train].mean()),
            "test_rate": float(label[test].mean()),
            "model": strip(split["model"]),
            "baseline": strip(split["baseline"]),
        },
        "drift": card["drift"],
    }

    # Speed: copies of the bank contacts up to the counts, in SQL.
    bank_count = len(label)
    train_target = int(TRAIN_CONTACTS * SCALES[scale])
    with connection.cursor() as cursor:
        _copy(cursor, copies=train_target // bank_count - 1, keep_outcome=True)
        extra = train_target - bank_count * (train_target // bank_count)
        _copy(cursor, copies=1, keep_outcome=True, limit=extra)
        cursor.execute("ANALYZE")
    started = time.perf_counter()
    model = conversion.model_train()
    report["train"] = {"contacts": model.rows, "seconds": time.perf_counter() - started}
    print(f"  trained on {model.rows:,} in {report['train']['seconds']:.1f} s", flush=True)

    score_target = int(SCORE_CONTACTS * SCALES[scale])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM crm_contact WHERE lifecycle_stage NOT IN "
            "('customer', 'former_customer')"
        )
        open_now = cursor.fetchone()[0]
        missing = score_target - open_now
        _copy(cursor, copies=missing // bank_count, keep_outcome=False)
        _copy(cursor, copies=1, keep_outcome=False, limit=missing % bank_count)
        cursor.execute("ANALYZE")
    started = time.perf_counter()
    scored = conversion.conversions_predict()
    report["score"] = {"contacts": scored, "seconds": time.perf_counter() - started}
    print(f"  scored {scored:,} in {report['score']['seconds']:.1f} s", flush=True)
    out.write_text(json.dumps(report))
    return 0


def _copy(cursor, *, copies: int, keep_outcome: bool, limit: int | None = None) -> None:
    """Copy the bank's contacts (the first `limit`) `copies` times with their activities,
    ids shifted past the largest; open copies become leads without their deciding call."""
    if copies <= 0 or limit == 0:
        return
    cursor.execute("SELECT max(id) FROM crm_contact WHERE external_id LIKE 'bank-%%'")
    bank_max = cursor.fetchone()[0]
    for _ in range(copies):
        cursor.execute("SELECT max(id) FROM crm_contact")
        offset = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM activities_activity")
        activity_offset = cursor.fetchone()[0]
        bound = bank_max if limit is None else f"(SELECT min(id) + {limit} - 1 FROM crm_contact)"
        cursor.execute(
            f"""
            CREATE TEMP TABLE copy_contact AS SELECT * FROM crm_contact WHERE id <= {bound};
            UPDATE copy_contact SET id = id + {offset}, external_id = '',
                lifecycle_stage = CASE WHEN {keep_outcome} THEN lifecycle_stage ELSE 'lead' END;
            INSERT INTO crm_contact SELECT * FROM copy_contact;
            CREATE TEMP TABLE copy_activity AS SELECT a.* FROM activities_activity a
                WHERE a.contact_id <= {bound} AND (
                    {keep_outcome} OR a.occurred_at < (
                        SELECT max(b.occurred_at) FROM activities_activity b
                        WHERE b.contact_id = a.contact_id));
            UPDATE copy_activity SET id = id + {activity_offset}, contact_id = contact_id + {offset};
            INSERT INTO activities_activity SELECT * FROM copy_activity;
            DROP TABLE copy_contact; DROP TABLE copy_activity;
            """
        )
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence('crm_contact', 'id'), max(id)) FROM crm_contact"
    )
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence('activities_activity', 'id'), max(id)) "
        "FROM activities_activity"
    )


if __name__ == "__main__":
    sys.exit(main())
