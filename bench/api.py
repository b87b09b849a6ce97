"""Benchmark `api`: a page of 50 contacts through the REST API under load, with gunicorn.

    make bench ONLY=api              1,000,000 contacts (100,000 companies) on PostgreSQL
    SCALE=small make bench ONLY=api  100,000 contacts

The requirement (issue 8): with gunicorn on this 2-core machine and PostgreSQL (1,000,000
contacts), GET of a contact list page of 50 with a token sustains ≥ 400 requests/s and
≥ 25% of the requests/s of a minimal JSON view on the same server measured in the same
run, with p99 < 100 ms, under 20 concurrent clients on loopback; with one client its p95
is at most 15 × the p95 of the raw SQL query behind it.

Koers runs as deployed: PostgreSQL, and Redis for the cache that holds each token's
calls per minute (database 7 on 127.0.0.1:6379; KOERS_BENCH_REDIS_URL to change it).
It fills the PostgreSQL database koers_bench_api once per scale with the companies and
contacts of the lists benchmark (bench/_crmdata.py), makes a read token for a sales
representative of team West (who sees the team's contacts) and one for a manager (who
sees all), starts `gunicorn koers.wsgi` with 2 × cores sync workers on 127.0.0.1 and
loads it from a second process, ApacheBench (`ab`, Debian's apache2-utils, installed
when missing), on loopback:

  health     /health/: the minimal JSON view (no database)
  contacts   /api/v1/contacts?limit=50 with the token (the figure the issue names)

each first warmed up, then REQUESTS times with 20 concurrent clients and SINGLE times
with one. The raw SQL is the query the endpoint sends for the page (koers.api.pages: the
page's JSON written by PostgreSQL over the selector's query), sent SINGLE times by psycopg
alone as a prepared statement, as the endpoint sends it. Under each load it also reads the
CPU time of gunicorn, PostgreSQL, Redis and ab from /proc: per request, where the time
goes. Figures go to var/bench/api.json; `bench/api.py --markdown` prints the table of
docs/benchmarks.md.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

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
from _measure import (
    ab,
    ab_with_cpu,
    ensure_pg_database,
    free_port,
    start_gunicorn,
    wait_for_port,
)

NAME = "api"
COMPANIES, CONTACTS = 100_000, 1_000_000
CONCURRENCY = 20
REQUESTS = 4_000
SINGLE = 400
WARMUP = 400
TARGET_RPS, TARGET_SHARE, TARGET_P99_MS, TARGET_SQL_FACTOR = 400, 0.25, 100, 15
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "koers_bench_api"
URL = f"{PG_SERVER}/{PG_DATABASE}"
VAR_DIR = OUT_DIR / "api-var"


def _env(scale: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": URL,
        "DJANGO_SETTINGS_MODULE": "koers.settings",
        "KOERS_VAR_DIR": str(VAR_DIR),
        "KOERS_DEBUG": "",
        # As deployed (docs/deployment.md): the rate counters live in Redis.
        "REDIS_URL": os.environ.get("KOERS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"),
        "SCALE": scale,
        # The load comes from one address: the per-token rate is not what is measured.
        "KOERS_API_RATE_LIMIT": "10000000",
    }


def prepare(scale: str) -> dict:
    """In a Django process: the data (once per scale), two tokens, and the raw SQL timing."""
    import django

    django.setup()
    import _crmdata
    import psycopg
    from django.core.management import call_command
    from django.db import connection

    from koers.api import pages
    from koers.api.routers.contacts import SORTS, ContactOut
    from koers.api.scopes import all_scopes
    from koers.api.services import api_token_create
    from koers.core.models import User
    from koers.crm.models import Contact
    from koers.crm.selectors import contact_list_for_user

    fields = tuple(ContactOut.model_fields)

    call_command("migrate", interactive=False, verbosity=0)
    users = _crmdata.ensure_users()
    factor = SCALES[scale]
    wanted = (int(COMPANIES * factor), int(CONTACTS * factor))
    if _crmdata.counts() != wanted:
        print(f"  filling {wanted[1]:,} contacts …", flush=True)
        _crmdata.fill(companies=wanted[0], contacts=wanted[1], users=users)
    figures = {"contacts": Contact.objects.count(), "users": {}}
    for role, user in (("sales", users.sales), ("manager", users.manager)):
        user = User.objects.get(pk=user.pk)
        _token, secret = api_token_create(user=user, name="bench", scopes=all_scopes(), days=1)
        # The query the endpoint sends: the page's JSON over the selector's query.
        selected = pages.selector_sql(
            ("bench", role),
            lambda user=user: contact_list_for_user(user=user).select_related(None).values(*fields),
        )
        sql, params = pages.page_query(
            selected, fields=fields, order=SORTS["name"], cursor="", limit=50
        )
        timings = []
        with psycopg.connect(os.environ["DATABASE_URL"]) as raw:
            for _ in range(SINGLE):
                started = time.perf_counter()
                raw.execute(sql, params, prepare=True).fetchone()  # as the endpoint
                timings.append((time.perf_counter() - started) * 1000)
        figures["users"][role] = {
            "token": secret,
            "visible": contact_list_for_user(user=user).count(),
            "sql_p95_ms": round(percentile(timings, 0.95), 2),
            "sql_p50_ms": round(percentile(timings, 0.5), 2),
        }
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        figures["version"] = f"PostgreSQL {cursor.fetchone()[0]}"
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prepare", metavar="OUT")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads((OUT_DIR / f"{NAME}.json").read_text())))
        return 0
    scale = scale_name()
    if args.prepare:
        Path(args.prepare).write_text(json.dumps(prepare(scale)))
        return 0

    subprocess.run(  # noqa: S603
        [str(ROOT / "scripts" / "ensure-debian-package"), "ab", "apache2-utils"], check=True
    )
    ensure_pg_database(PG_SERVER, PG_DATABASE)
    (VAR_DIR / "static").mkdir(parents=True, exist_ok=True)  # whitenoise looks for it
    env = _env(scale)
    prepared = OUT_DIR / f"{NAME}-prepared.json"
    subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--prepare", str(prepared)], env=env, cwd=ROOT, check=True
    )
    data = json.loads(prepared.read_text())
    prepared.unlink()

    port = free_port()
    workers = 2 * (os.cpu_count() or 1)
    server = start_gunicorn(env, port, workers)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port)
        results = {"health": {}, "users": {}}
        ab(f"{base}/health/", requests=WARMUP, concurrency=CONCURRENCY)
        results["health"] = {
            "load": ab_with_cpu(
                server.pid, f"{base}/health/", requests=REQUESTS, concurrency=CONCURRENCY
            ),
            "single": ab(f"{base}/health/", requests=SINGLE, concurrency=1),
        }
        for role, user in data["users"].items():
            url = f"{base}/api/v1/contacts?limit=50"
            auth = [f"Authorization: Bearer {user['token']}"]
            ab(url, requests=WARMUP, concurrency=CONCURRENCY, headers=auth)
            load = ab_with_cpu(
                server.pid, url, requests=REQUESTS, concurrency=CONCURRENCY, headers=auth
            )
            single = ab(url, requests=SINGLE, concurrency=1, headers=auth)
            share = load["rps"] / results["health"]["load"]["rps"]
            factor = single["p95_ms"] / max(user["sql_p95_ms"], 0.001)
            results["users"][role] = {
                "visible": user["visible"],
                "load": load,
                "single": single,
                "sql_p95_ms": user["sql_p95_ms"],
                "sql_p50_ms": user["sql_p50_ms"],
                "share_of_health": round(share, 3),
                "single_p95_over_sql_p95": round(factor, 1),
                "meets_target": load["rps"] >= TARGET_RPS
                and share >= TARGET_SHARE
                and load["p99_ms"] < TARGET_P99_MS
                and factor <= TARGET_SQL_FACTOR
                and load["failed"] == 0,
            }
    finally:
        server.terminate()
        server.wait(timeout=30)

    report = {
        "benchmark": NAME,
        "date": now_iso(),
        "scale": scale,
        "contacts": data["contacts"],
        "database": data["version"],
        "gunicorn_workers": workers,
        "machine": machine_info(),
        "source": git_state(),
        **results,
    }
    write_json(NAME, report)
    print(markdown(report))
    return 0 if all(user["meets_target"] for user in results["users"].values()) else 1


def markdown(report: dict) -> str:
    health = report["health"]
    lines = [
        f"{report['contacts']:,} contacts, {report['database']}, gunicorn with "
        f"{report['gunicorn_workers']} sync workers, {CONCURRENCY} concurrent clients (ab) on "
        "loopback.",
        "",
        "| request | token of | req/s (20 clients) | p50 / p95 / p99 ms | ÷ health | one client p95 ms | raw SQL p95 ms | ÷ SQL | target |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|",
        f"| `/health/` (minimal JSON) | — | {health['load']['rps']:,.0f} | "
        f"{health['load']['p50_ms']} / {health['load']['p95_ms']} / {health['load']['p99_ms']} "
        f"| 1 | {health['single']['p95_ms']} | — | — | — |",
    ]
    for role, row in report["users"].items():
        load = row["load"]
        lines.append(
            f"| `/api/v1/contacts?limit=50` | {role} ({row['visible']:,} visible) | "
            f"{load['rps']:,.0f} | {load['p50_ms']} / {load['p95_ms']} / {load['p99_ms']} | "
            f"{row['share_of_health']:.0%} | {row['single']['p95_ms']} | {row['sql_p95_ms']} | "
            f"{row['single_p95_over_sql_p95']} | {'met' if row['meets_target'] else '**not met**'} |"
        )
    lines += ["", "CPU per request under the 20 clients' load, ms (each kind of process):", ""]
    for name, load in [("`/health/`", health["load"])] + [
        (f"contacts, {role}", row["load"]) for role, row in report["users"].items()
    ]:
        cpu = load.get("cpu_ms_per_request")
        if cpu:
            lines.append(
                f"- {name}: "
                + ", ".join(f"{kind} {ms:.2f}" for kind, ms in cpu.items())
                + f"; {sum(cpu.values()):.2f} in all"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
