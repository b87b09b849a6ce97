"""Load the UCI bank-marketing calls into Koers through Koers's own import path.

The data: `bank-additional-full.csv` (UCI "Bank Marketing", Moro, Cortez and Rita 2014,
CC BY 4.0), 41,188 telemarketing calls of a Portuguese bank selling term deposits, in time
order from May 2008 to November 2010; `;`-separated with quoted strings. It lives outside
the repository, at ../shared/data/bank-marketing/ seen from the repository's root
(DATA_FILE below is computed from this file's place), and is never copied into it.

`bank_import(path, actor=user)` writes two temporary CSV files and imports them with the
services `koers import` and the import wizard's worker run (import_job_create,
import_job_configure, import_job_run: the same cleaning, matching, batches and audit
trail), never with ORM inserts:

1. Contacts, one per row of the file (row n is the n-th row under the header):

   | Koers                  | from the file                                             |
   |------------------------|-----------------------------------------------------------|
   | external_id            | "bank-<n>"                                                |
   | first_name, last_name  | "Klant", "<n>" (the data has no names)                    |
   | lifecycle_stage        | "customer" when y = yes, else "lead"                      |
   | mobile                 | +3161<n, 7 digits> when contact = cellular                |
   | phone                  | +31205<n, 6 digits> (Amsterdam) when contact = telephone  |
   | custom fields          | age, job, marital, education, default, housing, loan,     |
   |                        | emp.var.rate, cons.price.idx, cons.conf.idx, euribor3m,   |
   |                        | nr.employed: each column to the custom field of its name  |
   |                        | ("custom:age" …); numbers become numbers, the rest text   |

   `duration` is left out: it is only known after the call and all but decides y. The
   campaign columns become the call history below. The contacts are matched on their
   external ID, so loading the file again updates them instead of adding twins.

2. Activities (kind call, outbound), matched to their contact by its external ID, that
   rebuild each row's call history:

   - the decisive call on day D, outcome "conversation" when y = yes, "not_interested"
     when y = no. D lies in the row's month and on its day_of_week: the year starts at
     2008 and goes up whenever the month goes down (the rows are in time order). A month's
     calls begin in the week of its first row's weekday (the first such day of the month)
     and move a week on whenever the weekday goes down (a new week of calls began); a day
     that would fall outside the month is moved back into it by whole weeks;
   - campaign - 1 earlier calls of this campaign, outcome "no_answer", one a day on the
     days before D;
   - `previous` calls of an earlier campaign, outcome "meeting_booked" when poutcome =
     success, else "not_interested": the last of them pdays days before D (120 when
     pdays = 999, "not contacted" by the data's own coding), the others a week apart
     before it.

   Every call is at 10:00 in Koers's time zone.

Run on its own against a scratch database (it migrates it first):

    DATABASE_URL=sqlite:////tmp/bank.sqlite3 .venv/bin/python bench/bankdata.py --limit 2000
"""

import argparse
import csv
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_FILE = ROOT.parent / "shared" / "data" / "bank-marketing" / "bank-additional-full.csv"

# As the file writes them (English, whatever the machine's locale).
MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
FIRST_YEAR = 2008
CALL_TIME = "10:00"
# The earlier campaign's last call when the file says 999 ("not contacted"), in days.
UNKNOWN_PDAYS = 120

CUSTOM_COLUMNS = (
    "age",
    "job",
    "marital",
    "education",
    "default",
    "housing",
    "loan",
    "emp.var.rate",
    "cons.price.idx",
    "cons.conf.idx",
    "euribor3m",
    "nr.employed",
)
CONTACT_COLUMNS = (
    ("External ID", "external_id"),
    ("First name", "first_name"),
    ("Last name", "last_name"),
    ("Lifecycle stage", "lifecycle_stage"),
    ("Mobile", "mobile"),
    ("Phone", "phone"),
    *((name, f"custom:{name}") for name in CUSTOM_COLUMNS),
)
ACTIVITY_COLUMNS = (
    ("Contact external ID", "contact_external_id"),
    ("Kind", "kind"),
    ("Direction", "direction"),
    ("Outcome", "outcome"),
    ("When", "occurred_at"),
    ("Subject", "subject"),
)


def read_rows(path: Path, limit: int | None = None) -> list[dict[str, str]]:
    """The file's rows as dicts by column, the first `limit` of them."""
    with open(path, newline="", encoding="utf-8") as source:
        reader = csv.DictReader(source, delimiter=";")
        return [row for number, row in enumerate(reader) if limit is None or number < limit]


def _in_month(day: date, month: int) -> date:
    """`day`, or the same weekday a week at a time back into (or forward into) `month`."""
    while day.month != month:
        day += timedelta(days=-7 if (day.month - month) % 12 < 6 else 7)
    return day


def call_dates(rows: list[dict[str, str]]) -> list[date]:
    """The day of each row's decisive call, read from its month and weekday in row order."""
    dates = []
    year, last_month, last_weekday, week_start = FIRST_YEAR, None, None, date.min
    for row in rows:
        month, weekday = MONTHS[row["month"]], WEEKDAYS[row["day_of_week"]]
        if last_month is not None and month < last_month:
            year += 1
        if month != last_month:
            # The month's calls start in the week of its first such weekday.
            first = date(year, month, 1)
            first_call = first + timedelta(days=(weekday - first.weekday()) % 7)
            week_start = first_call - timedelta(days=weekday)
        elif weekday < last_weekday:
            week_start += timedelta(weeks=1)
        dates.append(_in_month(week_start + timedelta(days=weekday), month))
        last_month, last_weekday = month, weekday
    return dates


def contact_values(number: int, row: dict[str, str]) -> list[str]:
    """The contact row (in CONTACT_COLUMNS order) of the file's row `number`."""
    cellular = row["contact"] == "cellular"
    return [
        f"bank-{number}",
        "Klant",
        str(number),
        "customer" if row["y"] == "yes" else "lead",
        f"+3161{number:07d}" if cellular else "",
        "" if cellular else f"+31205{number:06d}",
        *(row[name] for name in CUSTOM_COLUMNS),
    ]


def calls(number: int, row: dict[str, str], day: date) -> Iterator[tuple[date, str, str]]:
    """(day, outcome, subject) of every call of the row's history, oldest first."""
    previous = int(row["previous"])
    if previous:
        pdays = int(row["pdays"])
        last = day - timedelta(days=UNKNOWN_PDAYS if pdays == 999 else pdays)
        outcome = "meeting_booked" if row["poutcome"] == "success" else "not_interested"
        for index in range(previous - 1, -1, -1):
            yield last - timedelta(weeks=index), outcome, "Earlier campaign call"
    campaign = int(row["campaign"])
    for index in range(campaign - 1, 0, -1):
        yield day - timedelta(days=index), "no_answer", f"Campaign call {campaign - index}"
    decisive = "conversation" if row["y"] == "yes" else "not_interested"
    yield day, decisive, f"Campaign call {campaign}"


def write_files(rows: list[dict[str, str]], folder: Path) -> tuple[Path, Path, int]:
    """Write the contacts and the activities files; return their paths and the calls."""
    contacts_path = folder / "bank-contacts.csv"
    activities_path = folder / "bank-activities.csv"
    count = 0
    with (
        open(contacts_path, "w", newline="", encoding="utf-8") as contacts_file,
        open(activities_path, "w", newline="", encoding="utf-8") as activities_file,
    ):
        contacts = csv.writer(contacts_file)
        activities = csv.writer(activities_file)
        contacts.writerow([header for header, _field in CONTACT_COLUMNS])
        activities.writerow([header for header, _field in ACTIVITY_COLUMNS])
        for number, (row, day) in enumerate(zip(rows, call_dates(rows), strict=True), start=1):
            contacts.writerow(contact_values(number, row))
            for when, outcome, subject in calls(number, row, day):
                when_text = f"{when.isoformat()} {CALL_TIME}"
                activities.writerow(
                    [f"bank-{number}", "call", "outbound", outcome, when_text, subject]
                )
                count += 1
    return contacts_path, activities_path, count


def _run_import(actor, path: Path, target: str, columns, match_on: str):
    """One file through the import services, as `koers import` runs it (no dry run)."""
    from koers.dataio import sources
    from koers.dataio.files import job_path, job_source
    from koers.dataio.models import ImportJob
    from koers.dataio.services import imports

    job = imports.import_job_create(actor=actor, target=target, file_name=path.name, path=path)
    mapping = dict(columns)
    job = imports.import_job_configure(
        actor=actor,
        job=job,
        mapping=[mapping[header] for header in job.headers],
        match_on=match_on,
    )
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.QUEUED,
        total_rows=sources.source_count_rows(job_path(job), job_source(job)),
    )
    return imports.import_job_run(job_id=job.pk)


def bank_import(path: Path = DATA_FILE, *, actor, limit: int | None = None) -> dict:
    """Import the file's first `limit` rows (all by default) as contacts and their calls,
    acting as `actor`; return what each import did and how long it took."""
    rows = read_rows(Path(path), limit)
    with tempfile.TemporaryDirectory(prefix="koers-bank-") as folder:
        contacts_path, activities_path, calls_written = write_files(rows, Path(folder))
        started = time.perf_counter()
        contacts = _run_import(actor, contacts_path, "contacts", CONTACT_COLUMNS, "external_id")
        contacts_seconds = time.perf_counter() - started
        started = time.perf_counter()
        activities = _run_import(actor, activities_path, "activities", ACTIVITY_COLUMNS, "")
        activities_seconds = time.perf_counter() - started
    return {
        "rows": len(rows),
        "calls": calls_written,
        "contacts": contacts.created_count + contacts.updated_count,
        "contacts_created": contacts.created_count,
        "contacts_updated": contacts.updated_count,
        "activities": activities.created_count,
        "rejected": contacts.rejected_count + activities.rejected_count,
        "rejected_contacts": contacts.rejected_count,
        "rejected_activities": activities.rejected_count,
        "contacts_seconds": round(contacts_seconds, 2),
        "activities_seconds": round(activities_seconds, 2),
        "contact_job": contacts.pk,
        "activity_job": activities.pk,
    }


def _cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--limit", type=int, help="import only the first rows")
    parser.add_argument("--file", type=Path, default=DATA_FILE)
    parser.add_argument("--user", default="bank-importer", help="made an admin if missing")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koers.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from koers.core.models import User

    call_command("migrate", interactive=False, verbosity=0)
    actor, _made = User.objects.get_or_create(
        username=args.user, defaults={"role": User.Role.ADMIN, "language": "en"}
    )
    result = bank_import(args.file, actor=actor, limit=args.limit)
    for name, value in result.items():
        print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_cli())
