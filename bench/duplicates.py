"""Benchmark `duplicates`: the duplicate finder over 100,000 contacts with known duplicates.

    make bench ONLY=duplicates              100,000 contacts, 10,000 of them duplicates
    SCALE=small make bench ONLY=duplicates  10,000 contacts, 1,000 of them duplicates

The requirement (issue 7): the duplicate finder finishes 100,000 contacts in under 60 s;
on 10,000 contacts with 1,000 known duplicates it reaches precision ≥ 0.95 and recall
≥ 0.90 (that part is also a test; here it is measured at every scale).

For SQLite (a new file, var/bench/duplicates.sqlite3) and PostgreSQL (database
koers_bench_duplicates on 127.0.0.1, made empty first) it runs a child process that
migrates, writes the contacts of koers.dataio.tests.duplicate_data (seeded: the same
people every time; a tenth of them copies of another with typos, swapped names, phone
numbers in other formats, addresses missing …) with bulk inserts, and then, RUNS times,
with an empty cache:

  query   reading the contacts a manager sees: one values_list query
  find    blocking and scoring them (koers.dataio.duplicates.find_contact_duplicates)
  total   both: what the review list costs when its cache is empty (the figure the issue
          names)

It reports the median and slowest of each, the pairs found, precision and recall
against the duplicates made on purpose, and the child's peak memory. Figures go to
var/bench/duplicates.json.
"""

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

# Run as a script, bench/ is on sys.path: its helpers import as top-level modules.
from _common import OUT_DIR, ROOT, SCALES, git_state, machine_info, now_iso, scale_name, write_json
from _measure import run_child

NAME = "duplicates"
CONTACTS = 100_000
DUPLICATE_SHARE = 0.1
SEED = 7
RUNS = 3
TARGET_S = 60
MIN_PRECISION, MIN_RECALL = 0.95, 0.90
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "koers_bench_duplicates"
SQLITE_FILE = OUT_DIR / "duplicates.sqlite3"
VAR_DIR = OUT_DIR / "duplicates-var"  # the benchmark's own secret key and cache
DATABASES = {
    "sqlite": f"sqlite:///{SQLITE_FILE}",
    "postgresql": f"{PG_SERVER}/{PG_DATABASE}",
}


def _fresh_pg_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def _fresh_sqlite_file() -> None:
    for path in (SQLITE_FILE, Path(f"{SQLITE_FILE}-wal"), Path(f"{SQLITE_FILE}-shm")):
        path.unlink(missing_ok=True)


def _verdict(run: dict) -> str:
    meets = run["meets_target"] and run["precision"] >= MIN_PRECISION
    return "yes" if meets and run["recall"] >= MIN_RECALL else "NO"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--child", choices=list(DATABASES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--refill", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only-db", choices=list(DATABASES), help="measure one database only")
    args = parser.parse_args()
    if args.child:
        return child(args.out)

    scale = scale_name()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    contacts = int(CONTACTS * SCALES[scale])
    report = {
        "benchmark": NAME,
        "date": now_iso(),
        "scale": scale,
        "contacts": contacts,
        "duplicates": int(contacts * DUPLICATE_SHARE),
        "runs": RUNS,
        "target_s": TARGET_S,
        "machine": machine_info(),
        "source": git_state(),
        "databases": [],
    }
    for database in [args.only_db] if args.only_db else list(DATABASES):
        print(f"-- {database}", flush=True)
        try:
            if database == "postgresql":
                _fresh_pg_database()
            else:
                _fresh_sqlite_file()
        except Exception as error:  # no server: report it, measure the rest
            report["databases"].append({"database": database, "error": str(error)})
            continue
        report["databases"].append(
            run_child(__file__, NAME, database, DATABASES[database], VAR_DIR, scale, refill=False)
        )
    path = write_json(NAME, report)
    print()
    print(
        f"duplicates at scale {scale}: {contacts:,} contacts of which "
        f"{report['duplicates']:,} duplicates; {RUNS} runs; times in s (median / slowest)"
    )
    print(
        f"{'database':<11} {'fill':>6} {'query':>13} {'find':>13} {'total':>13} "
        f"{'pairs':>7} {'precision':>9} {'recall':>6} {'MiB':>5}  ok"
    )
    for run in report["databases"]:
        if "error" in run:
            print(f"{run['database']:<11} error: {run['error']}")
            continue

        def pair(name: str, run: dict = run) -> str:
            return f"{run[name]['median']:6.2f}/{run[name]['max']:6.2f}"

        print(
            f"{run['database']:<11} {run['fill_s']:6.1f} {pair('query_s')} {pair('find_s')} "
            f"{pair('total_s')} {run['pairs']:7,} {run['precision']:9.3f} {run['recall']:6.3f} "
            f"{run['peak_mib']:5.0f}  {_verdict(run)}"
        )
    measured = [run for run in report["databases"] if "error" not in run]
    print(
        f"the issue's figures ({contacts:,} contacts under {TARGET_S} s; precision ≥ "
        f"{MIN_PRECISION}, recall ≥ {MIN_RECALL}): "
        + ("met" if measured and all(_verdict(run) == "yes" for run in measured) else "NOT met")
    )
    print(f"\nfigures: {path.relative_to(ROOT)}")
    return 1 if any("error" in run for run in report["databases"]) else 0


def _spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "max": round(max(values), 3)}


def child(out: Path) -> int:
    import django

    django.setup()
    from _measure import db_version
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection

    from koers.core.database import database_optimize
    from koers.core.models import User
    from koers.crm.selectors import contact_visible_to
    from koers.dataio import duplicates
    from koers.dataio.tests.duplicate_data import generate, load, precision_recall

    scale = scale_name()
    contacts = int(CONTACTS * SCALES[scale])
    call_command("migrate", interactive=False, verbosity=0)
    manager = User.objects.create(username="manager-bench", role=User.Role.MANAGER)

    started = time.perf_counter()
    dataset = generate(contacts=contacts, duplicates=int(contacts * DUPLICATE_SHARE), seed=SEED)
    generated_s = time.perf_counter() - started
    started = time.perf_counter()
    ids = load(dataset, owner=manager)
    database_optimize()
    fill_s = time.perf_counter() - started
    print(f"  generated in {generated_s:.1f} s, written in {fill_s:.1f} s", flush=True)
    expected = {(ids[first], ids[second]) for first, second in dataset.pairs}
    del dataset

    timings: dict[str, list[float]] = {"query_s": [], "find_s": [], "total_s": []}
    found: list = []
    for run in range(RUNS):
        cache.clear()
        duplicates.fold.cache_clear()  # every run folds every name again
        started = time.perf_counter()
        rows = list(contact_visible_to(user=manager).values_list(*duplicates.CONTACT_COLUMNS))
        queried = time.perf_counter()
        found = duplicates.find_contact_duplicates(rows)
        finished = time.perf_counter()
        del rows
        timings["query_s"].append(queried - started)
        timings["find_s"].append(finished - queried)
        timings["total_s"].append(finished - started)
        print(
            f"  run {run + 1}: query {queried - started:.2f} s, find {finished - queried:.2f} s,"
            f" {len(found):,} pairs",
            flush=True,
        )
    precision, recall = precision_recall(
        {(candidate.first_id, candidate.second_id) for candidate in found}, expected
    )
    result = {
        "database": connection.vendor,
        "version": db_version(connection),
        "contacts": contacts,
        "duplicates": len(expected),
        "generate_s": round(generated_s, 2),
        "fill_s": round(fill_s, 2),
        **{name: _spread(values) for name, values in timings.items()},
        "pairs": len(found),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "threshold": duplicates.THRESHOLD,
        "block_limit": duplicates.BLOCK_LIMIT,
        "window": duplicates.WINDOW,
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "meets_target": max(timings["total_s"]) < TARGET_S,
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
