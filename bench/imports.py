"""Benchmark `imports`: 1,000,000 contacts imported from a CSV file, against a bare load.

    make bench ONLY=imports              1,000,000 rows
    SCALE=small make bench ONLY=imports  100,000 rows

The requirement (issue 7): the import of 1,000,000 contacts from CSV, with validation,
normalisation and matching, runs at 25% or more of the rate of a plain load of the same
file into a bare table measured in the same run: PostgreSQL's `COPY` on PostgreSQL,
SQLite's `executemany` on SQLite.

The file is generated once per scale and kept (var/bench/import-contacts-<rows>.csv, with
what an import of it should do in import-contacts-<rows>.json): a HubSpot contacts export
with its headers (Record ID, First Name, Last Name, Email, Phone Number, Mobile Phone
Number, Job Title, Company Name, Lifecycle Stage). Dutch first names and surnames, the last
name with its prefix ("de Vries", "van der Berg"); unique email addresses, mostly lower
case, some capitalised or with spaces around; 60% with a landline ("020-1234567",
"+31 30 1234567", "010 1234567"), 50% with a mobile number ("06-12345678", "+31 6 12345678",
"0612345678"); one of 50,000 companies, some employing far more of them than others,
written with " B.V.", " BV" or nothing behind the name (all three match the same company);
HubSpot's lifecycle stages. 0.5% of the rows are wrong (an email address or phone number
that is no such thing) and must be rejected; 1% repeat the email address of an earlier
row (another record ID, sometimes a new job title, phone number or employer) and must
update the contact that row made.

For SQLite (var/bench/imports.sqlite3) and PostgreSQL (database koers_bench_imports on
127.0.0.1, user postgres) it starts from an empty database (the file deleted, the database
dropped and created again), and runs a child process that migrates, then

  baseline  loads the file into `bare` (nine text columns) in the same database, without
            Django: PostgreSQL `COPY bare FROM STDIN (FORMAT csv, HEADER true)` fed with
            the file in chunks through psycopg; SQLite csv.reader into one
            `executemany` in one transaction, with the pragmas Koers sets (WAL,
            synchronous=NORMAL, …)
  indexed   the same rows written straight into Koers's own table, crm_contact, with all
  load      its indexes and its search index as migrated (trigram GIN indexes on
            PostgreSQL, the FTS5 table its triggers fill on SQLite), and nothing else: no
            validation, normalisation, matching, companies or audit trail. The columns the
            file has (Record ID as the external ID, as the import maps it; HubSpot's
            lifecycle stage as the code Koers keeps, since "marketingqualifiedlead" does
            not fit the column), the other NOT NULL columns as constants; PostgreSQL
            `COPY crm_contact (…) FROM STDIN` fed row by row through psycopg, SQLite one
            `executemany` in one transaction with the baseline's pragmas. Then the rows
            are deleted again (on SQLite the delete triggers empty the search index, whose
            leftover segments are dropped; on PostgreSQL TRUNCATE … RESTART IDENTITY), so
            the import starts from an empty table.
            Its share of the baseline's rate is the most an import that stores the same
            contacts where Koers keeps them can reach: it cannot beat merely storing them.
  dry run   imports.import_job_check: reads, cleans and matches every row, writes nothing
  import    imports.import_job_run after import_job_create and import_job_configure
            (match on email), the path of `koers import` and of the import wizard's worker:
            batches of 5,000 rows, each in one transaction with the job's counters,
            companies made for the names not found, an audit entry per record. Like
            `koers import` it reads the job back after each batch to show the progress.

The import's rate is the rows it processed (all of them, rejected ones too) per second of
import_job_run; its ratio to the baseline's rate is the issue's figure, and its ratio to the
indexed load's rate says how near it comes to that ceiling. The counts are
checked against what the generator knows it wrote. Figures go to var/bench/imports.json;
`bench/imports.py --markdown` prints them as the table of docs/benchmarks.md.
"""

import argparse
import csv
import itertools
import json
import os
import random
import re
import resource
import sqlite3
import sys
import time
import traceback
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

# Run as a script, bench/ is on sys.path: its helpers import as top-level modules.
from _common import OUT_DIR, ROOT, SCALES, git_state, machine_info, now_iso, scale_name, write_json
from _measure import run_child

NAME = "imports"
ROWS = 1_000_000
TARGET_RATIO = 0.25
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "koers_bench_imports"
SQLITE_PATH = OUT_DIR / "imports.sqlite3"
VAR_DIR = OUT_DIR / "imports-var"  # the benchmark's own secret key, cache and import folder
DATABASES = {
    "sqlite": f"sqlite:///{SQLITE_PATH}",
    "postgresql": f"{PG_SERVER}/{PG_DATABASE}",
}
PROGRESS_EVERY = 100_000  # rows

# The file. Change FILE_VERSION when the generator changes: older files are made again.
FILE_VERSION = 1
SEED = 7007
HEADERS = [
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
    "Job Title", "Company Name", "Lifecycle Stage",
]  # fmt: skip
COMPANIES = 50_000
LANDLINE_SHARE = 0.60
MOBILE_SHARE = 0.50
JOB_TITLE_SHARE = 0.85
BAD_SHARE = 0.005  # rows with an invalid email address or phone number
REPEAT_SHARE = 0.01  # rows with the email address of an earlier row
NEW_EMPLOYER = 0.2  # of the repeated rows: the person moved to another company

FIRST_NAMES = [
    "Jan", "Piet", "Kees", "Henk", "Gerrit", "Willem", "Johan", "Hans", "Peter", "Marco",
    "Jeroen", "Martijn", "Bas", "Tim", "Daan", "Sem", "Lucas", "Bram", "Thijs", "Ruben",
    "Niels", "Joost", "Wouter", "Erik", "Frank", "Rob", "Sander", "Mark", "Dennis", "Stefan",
    "Mohamed", "Ahmed", "Mehmet", "Emre", "Rajesh", "Maria", "Anna", "Johanna", "Cornelia",
    "Anja", "Monique", "Sandra", "Linda", "Marieke", "Esther", "Ingrid", "Petra", "Karin",
    "Femke", "Lotte", "Sanne", "Anouk", "Eva", "Sophie", "Emma", "Julia", "Lisa", "Fleur",
    "Iris", "Noor", "Saskia", "Els", "Ilse", "Marloes", "Renske", "Yara", "Fatima", "Aylin",
    "Zoë", "Chantal", "Nicole", "Bianca", "Wendy", "Kim", "Lieke", "Roos", "Floor", "Maud",
]  # fmt: skip
# Common Dutch surnames with their prefix, most common first; rarer ones are made below.
COMMON_SURNAMES = [
    ("de", "Jong"), ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"),
    ("", "Bakker"), ("", "Janssen"), ("", "Visser"), ("", "Smit"), ("", "Meijer"),
    ("de", "Boer"), ("", "Mulder"), ("de", "Groot"), ("", "Bos"), ("", "Vos"),
    ("", "Peters"), ("", "Hendriks"), ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"),
    ("de", "Wit"), ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"),
    ("van der", "Linden"), ("", "Kok"), ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"),
    ("van den", "Heuvel"), ("van der", "Veen"), ("van den", "Broek"), ("de", "Bruijn"),
    ("van der", "Berg"), ("van der", "Heijden"), ("", "Schouten"), ("van", "Beek"),
    ("", "Willems"), ("van", "Vliet"), ("van de", "Ven"), ("", "Hoekstra"), ("", "Maas"),
    ("", "Verhoeven"), ("", "Koster"), ("van", "Dam"), ("van der", "Wal"), ("", "Prins"),
    ("", "Yılmaz"), ("", "Kaya"), ("El", "Amrani"), ("", "Öztürk"), ("", "Nguyen"),
]  # fmt: skip
COMMON_SHARE = 0.4
SURNAME_STEMS = [
    "Hoog", "Laag", "Groot", "Klein", "Oost", "West", "Noord", "Zuid", "Berg", "Veen",
    "Zand", "Molen", "Brug", "Kerk", "Dijk", "Water", "Wind", "Hout", "Steen", "Hof",
    "Kamp", "Broek", "Horst", "Linde", "Eik", "Beuk", "Wilg", "Riet", "Gras", "Bloem",
    "Rozen", "Vogel", "Haan", "Valk", "Wolf", "Beer", "Hert", "Zwaan", "Kraai", "Mees",
]  # fmt: skip
SURNAME_ENDINGS = [
    "man", "mans", "sma", "stra", "inga", "ink", "ing", "huis", "veld", "kamp", "dijk",
    "berg", "hof", "horst", "broek", "beek", "meer", "burg", "wijk", "ers", "sen", "ema",
]  # fmt: skip
RARE_PREFIXES = ["van", "de", "van der", "van den", "ter"]
RARE_PREFIX_SHARE = 0.2
INDUSTRY_WORDS = [
    "Software", "IT", "Digital", "Automatisering", "Groothandel", "Trading", "Import",
    "Accountants", "Advocaten", "Administratiekantoor", "Consultancy", "Advies",
    "Ingenieursbureau", "Architecten", "Bouw", "Bouwbedrijf", "Installatietechniek",
    "Elektrotechniek", "Dakwerken", "Metaalbewerking", "Machinebouw", "Transport",
    "Logistiek", "Distributie", "Zorggroep", "Fysiotherapie", "Makelaardij", "Drukkerij",
    "Schilders", "Hoveniers", "Bakkerij", "Catering", "Verhuur", "Media", "Marketing",
]  # fmt: skip
REGIONS = [
    "Noord", "Zuid", "Delta", "Rijn", "Maas", "Polder", "Veluwe", "Kempen", "Twente",
    "Gooi", "Duin", "Eem", "Amstel", "Holland", "Brabant", "Limburg", "Friesland", "Zeeland",
]  # fmt: skip
CITIES = [
    "Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen", "Tilburg",
    "Almere", "Breda", "Nijmegen", "Apeldoorn", "Arnhem", "Haarlem", "Enschede", "Zwolle",
]  # fmt: skip
LEGAL_SUFFIXES = [" B.V.", " BV", ""]
FREE_MAIL = ["gmail.com", "hotmail.com", "outlook.com", "ziggo.nl", "kpnmail.nl", "xs4all.nl"]
FREE_MAIL_SHARE = 0.3
# Dutch area codes of two digits (the subscriber number has seven).
AREA_CODES = [
    "10", "13", "15", "20", "23", "24", "26", "30", "33", "35", "36", "38", "40", "43",
    "45", "50", "53", "55", "58", "70", "71", "72", "73", "74", "75", "76", "77", "78", "79",
]  # fmt: skip
JOB_TITLES = [
    "Directeur", "Algemeen directeur", "Eigenaar", "Inkoper", "Hoofd inkoop", "CFO",
    "Financieel manager", "Controller", "Office manager", "IT-manager", "CTO",
    "Operationeel manager", "Projectleider", "Accountmanager", "Marketingmanager",
    "HR-adviseur", "Bedrijfsleider", "Werkvoorbereider", "Management assistent",
]  # fmt: skip
LIFECYCLE_STAGES = [
    ("lead", 40), ("subscriber", 15), ("marketingqualifiedlead", 15), ("opportunity", 10),
    ("customer", 20),
]  # fmt: skip
BAD_PHONES = ["020-12345", "06-123", "12345", "+31 6 0123456", "06-1234567890", "tel. onbekend"]


# --- the file -------------------------------------------------------------------------


def rows_for(scale: str) -> int:
    return int(ROWS * SCALES[scale])


def file_paths(rows: int) -> tuple[Path, Path]:
    """The CSV file and what the generator knows about it."""
    return OUT_DIR / f"import-contacts-{rows}.csv", OUT_DIR / f"import-contacts-{rows}.json"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _key(name: str) -> str:
    """Close enough to koers.crm.normalise.company_name_key for these names (no legal form)."""
    return " ".join(re.findall(r"\w+", name.casefold()))


class Generator:
    def __init__(self, rows: int):
        self.rows = rows
        self.rng = random.Random(SEED)
        stages, weights = zip(*LIFECYCLE_STAGES, strict=True)
        self.stages = (stages, list(itertools.accumulate(weights)))
        self.emails: set[str] = set()  # lower case, as Koers keeps them
        self.next_number: dict[str, int] = {}

    def surname(self) -> tuple[str, str]:
        rng = self.rng
        if rng.random() < COMMON_SHARE:
            return rng.choice(COMMON_SURNAMES)
        prefix = rng.choice(RARE_PREFIXES) if rng.random() < RARE_PREFIX_SHARE else ""
        return prefix, rng.choice(SURNAME_STEMS) + rng.choice(SURNAME_ENDINGS)

    def companies(self) -> list[tuple[str, str]]:
        """COMPANIES names with distinct matching keys, each with its email domain."""
        rng = self.rng
        found, keys = [], set()
        while len(found) < COMPANIES:
            word = rng.choice(INDUSTRY_WORDS)
            form = rng.random()
            if form < 0.5:
                name = f"{self.surname()[1]} {word}"
            elif form < 0.8:
                name = f"{self.surname()[1]} & {self.surname()[1]} {word}"
            elif form < 0.9:
                name = f"{word} {rng.choice(REGIONS)}"
            else:
                name = f"{rng.choice(REGIONS)} {word} {rng.choice(CITIES)}"
            key = _key(name)
            if key in keys:
                continue
            keys.add(key)
            domain = re.sub(r"[^a-z0-9]", "", _ascii(name).lower().replace("&", "en")) + ".nl"
            found.append((name, domain))
        return found

    def email(self, first: str, prefix: str, last: str, domain: str) -> str:
        """A new address for the person, unique in the file (case-blind), as people type it."""
        rng = self.rng
        given = _ascii(first).lower()
        family = _ascii(f"{prefix}{last}").lower().replace(" ", "")
        local = rng.choice([f"{given}.{family}", f"{given[0]}.{family}", f"{given}{family}"])
        address = f"{local}@{domain}"
        if address in self.emails:
            number = self.next_number.get(address, 2)
            while f"{local}{number}@{domain}" in self.emails:
                number += 1
            self.next_number[address] = number + 1
            address = f"{local}{number}@{domain}"
        self.emails.add(address)
        style = rng.random()
        if style < 0.22:  # capitalised: Jan.deVries@Hoogveldbouw.nl
            name_part, _at, host = address.partition("@")
            address = ".".join(
                part[:1].upper() + part[1:] for part in name_part.split(".")
            ) + "@" + host.capitalize()  # fmt: skip
        elif style < 0.25:
            address = address.upper()
        if rng.random() < 0.05:
            address = rng.choice([f" {address}", f"{address} ", f"  {address} "])
        return address

    def landline(self) -> str:
        rng = self.rng
        area, number = rng.choice(AREA_CODES), rng.randrange(2_000_000, 10_000_000)
        return rng.choice([f"0{area}-{number}", f"+31 {area} {number}", f"0{area} {number}"])

    def mobile(self) -> str:
        rng = self.rng
        digits = f"{rng.randint(1, 5)}{rng.randrange(10_000_000):07d}"
        return rng.choice([f"06-{digits}", f"+31 6 {digits}", f"06{digits}"])

    def write(self, path: Path) -> dict:
        """Write the file; return what an import of it (matching on email) should do."""
        rng = self.rng
        companies = self.companies()
        sizes = list(itertools.accumulate(rng.lognormvariate(0, 1) for _ in companies))
        employer = rng.choices(range(COMPANIES), cum_weights=sizes, k=self.rows)
        # Which rows are wrong and which repeat an earlier one, decided first, so that the
        # rows repeated are known when they are written.
        kinds = []
        for _ in range(self.rows):
            draw = rng.random()
            if draw < BAD_SHARE:
                kinds.append("bad")
            elif draw < BAD_SHARE + REPEAT_SHARE:
                kinds.append("repeat")
            else:
                kinds.append("new")
        source_of = {}  # repeating row → the earlier row it repeats (a new, valid one)
        for index, kind in enumerate(kinds):
            if kind != "repeat":
                continue
            tries = (rng.randrange(index) for _ in range(20 if index else 0))
            source = next((earlier for earlier in tries if kinds[earlier] == "new"), None)
            if source is None:
                kinds[index] = "new"
            else:
                source_of[index] = source
        repeated = set(source_of.values())
        people: dict[int, tuple] = {}
        company_keys: set[str] = set()
        record_id = 1_000_000 + rng.randrange(1_000_000)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(HEADERS)
            for index, kind in enumerate(kinds):
                record_id += rng.randint(1, 60)
                job_title = rng.choice(JOB_TITLES) if rng.random() < JOB_TITLE_SHARE else ""
                phone = self.landline() if rng.random() < LANDLINE_SHARE else ""
                mobile = self.mobile() if rng.random() < MOBILE_SHARE else ""
                stage = rng.choices(self.stages[0], cum_weights=self.stages[1])[0]
                company = employer[index]
                if kind == "repeat":
                    first, last_name, email, company = people[source_of[index]]
                    if rng.random() < NEW_EMPLOYER:
                        company = employer[index]
                    email = rng.choice([email, email.strip().lower(), email.strip().upper()])
                else:
                    first = rng.choice(FIRST_NAMES)
                    prefix, last = self.surname()
                    last_name = f"{prefix} {last}".strip()
                    domain = companies[company][1]
                    if rng.random() < FREE_MAIL_SHARE:
                        domain = rng.choice(FREE_MAIL)
                    email = self.email(first, prefix, last, domain)
                    if index in repeated:
                        people[index] = (first, last_name, email, company)
                if kind == "bad":
                    if rng.random() < 0.5:
                        local = email.strip().partition("@")[0]
                        email = rng.choice(
                            [f"{local}@", f"{local} at {companies[company][1]}",
                             f"{local}@@{companies[company][1]}", f"{local}@bedrijf",
                             f"{local}..x@{companies[company][1]}"]
                        )  # fmt: skip
                    elif rng.random() < 0.5:
                        phone = rng.choice(BAD_PHONES)
                    else:
                        mobile = rng.choice(BAD_PHONES)
                else:
                    company_keys.add(_key(companies[company][0]))
                writer.writerow(
                    [
                        record_id,
                        first,
                        last_name,
                        email,
                        phone,
                        mobile,
                        job_title,
                        companies[company][0] + rng.choice(LEGAL_SUFFIXES),
                        stage,
                    ]
                )
        tmp.replace(path)
        bad, repeats = kinds.count("bad"), len(source_of)
        return {
            "created": self.rows - bad - repeats,
            "updated": repeats,
            "skipped": 0,
            "rejected": bad,
            "companies": len(company_keys),
        }


def ensure_file(rows: int) -> dict:
    """Generate the file for this many rows unless it is there already; describe it."""
    path, about_path = file_paths(rows)
    if path.exists() and about_path.exists():
        about = json.loads(about_path.read_text())
        if about.get("version") == FILE_VERSION and about.get("seed") == SEED:
            print(f"  {path.relative_to(ROOT)} already there: reused", flush=True)
            return about
    print(f"  generating {path.relative_to(ROOT)} ({rows:,} rows)", flush=True)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    expected = Generator(rows).write(path)
    about = {
        "version": FILE_VERSION,
        "seed": SEED,
        "rows": rows,
        "file": str(path.relative_to(ROOT)),
        "bytes": path.stat().st_size,
        "generate_s": round(time.monotonic() - started, 1),
        "expected": expected,
    }
    about_path.write_text(json.dumps(about, indent=2) + "\n")
    print(f"  generated in {about['generate_s']} s: {about['bytes'] / 2**20:.0f} MiB", flush=True)
    return about


# --- the parent: one child per database, then the report ------------------------------


def fresh_database(database: str) -> None:
    """An empty database: the SQLite file removed, the PostgreSQL database made again."""
    if database == "sqlite":
        for leftover in (SQLITE_PATH, Path(f"{SQLITE_PATH}-wal"), Path(f"{SQLITE_PATH}-shm")):
            leftover.unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def _yes(run: dict) -> str:
    return "yes" if run["meets_target"] else "NO"


def table(report: dict) -> str:
    header = (
        f"{'database':<11} {'baseline':<12} {'base s':>7} {'base rows/s':>11} "
        f"{'indexed s':>9} {'idx rows/s':>10} {'idx÷base':>8} "
        f"{'import s':>8} {'rows/s':>7} {'ratio':>6} {'≥25%':>4} {'÷idx':>6} {'dry s':>6} "
        f"{'created':>9} {'updated':>7} {'rejected':>8} {'companies':>9} {'RSS MiB':>7}"
    )
    lines = [header, "-" * len(header)]
    for run in report["databases"]:
        if "import" not in run:
            lines.append(f"{run['database']:<11} ERROR: {run['error']}")
            continue
        base, indexed, done = run["baseline"], run["indexed_load"], run["import"]
        lines.append(
            f"{run['database']:<11} {base['method']:<12} {base['seconds']:>7.2f} "
            f"{base['rows_per_s']:>11,.0f} {indexed['seconds']:>9.2f} "
            f"{indexed['rows_per_s']:>10,.0f} {indexed['ratio']:>8.1%} "
            f"{done['seconds']:>8.1f} {done['rows_per_s']:>7,.0f} "
            f"{run['ratio']:>6.1%} {_yes(run):>4} {run['ratio_to_indexed_load']:>6.1%} "
            f"{done['dry_run_s']:>6.1f} "
            f"{done['created']:>9,} {done['updated']:>7,} {done['rejected']:>8,} "
            f"{done['companies']:>9,} {run['peak_rss_mib']:>7,}"
        )
        if "error" in run:
            lines.append(f"{'':<11} ERROR: {run['error']}")
    return "\n".join(lines)


def markdown(report: dict) -> str:
    """The figures as the Markdown table of docs/benchmarks.md."""
    out = [
        f"{report['rows']:,} rows; rows/s of the import counts every row of the file, "
        "rejected ones too.\n",
        "| database | baseline | baseline s | baseline rows/s | indexed load s "
        "| indexed load rows/s | indexed load ÷ baseline | dry run s | import s "
        f"| import rows/s | import ÷ baseline | ≥ {TARGET_RATIO:.0%} | import ÷ indexed load "
        "| created | updated | rejected | companies | peak RSS MiB |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|",
    ]
    for run in report["databases"]:
        if "import" not in run:
            out.append(f"| {run['database']} | error: {run['error']} |")
            continue
        base, indexed, done = run["baseline"], run["indexed_load"], run["import"]
        out.append(
            f"| {run['version']} | `{base['method']}` | {base['seconds']:.2f} "
            f"| {base['rows_per_s']:,.0f} | {indexed['seconds']:.2f} "
            f"| {indexed['rows_per_s']:,.0f} | {indexed['ratio']:.1%} "
            f"| {done['dry_run_s']:.1f} | {done['seconds']:.1f} "
            f"| {done['rows_per_s']:,.0f} | {run['ratio']:.1%} "
            f"| {_yes(run).replace('NO', '**no**')} | {run['ratio_to_indexed_load']:.1%} "
            f"| {done['created']:,} "
            f"| {done['updated']:,} | {done['rejected']:,} | {done['companies']:,} "
            f"| {run['peak_rss_mib']:,} |"
        )
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--child", choices=list(DATABASES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--only-db", choices=list(DATABASES), help="measure one database only")
    parser.add_argument(
        "--markdown", action="store_true", help=f"print var/bench/{NAME}.json as Markdown"
    )
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.out)
    if args.markdown:
        print(markdown(json.loads((OUT_DIR / f"{NAME}.json").read_text())))
        return 0

    scale = scale_name()
    rows = rows_for(scale)
    about = ensure_file(rows)
    report = {
        "benchmark": NAME,
        "date": now_iso(),
        "scale": scale,
        "rows": rows,
        "target_ratio": TARGET_RATIO,
        "file": about,
        "machine": machine_info(),
        "source": git_state(),
        "databases": [],
    }
    for database in [args.only_db] if args.only_db else list(DATABASES):
        print(f"-- {database}", flush=True)
        try:
            fresh_database(database)
        except Exception as error:  # no server: report it, measure the rest
            report["databases"].append({"database": database, "error": str(error)})
            continue
        report["databases"].append(
            run_child(__file__, NAME, database, DATABASES[database], VAR_DIR, scale, refill=False)
        )
    path = write_json(NAME, report)
    print()
    print(
        f"imports at scale {scale}: {rows:,} contacts from {about['file']} "
        f"({about['bytes'] / 2**20:.0f} MiB); baseline: a bare load of the same file; "
        "indexed load: its rows straight into crm_contact, the ceiling of any import"
    )
    print(table(report))
    runs = [run for run in report["databases"] if "import" in run]
    for run in runs:
        if not run["as_expected"]:
            print(
                f"{run['database']}: counts differ from the file's: got {run['counts']}, "
                f"expected {report['file']['expected']}"
            )
    print(
        f"the issue's figure (import ≥ {TARGET_RATIO:.0%} of the bare load): "
        + ("met" if runs and all(run["meets_target"] for run in runs) else "NOT met")
    )
    print(f"\nfigures: {path.relative_to(ROOT)}")
    return 1 if any("error" in run for run in report["databases"]) else 0


# --- the child: one database, inside Django ------------------------------------------


BARE_COLUMNS = (
    "record_id", "first_name", "last_name", "email", "phone", "mobile", "job_title",
    "company_name", "lifecycle_stage",
)  # fmt: skip
BARE_TABLE = f"CREATE TABLE bare ({', '.join(f'{name} text' for name in BARE_COLUMNS)})"


def _sqlite_connect(database: Path, pragmas: str) -> sqlite3.Connection:
    """Plain sqlite3 in autocommit, with the pragmas Koers sets."""
    conn = sqlite3.connect(database, isolation_level=None)
    for pragma in filter(None, (part.strip() for part in pragmas.split(";"))):
        conn.execute(pragma).fetchall()
    return conn


def baseline_sqlite(database: Path, path: Path, pragmas: str) -> dict:
    """csv.reader into one executemany, in one transaction, with plain sqlite3."""
    conn = _sqlite_connect(database, pragmas)
    try:
        conn.execute(BARE_TABLE)
        marks = ", ".join("?" * len(BARE_COLUMNS))
        started = time.perf_counter()
        with path.open(newline="", encoding="utf-8") as source:
            reader = csv.reader(source)
            next(reader)
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO bare VALUES ({marks})", reader)
            conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM bare").fetchone()[0]
    finally:
        conn.close()
    return {"method": "executemany", "seconds": seconds, "rows": rows}


def baseline_postgresql(url: str, path: Path) -> dict:
    """COPY … FROM STDIN (FORMAT csv), the file fed in chunks, with plain psycopg."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(BARE_TABLE)
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY bare FROM STDIN (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as source,
        ):
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM bare").fetchone()[0]
    return {"method": "COPY", "seconds": seconds, "rows": rows}


# crm_contact's columns the file fills, in the file's order, then its NOT NULL columns
# without a default in the database, which the indexed load fills with constants.
CONTACT_COLUMNS = (
    "external_id", "first_name", "last_name", "email", "phone", "mobile", "job_title",
    "lifecycle_stage",
)  # fmt: skip
CONTACT_CONSTANT_COLUMNS = (
    "created_at", "updated_at", "name_prefix", "function", "dmu_role", "linkedin_url",
    "lead_source", "do_not_call", "custom_fields",
)  # fmt: skip
CONTACT_INSERT = "({})".format(
    ", ".join(f'"{name}"' for name in (*CONTACT_COLUMNS, *CONTACT_CONSTANT_COLUMNS))
)


def _contact_rows(source, constants: tuple) -> Iterator[tuple]:
    """The file's rows as crm_contact rows: CONTACT_COLUMNS, then `constants`."""
    from koers.dataio.targets import LIFECYCLE_SYNONYMS

    # HubSpot's stages as the codes Koers keeps: "marketingqualifiedlead" is longer than
    # the column (PostgreSQL refuses it); the others are Koers's codes already.
    stages = {name: str(code) for name, code in LIFECYCLE_SYNONYMS.items()}
    reader = csv.reader(source)
    next(reader)
    for record_id, first, last, email, phone, mobile, job_title, _company, stage in reader:
        yield (
            record_id, first, last, email, phone, mobile, job_title, stages.get(stage, stage),
            *constants,
        )  # fmt: skip


def _constants(now) -> tuple:
    """The values of CONTACT_CONSTANT_COLUMNS: an imported contact's, with `now` stamped."""
    from koers.crm.models import Contact

    return (now, now, "", "", "", "", str(Contact.LeadSource.IMPORT), False, "{}")


def indexed_load_sqlite(database: Path, path: Path, pragmas: str) -> dict:
    """The file's rows into crm_contact in one executemany, in one transaction, with plain
    sqlite3 and the baseline's pragmas; then deleted again."""
    conn = _sqlite_connect(database, pragmas)
    try:
        # As Django writes a datetime into SQLite: UTC, without the offset.
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        marks = ", ".join("?" * (len(CONTACT_COLUMNS) + len(CONTACT_CONSTANT_COLUMNS)))
        started = time.perf_counter()
        with path.open(newline="", encoding="utf-8") as source:
            conn.execute("BEGIN")
            conn.executemany(
                f"INSERT INTO crm_contact {CONTACT_INSERT} VALUES ({marks})",
                _contact_rows(source, _constants(now)),
            )
            conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM crm_contact").fetchone()[0]
        started = time.perf_counter()
        conn.execute("BEGIN")
        # Row by row, so that the delete triggers take each out of the search index too.
        conn.execute("DELETE FROM crm_contact")
        # AUTOINCREMENT remembers the largest id given; the import starts from 1 again.
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'crm_contact'")
        # The FTS5 table keeps one size row per contact it indexes.
        indexed = conn.execute("SELECT count(*) FROM crm_contact_search_docsize").fetchone()[0]
        if indexed:
            raise RuntimeError(f"the search index still holds {indexed:,} deleted contacts")
        # The deletes are kept as tombstones beside the entries until segments are merged;
        # dropped here, so that the import meets the search index as migrated.
        conn.execute("INSERT INTO crm_contact_search (crm_contact_search) VALUES ('delete-all')")
        conn.execute("COMMIT")
        delete_s = time.perf_counter() - started
    finally:
        conn.close()
    return {"method": "executemany", "seconds": seconds, "rows": rows, "delete_s": delete_s}


def indexed_load_postgresql(url: str, path: Path) -> dict:
    """COPY crm_contact (…) FROM STDIN, the file's rows written through psycopg, with plain
    psycopg; then the table emptied again."""
    import psycopg

    with psycopg.connect(url) as conn:
        constants = _constants(datetime.now(UTC))
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY crm_contact {CONTACT_INSERT} FROM STDIN") as copy,
            path.open(newline="", encoding="utf-8") as source,
        ):
            for row in _contact_rows(source, constants):
                copy.write_row(row)
        conn.commit()
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM crm_contact").fetchone()[0]
        started = time.perf_counter()
        # Nothing refers to a contact yet; the import takes ids from 1 again.
        conn.execute("TRUNCATE crm_contact RESTART IDENTITY CASCADE")
        conn.commit()
        delete_s = time.perf_counter() - started
    return {"method": "COPY", "seconds": seconds, "rows": rows, "delete_s": delete_s}


def _peak_rss_mib() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def child(database: str, out: Path) -> int:
    import django

    django.setup()
    from _measure import db_version, server_settings
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    scale = scale_name()
    rows = rows_for(scale)
    path, about_path = file_paths(rows)
    expected = json.loads(about_path.read_text())["expected"]
    # Links to the files of earlier runs' imports; the folder is the benchmark's own.
    folder = Path(settings.VAR_DIR) / "imports"
    if folder.is_dir():
        for link in folder.iterdir():
            if link.is_symlink():
                link.unlink()

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    result: dict = {
        "database": database,
        "version": db_version(connection),
        "migrate_s": round(time.perf_counter() - started, 1),
    }
    print(f"  {result['version']}: migrated in {result['migrate_s']} s", flush=True)

    if connection.vendor == "sqlite":
        pragmas = connection.settings_dict["OPTIONS"].get("init_command", "")
        baseline = baseline_sqlite(Path(connection.settings_dict["NAME"]), path, pragmas)
        baseline["pragmas"] = pragmas
    else:
        baseline = baseline_postgresql(os.environ["DATABASE_URL"], path)
    baseline["rows_per_s"] = round(baseline["rows"] / baseline["seconds"])
    baseline["seconds"] = round(baseline["seconds"], 3)
    result["baseline"] = baseline
    print(
        f"  baseline {baseline['method']}: {baseline['rows']:,} rows in "
        f"{baseline['seconds']:.2f} s, {baseline['rows_per_s']:,} rows/s",
        flush=True,
    )
    try:
        if connection.vendor == "sqlite":
            indexed = indexed_load_sqlite(Path(connection.settings_dict["NAME"]), path, pragmas)
        else:
            indexed = indexed_load_postgresql(os.environ["DATABASE_URL"], path)
        indexed["rows_per_s"] = round(indexed["rows"] / indexed["seconds"])
        indexed["ratio"] = round(indexed["rows_per_s"] / baseline["rows_per_s"], 4)
        indexed["seconds"] = round(indexed["seconds"], 3)
        indexed["delete_s"] = round(indexed["delete_s"], 1)
        result["indexed_load"] = indexed
        print(
            f"  indexed load {indexed['method']} into crm_contact: {indexed['rows']:,} rows in "
            f"{indexed['seconds']:.2f} s, {indexed['rows_per_s']:,} rows/s, "
            f"{indexed['ratio']:.1%} of the baseline (deleted again in {indexed['delete_s']} s)",
            flush=True,
        )
        result.update(measure_import(path, expected, baseline, indexed))
    except Exception as error:
        traceback.print_exc()
        result["error"] = f"{type(error).__name__}: {error}"
        result["traceback"] = traceback.format_exc()
    result["peak_rss_mib"] = _peak_rss_mib()
    result["server_settings"] = server_settings(connection)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    return 0


def measure_import(path: Path, expected: dict, baseline: dict, indexed: dict) -> dict:
    from koers.core.models import AuditEntry, User
    from koers.crm.models import Company, Contact
    from koers.dataio.models import ImportJob, ImportRejection
    from koers.dataio.services import imports

    user = User.objects.create(username="bench-importer", role=User.Role.ADMIN)
    started = time.perf_counter()
    job = imports.import_job_create(actor=user, target="contacts", file_name=path.name, path=path)
    job = imports.import_job_configure(actor=user, job=job, mapping=job.mapping, match_on="email")
    prepare_s = time.perf_counter() - started
    mapping = dict(zip(job.headers, job.mapping, strict=True))

    print("  dry run", flush=True)
    started = time.perf_counter()
    job = imports.import_job_check(job_id=job.pk)
    dry_run_s = time.perf_counter() - started
    preview = {key: value for key, value in job.preview.items() if key != "errors"}
    print(f"  dry run: {dry_run_s:.1f} s, {preview}", flush=True)

    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    next_report = [PROGRESS_EVERY]

    def progress(current: ImportJob) -> None:
        if current.processed_rows >= next_report[0]:
            next_report[0] += PROGRESS_EVERY
            took = time.perf_counter() - started
            print(
                f"    {current.processed_rows:,} rows in {took:.0f} s "
                f"({current.processed_rows / took:,.0f} rows/s)",
                flush=True,
            )

    print("  import", flush=True)
    started = time.perf_counter()
    job = imports.import_job_run(job_id=job.pk, on_batch=progress)
    seconds = time.perf_counter() - started
    if job.status != ImportJob.Status.DONE:
        raise RuntimeError(f"the import ended {job.status}: {job.failure}")

    counts = {
        "created": job.created_count,
        "updated": job.updated_count,
        "skipped": job.skipped_count,
        "rejected": job.rejected_count,
        "companies": Company.objects.count(),
    }
    rate = job.processed_rows / seconds
    ratio = rate / baseline["rows_per_s"]
    done = {
        "import": {
            "prepare_s": round(prepare_s, 2),
            "mapping": mapping,
            "match_on": job.match_on,
            "dry_run_s": round(dry_run_s, 1),
            "dry_run_rows_per_s": round(job.total_rows / dry_run_s),
            "dry_run_counts": preview,
            "seconds": round(seconds, 1),
            "rows": job.processed_rows,
            "rows_per_s": round(rate),
            **counts,
            "contacts": Contact.objects.count(),
            "rejections_kept": ImportRejection.objects.filter(job=job).count(),
            "audit_entries": AuditEntry.objects.count(),
            "first_rejections": [
                {"row": rejection.row_number, "reason": rejection.reason}
                for rejection in ImportRejection.objects.filter(job=job).order_by("row_number")[:5]
            ],
        },
        "counts": counts,
        "expected": expected,
        "as_expected": counts == expected,
        "ratio": round(ratio, 4),
        "meets_target": ratio >= TARGET_RATIO,
        "ratio_to_indexed_load": round(rate / indexed["rows_per_s"], 4),
    }
    print(
        f"  import: {job.processed_rows:,} rows in {seconds:.1f} s, {rate:,.0f} rows/s, "
        f"{ratio:.1%} of the baseline, {done['ratio_to_indexed_load']:.1%} of the indexed "
        f"load; {counts}",
        flush=True,
    )
    if counts != expected:
        print(f"  counts differ from the file's: expected {expected}", flush=True)
    return done


if __name__ == "__main__":
    sys.exit(main())
