"""An import whose process is killed mid-run leaves whole batches only, and resumes.

Runs `koers import` as its own process against its own database (SQLite file, or a fresh
PostgreSQL database when the suite runs on PostgreSQL), kills it with SIGKILL after its
first committed batch, and then continues it with `koers import --resume`.
"""

import os
import signal
import subprocess
import sys
import uuid

import psycopg
from django.conf import settings
from django.db import connection

ROWS = 30_000


def _database_url(tmp_path) -> tuple[str, callable]:
    database = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        return f"sqlite:///{tmp_path / 'kill.sqlite3'}", lambda: None
    name = f"koers_kill_{uuid.uuid4().hex[:8]}"
    server = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}"

    def admin(statement: str) -> None:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute(statement)

    admin(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}", lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _koers(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "koers", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        **kwargs,
    )


def _state(env, job_id: int) -> tuple[int, int, int, str]:
    """(contacts, distinct emails, rows the job has committed, job status) in that database."""
    code = (
        "from koers.crm.models import Contact; from koers.dataio.models import ImportJob; "
        f"job = ImportJob.objects.get(pk={job_id}); "
        "print(Contact.objects.count(), Contact.objects.values('email').distinct().count(), "
        "job.processed_rows, job.status)"
    )
    out = _koers(env, "manage", "shell", "-v", "0", "-c", code).stdout.split()
    return int(out[0]), int(out[1]), int(out[2]), out[3]


def test_killed_import_leaves_whole_batches_and_resumes_without_duplicates(tmp_path):
    url, drop = _database_url(tmp_path)
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(KOERS_VAR_DIR=str(tmp_path), DATABASE_URL=url, REDIS_URL="")
    path = tmp_path / "contacts.csv"
    with path.open("w") as out:
        out.write("First name,Last name,Email,Phone\n")
        for n in range(ROWS):
            out.write(f"Jan{n},Jansen,jan.{n}@voorbeeld.nl,061{n:07d}\n")
    try:
        _koers(env, "manage", "migrate", "--verbosity", "0")
        _koers(
            env,
            "manage",
            "shell",
            "-c",
            "from koers.core.models import User; User.objects.create(username='ina', role='admin')",
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "koers", "import", str(path), "--user", "ina"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        job_id = None
        for line in process.stdout:
            if line.startswith("import ") and job_id is None:
                job_id = int(line.split()[1].rstrip(":"))
            if line.startswith("rows "):
                process.send_signal(signal.SIGKILL)  # right after a batch was committed
                break
        process.wait(timeout=60)
        assert process.returncode == -signal.SIGKILL

        contacts, emails, committed, status = _state(env, job_id)
        assert status == "running"  # it never got to say otherwise
        assert 0 < committed < ROWS
        assert contacts == emails == committed  # whole batches, nothing half-written

        resumed = _koers(env, "import", "--resume", str(job_id))
        assert f"import {job_id} done: {ROWS} created" in resumed.stdout

        assert _state(env, job_id) == (ROWS, ROWS, ROWS, "done")
    finally:
        drop()
