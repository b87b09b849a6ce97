"""What the benchmarks that measure pages share: a child process per database, the
database's facts, the slowest queries, the figures as tables, and gunicorn loaded by
ApacheBench on loopback.

The functions that touch a connection run inside the child's Django process. (bench/
lists.py has its own copies of some of these, from before.)
"""

import json
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _common import OUT_DIR, ROOT

PG_SETTINGS = (
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "random_page_cost",
    "jit",
    "max_parallel_workers_per_gather",
)


def ensure_pg_database(server: str, name: str) -> None:
    """Create the PostgreSQL database `name` on `server` (a postgres:// URL) when missing."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def db_version(connection) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
    return f"SQLite {sqlite3.sqlite_version}"


def server_settings(connection) -> dict:
    """The settings that decide the plans, and the size of the database."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            found = {}
            for pragma in ("cache_size", "mmap_size", "page_size", "page_count"):
                cursor.execute(f"PRAGMA {pragma}")
                found[pragma] = cursor.fetchone()[0]
            found["size_mib"] = round(found["page_size"] * found["page_count"] / 2**20)
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


def explain(connection, sql: str, params) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            return "\n".join(line for (line,) in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(f"{row[0]:>3} {row[1]:>3} {row[3]}" for row in cursor.fetchall())


def slowest_queries(connection, request: Callable[[], object], *, runs: int = 5, top: int = 2):
    """The `top` queries of a page that take longest (median of `runs` requests), with plans.

    Also returns the median time of every query of the page, in the order they ran.
    """
    timings: list[list[tuple[str, object, float]]] = []
    for _ in range(runs):
        seen = []

        def record(execute, sql, params, many, context, seen=seen):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                seen.append((sql, params, (time.perf_counter() - started) * 1000))

        with connection.execute_wrapper(record):
            request()
        timings.append(seen)
    length = min(len(run) for run in timings)
    medians = [statistics.median(run[i][2] for run in timings) for i in range(length)]
    ranked = sorted(range(length), key=medians.__getitem__, reverse=True)[:top]
    slowest = []
    for index in ranked:
        sql, params, _ = timings[0][index]
        slowest.append(
            {
                "position": index + 1,
                "median_ms": round(medians[index], 2),
                "sql": sql,
                "params": [str(param) for param in params or ()],
                "plan": explain(connection, sql, params),
            }
        )
    every = [
        {"position": i + 1, "median_ms": round(medians[i], 2), "sql": timings[0][i][0][:160]}
        for i in range(length)
    ]
    return slowest, every


def run_child(
    script: str, name: str, database: str, url: str, var_dir: Path, scale: str, *, refill: bool
) -> dict:
    """Run `script --child database` with DATABASE_URL=url; return the figures it wrote."""
    out = OUT_DIR / f"{name}-{database}.json"
    out.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "koers.settings",
        "KOERS_VAR_DIR": str(var_dir),
        "KOERS_DEBUG": "",
        "SCALE": scale,
    }
    command = [sys.executable, script, "--child", database, "--out", str(out)]
    if refill:
        command.append("--refill")
    result = subprocess.run(command, env=env, cwd=ROOT, check=False)  # noqa: S603
    if result.returncode != 0 or not out.exists():
        return {"database": database, "error": f"child exited with {result.returncode}"}
    return json.loads(out.read_text())


def figures_table(
    report: dict,
    *,
    target_ms: int,
    count: str,
    queries: Callable[[dict], str],
    verdict: Callable[[dict], str],
    page_width: int,
    width: int,
) -> str:
    """The figures of every page as a plain-text table; `count` names the row's size column."""
    header = (
        f"{'database':<11} {'user':<8} {'page':<{page_width}} {'n':>4} {'median':>7} "
        f"{'p95':>7} {'db p50':>7} {'queries':>{width}} {count:>{width}}  p95<{target_ms}ms"
    )
    lines = [header, "-" * len(header)]
    for run in report["databases"]:
        if "error" in run:
            lines.append(f"{run['database']:<11} ERROR: {run['error']}")
            continue
        for row in run["pages"]:
            lines.append(
                f"{run['database']:<11} {row['user']:<8} {row['page']:<{page_width}} "
                f"{row['requests']:>4} {row['median_ms']:>7.1f} {row['p95_ms']:>7.1f} "
                f"{row['db_median_ms']:>7.1f} {queries(row):>{width}} {row[count]:>{width},}  "
                f"{verdict(row)}"
            )
    return "\n".join(lines)


def figures_markdown(
    report: dict,
    *,
    target_ms: int,
    count: str,
    named_page: str,
    queries: Callable[[dict], str],
    verdict: Callable[[dict], str],
) -> str:
    """The figures as the Markdown tables of docs/benchmarks.md, the issue's page in bold."""
    out = []
    for run in report["databases"]:
        if "error" in run:
            out.append(f"**{run['database']}**: {run['error']}\n")
            continue
        out.append(f"{run['version']}\n")
        out.append(
            "| user | page | requests | median ms | p95 ms | DB time ms (median) | queries "
            f"| {count} | p95 < {target_ms} ms |"
        )
        out.append("|---|---|--:|--:|--:|--:|--:|--:|---|")
        for row in run["pages"]:
            page = f"**{row['page']}**" if row["page"] == named_page else row["page"]
            out.append(
                f"| {row['user']} | {page} | {row['requests']} | {row['median_ms']:.1f} "
                f"| {row['p95_ms']:.1f} | {row['db_median_ms']:.1f} | {queries(row)} "
                f"| {row[count]:,} | {verdict(row).replace('NO', '**no**')} |"
            )
        out.append("")
    return "\n".join(out)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def start_gunicorn(env: dict, port: int, workers: int, **popen) -> subprocess.Popen:
    """`gunicorn koers.wsgi` with `workers` sync workers on 127.0.0.1:`port`."""
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "koers.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
        **popen,
    )  # fmt: skip


def ab(
    url: str,
    *,
    requests: int,
    concurrency: int,
    headers: tuple[str, ...] | list[str] = (),
    body: Path | None = None,
    content_type: str = "",
) -> dict:
    """Run ApacheBench (a POST of the file `body` when given); return requests/s, the
    percentiles of the total time (ms), the wall time and the failures."""
    command = ["ab", "-q", "-n", str(requests), "-c", str(concurrency)]
    for header in headers:
        command += ["-H", header]
    if body is not None:
        command += ["-p", str(body), "-T", content_type]
    output = subprocess.run(  # noqa: S603
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    failed = int(re.search(r"Failed requests:\s+(\d+)", output).group(1))
    non_2xx = re.search(r"Non-2xx responses:\s+(\d+)", output)
    percentiles = {
        int(share): int(ms) for share, ms in re.findall(r"^\s+(\d+)%\s+(\d+)", output, re.M)
    }
    return {
        "requests": requests,
        "concurrency": concurrency,
        "rps": float(re.search(r"Requests per second:\s+([\d.]+)", output).group(1)),
        "time_s": float(re.search(r"Time taken for tests:\s+([\d.]+)", output).group(1)),
        "p50_ms": percentiles[50],
        "p95_ms": percentiles[95],
        "p99_ms": percentiles[99],
        "max_ms": percentiles[100],
        "failed": failed + (int(non_2xx.group(1)) if non_2xx else 0),
    }


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by each kind of process a request passes: gunicorn (its
    arbiter and workers), PostgreSQL and Redis. Differences over a load give the CPU per
    request of each (on a machine that runs nothing else)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"gunicorn": 0.0, "postgres": 0.0, "redis": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if server_pid in (int(entry.name), int(fields[1])):
            kind = "gunicorn"
        elif name == "postgres" or name.startswith("redis"):
            kind = name.split("-")[0]
        else:
            continue
        used[kind] += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return used


def ab_with_cpu(server_pid: int, url: str, **options) -> dict:
    """ab(), and the CPU milliseconds per request of each kind of process (ab's too)."""
    before, ab_before = cpu_seconds(server_pid), os.times()
    result = ab(url, **options)
    after, ab_after = cpu_seconds(server_pid), os.times()
    used = {kind: after[kind] - before[kind] for kind in after}
    used["ab"] = (ab_after.children_user + ab_after.children_system) - (
        ab_before.children_user + ab_before.children_system
    )
    result["cpu_ms_per_request"] = {
        kind: round(seconds / result["requests"] * 1000, 3) for kind, seconds in used.items()
    }
    return result
