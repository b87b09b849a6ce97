"""Benchmark `board`: a pipeline's board, the deal list, a deal and the figures with 200,000 deals.

    make bench ONLY=board              200,000 deals; 20,000 companies, 100,000 contacts
    SCALE=small make bench ONLY=board  20,000 deals; 2,000 companies, 10,000 contacts

The requirement (issue 3): the board of one pipeline filtered to one owner answers with
a p95 under 150 ms, on SQLite and PostgreSQL.

For SQLite (var/bench/board.sqlite3) and PostgreSQL (database koers_bench_board on
127.0.0.1, created when missing) it runs a child process that migrates, fills the
database (the CRM of _crmdata, then three pipelines made from the sales-model templates
and the deals of _dealdata: 60% inbound, 25% outbound, 15% relationship-based, each with
its stage history and contacts), and then measures the server time of the real views
through django.test.Client: middleware, view, queries and template, in-process. The
data is filled once per scale and reused while its history ends less than a week ago
(the board counts the deals won and lost in the last 30 days of the real clock).

As a sales representative of team West (sees the team's deals) and as a manager (sees
all) it asks for

  board-owner  the board of the inbound pipeline filtered to one owner of team West with
               a typical number of deals (the figure the issue names)
  board-few    the same board filtered to the team's newest member, who has few deals
               (the number of queries must not depend on the number of deals)
  board        the board of the inbound pipeline, unfiltered
  list         the deal list of the inbound pipeline, first page
  list-count   the list's footer: the number of matches, which the page asks for on
               its own right after showing the rows
  deal         the page of an open deal of that owner
  insights     the pipeline's figures over the last 365 days (reported, no target)

Each page is asked WARMUP times, then REQUESTS times (the figures page fewer when it is
slow: what fits in INSIGHTS_BUDGET_S), the pages taking turns. It reports the median and
p95 (nearest rank) server time, the time spent in the database, the number of SQL
queries, and the plans of each page's slowest queries (EXPLAIN ANALYZE on PostgreSQL,
EXPLAIN QUERY PLAN on SQLite). Figures go to var/bench/board.json; `bench/board.py
--markdown` prints them as the tables of docs/benchmarks.md.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
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
from _measure import ensure_pg_database, figures_markdown, figures_table, run_child

NAME = "board"
COMPANIES, CONTACTS, DEALS = 20_000, 100_000, 200_000
TARGET_P95_MS = 150
WARMUP = 5
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "100"))
INSIGHTS_BUDGET_S = float(os.environ.get("BENCH_INSIGHTS_BUDGET_S", "60"))
MIN_INSIGHTS_REQUESTS = 10
PROFILE_REQUESTS = 5
FRESH_DAYS = 7  # data whose history ended longer ago is filled again
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "koers_bench_board"
VAR_DIR = OUT_DIR / "board-var"  # the benchmark's own secret key, cache and static files
DATABASES = {
    "sqlite": f"sqlite:///{OUT_DIR / 'board.sqlite3'}",
    "postgresql": f"{PG_SERVER}/{PG_DATABASE}",
}
PAGES = ("board-owner", "board-few", "board", "list", "list-count", "deal", "insights")
NO_TARGET = {"insights"}
USERS = ("sales", "manager")
PAGE_SIZES = ("25", "50", "100")


# --- the parent: one child per database, then the report ------------------------------


def _verdict(row: dict) -> str:
    if row["page"] in NO_TARGET:
        return "–"
    return "yes" if row["meets_target"] else "NO"


def _queries(row: dict) -> str:
    counts = row["queries"]
    if "25" in counts:
        return "/".join(str(counts.get(size, "-")) for size in PAGE_SIZES)
    return str(counts["page"])


def _table(report: dict) -> str:
    return figures_table(
        report,
        target_ms=TARGET_P95_MS,
        count="matches",
        queries=_queries,
        verdict=_verdict,
        page_width=12,
        width=9,
    )


def markdown(report: dict) -> str:
    """The figures as the Markdown tables of docs/benchmarks.md."""
    return figures_markdown(
        report,
        target_ms=TARGET_P95_MS,
        count="matches",
        named_page="board-owner",
        queries=_queries,
        verdict=_verdict,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--child", choices=list(DATABASES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--only-db", choices=list(DATABASES), help="measure one database only")
    parser.add_argument(
        "--refill", action="store_true", help="fill again even when the data is there"
    )
    parser.add_argument(
        "--markdown", action="store_true", help=f"print var/bench/{NAME}.json as Markdown"
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
        "deals": int(DEALS * SCALES[scale]),
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
                ensure_pg_database(PG_SERVER, PG_DATABASE)
            except Exception as error:  # no server: report it, measure the rest
                report["databases"].append({"database": database, "error": str(error)})
                continue
        report["databases"].append(
            run_child(
                __file__, NAME, database, DATABASES[database], VAR_DIR, scale, refill=args.refill
            )
        )
    path = write_json(NAME, report)
    print()
    print(
        f"board at scale {scale}: {report['deals']:,} deals, {report['companies']:,} companies, "
        f"{report['contacts']:,} contacts; {REQUESTS} requests a page; times in ms"
    )
    print(_table(report))
    missed = [
        f"{run['database']} {row['user']} {row['page']}"
        for run in report["databases"]
        for row in run.get("pages", [])
        if row["page"] not in NO_TARGET and not row["meets_target"]
    ]
    print(f"p95 over {TARGET_P95_MS} ms: {', '.join(missed) or 'none'}")
    named = [
        row
        for run in report["databases"]
        for row in run.get("pages", [])
        if row["page"] == "board-owner"
    ]
    print(
        "the issue's figure (board of one pipeline, one owner): "
        + ("met" if named and all(row["meets_target"] for row in named) else "NOT met")
    )
    print(f"\nfigures: {path.relative_to(ROOT)}")
    return 1 if any("error" in run for run in report["databases"]) else 0


# --- the child: one database, inside Django ------------------------------------------


def child(database: str, out: Path, *, refill: bool) -> int:
    import django

    django.setup()
    import _crmdata
    import _dealdata
    from _measure import db_version, server_settings, slowest_queries
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Q
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from koers.core.database import database_optimize
    from koers.core.models import User
    from koers.pipeline import selectors
    from koers.pipeline.models import Deal, DealContact, Pipeline, StageChange

    scale = scale_name()
    companies, contacts, deals = (int(n * SCALES[scale]) for n in (COMPANIES, CONTACTS, DEALS))
    call_command("migrate", interactive=False, verbosity=0)
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        print("  collectstatic (once)", flush=True)
        call_command("collectstatic", interactive=False, verbosity=0)
    users = _crmdata.ensure_users()
    _dealdata.check_columns()

    fill = "reused"
    crm = _crmdata.counts()
    found = _dealdata.counts()
    anchor = _dealdata.anchor_of_data()
    stale = anchor is None or timezone.now() - anchor > timedelta(days=FRESH_DAYS)
    if refill or stale or crm != (companies, contacts) or found["deals"] != deals:
        if any(crm) or found["pipelines"]:
            if connection.vendor == "sqlite":
                # A new file: rows deleted and written again leave the pages scattered.
                print("  new SQLite file", flush=True)
                path = Path(connection.settings_dict["NAME"])
                connection.close()
                for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    leftover.unlink(missing_ok=True)
                call_command("migrate", interactive=False, verbosity=0)
                users = _crmdata.ensure_users()
            else:
                _dealdata.wipe()
        print(f"  filling {companies:,} companies and {contacts:,} contacts", flush=True)
        fill = {"crm": _crmdata.fill(companies=companies, contacts=contacts, users=users)}
        print(f"  filling 3 pipelines and {deals:,} deals", flush=True)
        fill["deals"] = _dealdata.fill(deals=deals, users=users)
        print(f"  filled: {fill}", flush=True)
        anchor = _dealdata.anchor_of_data()
    else:
        print("  data already there at this scale: fill skipped", flush=True)
        database_optimize()

    # What the pages ask for: the inbound pipeline, an owner of team West with a typical
    # number of deals in it, the team's newest member, and an open deal of the former.
    pipeline = Pipeline.objects.get(sales_model="inbound")
    live = Deal.objects.filter(deleted_at__isnull=True)
    per_owner = dict(
        live.filter(pipeline=pipeline, owner__role=User.Role.SALES)
        .order_by()
        .values_list("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    median_deals = statistics.median(per_owner.values())
    west = users.by_team[users.sales.team.name]
    owner_id = min(west[:-1], key=lambda pk: (abs(per_owner.get(pk, 0) - median_deals), pk))
    few_id = min(west, key=lambda pk: (per_owner.get(pk, 0), pk))
    changes_per_deal = Counter(
        Counter(StageChange.objects.values_list("deal_id", flat=True).iterator()).values()
    )
    typical_changes = statistics.median_high(
        [n for n, times in changes_per_deal.items() for _ in range(times)]
    )
    deal = (
        live.filter(pipeline=pipeline, owner_id=owner_id, status=Deal.Status.OPEN)
        .annotate(
            moves=Count("stage_changes", distinct=True),
            people=Count("deal_contacts", distinct=True),
        )
        .order_by("-id")
    )
    deal = deal.filter(moves=typical_changes, people=2).first() or deal.first()
    board_url = reverse("pipeline:board", args=[pipeline.pk])
    list_url = reverse("pipeline:deal-list")
    pages = {
        "board-owner": (board_url, {"owner": str(owner_id)}),
        "board-few": (board_url, {"owner": str(few_id)}),
        "board": (board_url, {}),
        "list": (list_url, {"pipeline_id": str(pipeline.pk)}),
        "list-count": (list_url, {"pipeline_id": str(pipeline.pk), "count": "1"}),
        "deal": (reverse("pipeline:deal-detail", args=[deal.pk]), {}),
        "insights": (reverse("pipeline:insights", args=[pipeline.pk]), {}),
    }
    clients = {}
    for role in USERS:
        client = Client(HTTP_HOST="localhost", raise_request_exception=True)
        client.force_login(getattr(users, role))
        clients[role] = client

    def get(role: str, page: str, **extra) -> int:
        url, params = pages[page]
        response = clients[role].get(url, {**params, **extra})
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
    rounds = dict.fromkeys(combos, REQUESTS)
    for combo in combos:
        for _ in range(WARMUP):
            started = time.perf_counter()
            get(*combo)
            took = time.perf_counter() - started
        if combo[1] == "insights":
            fits = int(INSIGHTS_BUDGET_S / took)
            rounds[combo] = max(MIN_INSIGHTS_REQUESTS, min(REQUESTS, fits))
    times = {combo: [] for combo in combos}
    db_times = {combo: [] for combo in combos}
    order = random.Random(1)
    fewer = ", ".join(f"{role} {rounds[role, 'insights']}" for role in USERS)
    print(
        f"  measuring: {REQUESTS} requests for each of {len(combos)} pages (insights: {fewer})",
        flush=True,
    )
    with connection.execute_wrapper(timed_sql):
        for number in range(REQUESTS):
            order.shuffle(combos)
            for combo in combos:
                if number >= rounds[combo]:
                    continue
                db_time[0] = 0.0
                started = time.perf_counter()
                get(*combo)
                times[combo].append((time.perf_counter() - started) * 1000)
                db_times[combo].append(db_time[0] * 1000)

    def board_matches(user, owner: str = "") -> tuple[int, int]:
        board = selectors.board_for_user(user=user, pipeline=pipeline, owner=owner)
        columns = [*board.columns, *(c for c in (board.won, board.lost) if c)]
        return sum(c.count for c in columns), sum(len(c.deals) for c in board.columns)

    rows = []
    for role in USERS:
        user = getattr(users, role)
        for page in PAGES:
            combo = (role, page)
            queries = {}
            sizes = PAGE_SIZES if page.startswith("list") else ("page",)
            for size in sizes:
                extra = {} if size == "page" else {"per_page": size}
                with CaptureQueriesContext(connection) as captured:
                    size_bytes = get(role, page, **extra)
                queries[size] = len(captured)
                if size in ("page", "50"):
                    response_bytes = size_bytes
            cards = None
            if page.startswith("board"):
                owner = pages[page][1].get("owner", "")
                matches, cards = board_matches(user, owner)
            elif page.startswith("list"):
                matches = selectors.deal_list_for_user(user=user, pipeline_id=pipeline.pk).count()
            elif page == "deal":
                matches = StageChange.objects.filter(deal=deal).count()
            else:
                matches = selectors.deal_visible_to(user=user).filter(pipeline=pipeline).count()
            slowest, every = slowest_queries(
                connection, lambda role=role, page=page: get(role, page), runs=PROFILE_REQUESTS
            )
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
                    "queries": queries,
                    "response_kib": round(response_bytes / 1024, 1),
                    "matches": matches,
                    "cards": cards,
                    "meets_target": p95 < TARGET_P95_MS,
                    "slowest_queries": slowest,
                    "query_times": every,
                }
            )

    by_pipeline = {
        name: dict(
            live.filter(pipeline__name=name)
            .order_by()
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        for name in Pipeline.objects.order_by("id").values_list("name", flat=True)
    }
    open_by_stage = {
        f"{stage.position} {stage.key}": live.filter(stage=stage).count()
        for stage in pipeline.stages.order_by("position")
    }
    result = {
        "database": database,
        "version": db_version(connection),
        "server_settings": server_settings(connection),
        "companies": companies,
        "contacts": contacts,
        "deals": Deal.objects.count(),
        "deals_in_trash": Deal.objects.filter(deleted_at__isnull=False).count(),
        "unowned_deals": live.filter(owner__isnull=True).count(),
        "stage_changes": StageChange.objects.count(),
        "stage_changes_per_deal": dict(sorted(changes_per_deal.items())),
        "deal_contacts": DealContact.objects.count(),
        "history_ends": anchor.isoformat() if anchor else None,
        "fill": fill,
        "pipeline": {"id": pipeline.pk, "name": pipeline.name},
        "deals_by_pipeline_and_status": by_pipeline,
        "deals_by_stage_main_pipeline": open_by_stage,
        "deals_per_sales_owner_main_pipeline": {
            "median": median_deals,
            "min": min(per_owner.values()),
            "max": max(per_owner.values()),
        },
        "owner": {"id": owner_id, "deals": per_owner.get(owner_id, 0)},
        "few_owner": {"id": few_id, "deals": per_owner.get(few_id, 0)},
        "deal": {
            "id": deal.pk,
            "moves": deal.stage_changes.count(),
            "contacts": deal.deal_contacts.count(),
        },
        "sales_user_team": users.sales.team.name,
        "sales_user_visible_deals": selectors.deal_visible_to(user=users.sales).count(),
        "stalled_open_deals_main_pipeline": live.filter(
            pipeline=pipeline,
            status=Deal.Status.OPEN,
            last_activity_at__lt=timezone.now() - timedelta(days=pipeline.stall_days),
        ).count(),
        "won_or_lost_last_30_days_main_pipeline": live.filter(
            Q(won_at__gte=timezone.now() - timedelta(days=30))
            | Q(lost_at__gte=timezone.now() - timedelta(days=30)),
            pipeline=pipeline,
        ).count(),
        "pages": rows,
    }
    for row in rows:
        for query in row["slowest_queries"][:1]:
            print(
                f"\n  [{database}] slowest query of {row['user']} / {row['page']}: "
                f"{query['median_ms']:.1f} ms (median of {PROFILE_REQUESTS}, query "
                f"{query['position']} of {row['queries'].get('page', row['queries'].get('50'))})"
                f"\n  {query['sql'][:400]}"
            )
            print("  " + query["plan"].replace("\n", "\n  "))
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
