"""Benchmark `lists`: contact lists, infix search and a company page on a large CRM.

    make bench ONLY=lists              100,000 companies, 1,000,000 contacts
    SCALE=small make bench ONLY=lists  10,000 companies, 100,000 contacts

For SQLite (var/bench/lists.sqlite3) and PostgreSQL (database koers_bench on
127.0.0.1, created when missing) it runs a child process that migrates, fills the
database once per scale (a second run at the same scale reuses the data), and then
measures the server time of the real views through django.test.Client: middleware,
view, queries and template, in-process, without a web server or network. As a manager
(sees all records) and as a sales representative (sees their team's records) it asks for

  list      the contact list, first page
  filtered  contacts of one city in lifecycle stage "lead", sorted by name
  search    contacts matching part of a common surname (infix, not prefix)
  company   the page of a company with a typical number of contacts
  *-count   the footer of list, filtered and search: the number of matches, which the
            page asks for on its own right after showing the rows

Each page is asked WARMUP times, then REQUESTS times, the pages taking turns so that the
noise of the machine falls on all of them alike. It reports the median and p95 (nearest
rank) server time, the time spent in the database, the number of SQL queries at 25, 50
and 100 rows a page, and the plan of each page's slowest query (EXPLAIN ANALYZE on
PostgreSQL, EXPLAIN QUERY PLAN on SQLite). Figures go to var/bench/lists.json;
`bench/lists.py --markdown` prints them as the tables of docs/benchmarks.md.
"""

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Run as a script, bench/ is on sys.path: its helpers import as top-level modules.
from _common import (
    OUT_DIR,
    ROOT,
    SCALES,
    git_state,
    machine_info,
    now_iso,
    percentile,
    scale_name,
    write_json,
)

NAME = "lists"
COMPANIES, CONTACTS = 100_000, 1_000_000
TARGET_P95_MS = 100
WARMUP = 5
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "100"))
PROFILE_REQUESTS = 5
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "koers_bench"
VAR_DIR = OUT_DIR / "lists-var"  # the benchmark's own secret key, cache and static files
DATABASES = {
    "sqlite": f"sqlite:///{OUT_DIR / 'lists.sqlite3'}",
    "postgresql": f"{PG_SERVER}/{PG_DATABASE}",
}
# Part of the surname Bakker (and of e-mail addresses and company domains with it).
SEARCH_TERM = "akke"
STAGE = "lead"
# A list page shows its rows; when there are more than fit, its footer then asks the same
# URL with count=1 for the number of matches: measured as a page of its own.
PAGES = ("list", "filtered", "search", "company", "list-count", "filtered-count", "search-count")
USERS = ("manager", "sales")
PAGE_SIZES = ("25", "50", "100")
PG_SETTINGS = (
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "random_page_cost",
    "jit",
    "max_parallel_workers_per_gather",
)


# --- the parent: one child per database, then the report ------------------------------


def _ensure_pg_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [PG_DATABASE]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def _run_child(database: str, scale: str, *, refill: bool) -> dict:
    out = OUT_DIR / f"{NAME}-{database}.json"
    out.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": DATABASES[database],
        "DJANGO_SETTINGS_MODULE": "koers.settings",
        "KOERS_VAR_DIR": str(VAR_DIR),
        "KOERS_DEBUG": "",
        "SCALE": scale,
    }
    command = [sys.executable, __file__, "--child", database, "--out", str(out)]
    if refill:
        command.append("--refill")
    result = subprocess.run(command, env=env, cwd=ROOT, check=False)  # noqa: S603
    if result.returncode != 0 or not out.exists():
        return {"database": database, "error": f"child exited with {result.returncode}"}
    return json.loads(out.read_text())


def _table(report: dict) -> str:
    header = (
        f"{'database':<11} {'user':<8} {'page':<14} {'median':>7} {'p95':>7} {'db p50':>7} "
        f"{'queries 25/50/100':>18} {'matches':>9}  p95<{TARGET_P95_MS}ms"
    )
    lines = [header, "-" * len(header)]
    for run in report["databases"]:
        if "error" in run:
            lines.append(f"{run['database']:<11} ERROR: {run['error']}")
            continue
        for row in run["pages"]:
            counts = "/".join(str(row["queries_by_per_page"].get(size, "-")) for size in PAGE_SIZES)
            lines.append(
                f"{run['database']:<11} {row['user']:<8} {row['page']:<14} "
                f"{row['median_ms']:>7.1f} {row['p95_ms']:>7.1f} {row['db_median_ms']:>7.1f} "
                f"{counts:>18} {row['matches']:>9,}  {'yes' if row['meets_target'] else 'NO'}"
            )
    return "\n".join(lines)


def markdown(report: dict) -> str:
    """The figures as the Markdown tables of docs/benchmarks.md."""
    out = []
    for run in report["databases"]:
        if "error" in run:
            out.append(f"**{run['database']}**: {run['error']}\n")
            continue
        out.append(f"**{run['database']} {run['version']}**\n")
        out.append(
            "| user | page | median ms | p95 ms | DB time ms (median) | queries at 25/50/100 rows "
            "| matches | p95 < 100 ms |"
        )
        out.append("|---|---|--:|--:|--:|--:|--:|---|")
        for row in run["pages"]:
            counts = "/".join(str(row["queries_by_per_page"].get(size, "–")) for size in PAGE_SIZES)
            out.append(
                f"| {row['user']} | {row['page']} | {row['median_ms']:.1f} | {row['p95_ms']:.1f} "
                f"| {row['db_median_ms']:.1f} | {counts} | {row['matches']:,} "
                f"| {'yes' if row['meets_target'] else '**no**'} |"
            )
        out.append("")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--child", choices=list(DATABASES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--only-db", choices=list(DATABASES), help="measure one database only")
    parser.add_argument(
        "--refill", action="store_true", help="fill again even when the counts are right"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print var/bench/lists.json as Markdown"
    )
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.out, refill=args.refill)
    if args.markdown:
        print(markdown(json.loads((OUT_DIR / f"{NAME}.json").read_text())))
        return 0

    scale = scale_name()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": NAME,
        "date": now_iso(),
        "scale": scale,
        "companies": int(COMPANIES * SCALES[scale]),
        "contacts": int(CONTACTS * SCALES[scale]),
        "target_p95_ms": TARGET_P95_MS,
        "requests_per_page": REQUESTS,
        "machine": machine_info(),
        "source": git_state(),
        "databases": [],
    }
    for database in [args.only_db] if args.only_db else list(DATABASES):
        print(f"-- {database}", flush=True)
        if database == "postgresql":
            try:
                _ensure_pg_database()
            except Exception as error:  # no server: report it, measure the rest
                report["databases"].append({"database": database, "error": str(error)})
                continue
        report["databases"].append(_run_child(database, scale, refill=args.refill))
    path = write_json(NAME, report)
    print()
    print(
        f"lists at scale {scale}: {report['companies']:,} companies, "
        f"{report['contacts']:,} contacts; {REQUESTS} requests a page; times in ms"
    )
    print(_table(report))
    missed = [
        f"{run['database']} {row['user']} {row['page']}"
        for run in report["databases"]
        for row in run.get("pages", [])
        if not row["meets_target"]
    ]
    print(f"p95 over {TARGET_P95_MS} ms: {', '.join(missed) or 'none'}")
    print(f"\nfigures: {path.relative_to(ROOT)}")
    return 1 if any("error" in run for run in report["databases"]) else 0


# --- the child: one database, inside Django ------------------------------------------


def child(database: str, out: Path, *, refill: bool) -> int:
    import django

    django.setup()
    import _crmdata
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from koers.core.database import database_optimize
    from koers.crm import selectors
    from koers.crm.models import Company, Contact

    scale = scale_name()
    companies, contacts = int(COMPANIES * SCALES[scale]), int(CONTACTS * SCALES[scale])
    call_command("migrate", interactive=False, verbosity=0)
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        print("  collectstatic (once)", flush=True)
        call_command("collectstatic", interactive=False, verbosity=0)
    users = _crmdata.ensure_users()

    fill = "reused"
    found = _crmdata.counts()
    if refill or found != (companies, contacts):
        if connection.vendor == "sqlite" and any(found):
            # Start from a new file: rows deleted and written again leave the pages of the
            # tables and indexes scattered through it, which makes every scan slower.
            print("  new SQLite file", flush=True)
            path = Path(connection.settings_dict["NAME"])
            connection.close()
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
            call_command("migrate", interactive=False, verbosity=0)
            users = _crmdata.ensure_users()
        print(f"  filling {companies:,} companies and {contacts:,} contacts", flush=True)
        fill = _crmdata.fill(companies=companies, contacts=contacts, users=users)
        print(f"  filled: {fill}", flush=True)
    else:
        print("  data already there at this scale: fill skipped", flush=True)
        # The state after the worker's nightly task, also when the data was filled by an
        # older version of the fill.
        database_optimize()

    # What the pages ask for: the most common city, and a company of the sales
    # representative's team with the median number of contacts.
    city = (
        Company.objects.filter(deleted_at__isnull=True)
        .values_list("city", flat=True)
        .order_by()
        .annotate(n=Count("id"))
        .order_by("-n")[0]
    )
    per_company = dict(
        Contact.objects.filter(deleted_at__isnull=True, company__isnull=False)
        .order_by()
        .values_list("company_id")
        .annotate(n=Count("id"))
        .values_list("company_id", "n")
    )
    all_counts = [per_company.get(pk, 0) for pk in Company.objects.values_list("id", flat=True)]
    typical = int(statistics.median(all_counts))
    team_companies = selectors.company_visible_to(user=users.sales).values_list("id", flat=True)
    company_id = next(pk for pk in team_companies.order_by("id") if per_company.get(pk) == typical)
    largest_id = max(team_companies, key=lambda pk: per_company.get(pk, 0))

    contact_list = reverse("crm:contact-list")
    filters = {
        "list": {},
        "filtered": {"city": city, "lifecycle_stage": STAGE, "sort": "name"},
        "search": {"q": SEARCH_TERM},
    }
    pages = {
        **{name: (contact_list, params) for name, params in filters.items()},
        **{
            f"{name}-count": (contact_list, {**params, "count": "1"})
            for name, params in filters.items()
        },
        "company": (reverse("crm:company-detail", args=[company_id]), {}),
    }
    clients = {}
    for role in USERS:
        client = Client(HTTP_HOST="localhost", raise_request_exception=True)
        client.force_login(getattr(users, role))
        clients[role] = client

    def get(role: str, page: str, url: str = "", **extra) -> int:
        page_url, params = pages[page]
        response = clients[role].get(url or page_url, {**params, **extra})
        if response.status_code != 200:
            raise RuntimeError(f"{role} {page}: HTTP {response.status_code}")
        return len(response.content)

    db_time = [0.0]

    def timed_sql(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            db_time[0] += time.perf_counter() - started

    combos = [(role, page) for role in USERS for page in PAGES]
    for role, page in combos:
        for _ in range(WARMUP):
            get(role, page)
    times = {combo: [] for combo in combos}
    db_times = {combo: [] for combo in combos}
    order = random.Random(1)
    print(f"  measuring: {REQUESTS} requests for each of {len(combos)} pages", flush=True)
    with connection.execute_wrapper(timed_sql):
        for _ in range(REQUESTS):
            order.shuffle(combos)
            for combo in combos:
                db_time[0] = 0.0
                started = time.perf_counter()
                get(*combo)
                times[combo].append((time.perf_counter() - started) * 1000)
                db_times[combo].append(db_time[0] * 1000)

    rows = []
    for role in USERS:
        user = getattr(users, role)
        for page in PAGES:
            combo = (role, page)
            queries = {}
            for size in PAGE_SIZES:
                if page == "company" and size != "50":
                    continue
                with CaptureQueriesContext(connection) as captured:
                    size_bytes = get(
                        role, page, **({} if page == "company" else {"per_page": size})
                    )
                queries[size] = len(captured)
                if size == "50":
                    default_size = size_bytes
            if page == "company":
                with CaptureQueriesContext(connection) as captured:
                    get(role, page, url=reverse("crm:company-detail", args=[largest_id]))
                queries["largest company"] = len(captured)
                matches = selectors.company_contacts_for_user(
                    user=user, company=Company.objects.get(pk=company_id)
                ).count()
            else:
                page_filters = filters[page.removesuffix("-count")]
                matches = selectors.contact_list_for_user(user=user, **page_filters).count()
            slowest = _slowest_query(connection, lambda role=role, page=page: get(role, page))
            median = statistics.median(times[combo])
            p95 = percentile(times[combo], 0.95)
            rows.append(
                {
                    "user": role,
                    "page": page,
                    "url": pages[page][0],
                    "params": pages[page][1],
                    "requests": len(times[combo]),
                    "median_ms": round(median, 2),
                    "p95_ms": round(p95, 2),
                    "min_ms": round(min(times[combo]), 2),
                    "max_ms": round(max(times[combo]), 2),
                    "db_median_ms": round(statistics.median(db_times[combo]), 2),
                    "queries_by_per_page": queries,
                    "response_kib": round(default_size / 1024, 1),
                    "matches": matches,
                    "meets_target": p95 < TARGET_P95_MS,
                    "slowest_query": slowest,
                }
            )

    result = {
        "database": database,
        "version": _db_version(connection),
        "server_settings": _server_settings(connection),
        "companies": companies,
        "contacts": contacts,
        "fill": fill,
        "city": city,
        "stage": STAGE,
        "search_term": SEARCH_TERM,
        "company_id": company_id,
        "company_contacts_median": typical,
        "largest_company_id": largest_id,
        "largest_company_contacts": per_company.get(largest_id, 0),
        "sales_user_team": users.sales.team.name,
        "sales_user_visible_contacts": selectors.contact_visible_to(user=users.sales).count(),
        "pages": rows,
    }
    for row in rows:
        query = row["slowest_query"]
        print(
            f"\n  [{database}] slowest query of {row['user']} / {row['page']}: "
            f"{query['median_ms']:.1f} ms (median of {PROFILE_REQUESTS})\n  {query['sql'][:400]}"
        )
        print("  " + query["plan"].replace("\n", "\n  "))
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    return 0


def _slowest_query(connection, request) -> dict:
    """The query of a page that takes longest (median of a few requests), with its plan."""
    runs: list[list[tuple[str, object, float]]] = []
    for _ in range(PROFILE_REQUESTS):
        seen = []

        def record(execute, sql, params, many, context, seen=seen):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                seen.append((sql, params, (time.perf_counter() - started) * 1000))

        with connection.execute_wrapper(record):
            request()
        runs.append(seen)
    medians = [statistics.median(run[i][2] for run in runs) for i in range(len(runs[0]))]
    index = max(range(len(medians)), key=medians.__getitem__)
    sql, params, _ = runs[0][index]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = "\n".join(f"{row[0]:>3} {row[1]:>3} {row[3]}" for row in cursor.fetchall())
    return {
        "position": index + 1,
        "median_ms": round(medians[index], 2),
        "sql": sql,
        "params": [str(param) for param in params or ()],
        "plan": plan,
    }


def _db_version(connection) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
    return f"SQLite {sqlite3.sqlite_version}"


def _server_settings(connection) -> dict:
    """The settings that decide the plans, and the size of the database."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            found = {}
            for pragma in ("cache_size", "mmap_size", "page_size", "page_count"):
                cursor.execute(f"PRAGMA {pragma}")
                found[pragma] = cursor.fetchone()[0]
            found["size_mib"] = round(found["page_size"] * found["page_count"] / 2**20)
            # Koers never runs ANALYZE: without sqlite_stat1 the planner guesses.
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            found["analyzed"] = bool(cursor.fetchone()[0])
            return found
        cursor.execute(
            "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s)",
            [list(PG_SETTINGS)],
        )
        found = dict(cursor.fetchall())
        cursor.execute("SELECT pg_database_size(current_database())")
        found["size_mib"] = round(cursor.fetchone()[0] / 2**20)
        return found


if __name__ == "__main__":
    sys.exit(main())
