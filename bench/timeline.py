"""Benchmark `timeline`: an account's timeline with 100,000 entries, and its company page.

    make bench ONLY=timeline              an account with 100,000 entries; 2,000 other companies
    SCALE=small make bench ONLY=timeline  an account with 10,000 entries; 200 other companies

The requirement (issue 4): the timeline of an account with 100,000 entries shows its first
page with a p95 under 100 ms, on SQLite and PostgreSQL.

For SQLite (var/bench/timeline.sqlite3) and PostgreSQL (database koers_bench_timeline on
127.0.0.1, created when missing) it runs a child process that migrates, fills the
database once per scale (reused afterwards) and measures the server time of the real
views through django.test.Client: middleware, view, queries and template, in-process.

The data: one account, a BV of team West with 20 contacts and 10 deals (two pipelines
made from the sales-model templates; two deals belong to customer success), whose
timeline holds 100,000 entries over five years: done activities of every kind (calls
and emails most, meetings few), more of them lately and in office hours, by a handful
of colleagues, most with one of its contacts (some contacts far busier than others) and
a quarter with one of its deals, plus 3% stage changes of its deals. Some entries share
their moment with another, also across sources, as bulk logging and a deal's move with
its note do. The account also has planned tasks. Around it: 2,000 other companies, each
with 5 contacts, a deal with its moves, and 50 activities of its own, written in time
order with the account's, so the table is not just the one account. And a small account
(60 entries) of the same owner, to show that the number of queries does not grow with
the number of entries.

As a sales representative of team West (sees the account through the team) and as a
manager (sees all) it asks for

  first-page    /timeline/company/<id>/: the first page of the account's timeline (the
                figure the issue names)
  filtered      the same, only meetings (kind=meeting, about 4% of the entries)
  deep          the page after following "Older" 200 pages deep (before=<cursor>)
  contact       the first page of the timeline of the account's busiest contact
  company-page  the account's company page, which includes the first timeline page

Each page is asked WARMUP times, then REQUESTS times, the pages taking turns. It reports
the median and p95 (nearest rank) server time, the time spent in the database, the number
of SQL queries on the account and on the small account, and the plans of each page's
slowest queries (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite). Before
measuring it checks that the 200 pages followed hold exactly the newest entries in the
timeline's order, none twice and none skipped, and that a page ending inside entries of
the same moment (of one source, and across sources) goes on with the right ones, and
that the deep page offers the same "Older" cursor as timeline_page. Figures go to
var/bench/timeline.json;
`bench/timeline.py --markdown` prints them as the tables of docs/benchmarks.md.
"""

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

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

NAME = "timeline"
ENTRIES = 100_000  # on the account's timeline: done activities and stage changes
OTHER_COMPANIES = 2_000
TARGET_P95_MS = 100
WARMUP = 5
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "100"))
PROFILE_REQUESTS = 5
DEEP_PAGES = 200
TIES_TRIED = 300  # page ends inside ties of one source checked; all across sources
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "koers_bench_timeline"
VAR_DIR = OUT_DIR / "timeline-var"  # the benchmark's own secret key, cache and static files
DATABASES = {
    "sqlite": f"sqlite:///{OUT_DIR / 'timeline.sqlite3'}",
    "postgresql": f"{PG_SERVER}/{PG_DATABASE}",
}
PAGES = ("first-page", "filtered", "deep", "contact", "company-page")
NAMED_PAGE = "first-page"
USERS = ("sales", "manager")
RARE_KIND = "meeting"

# The data. Change FILL_VERSION when the generator changes: older data is filled again.
FILL_VERSION = 1
SEED = 4004
ACCOUNT_NAME = "Kroonenberg Groep B.V."
SMALL_NAME = "Bakkerij Verhoeven B.V."
ACCOUNT_CONTACTS = 20
ACCOUNT_DEALS = 10
STAGE_SHARE = 0.03  # of the account's entries
TIED_MOVES = 0.10  # of its stage changes, logged with a note at the same moment
SAME_MOMENT = 0.02  # of its activities, logged at the moment of the one before
PLANNED_SHARE = 0.002  # of its entries: planned tasks on top
SMALL_ENTRIES, SMALL_MOVES, SMALL_CONTACTS = 60, 5, 3
OTHER_CONTACTS = 5  # per other company
OTHER_ACTIVITIES = 50  # per other company, done
OTHER_PLANNED = 2  # per other company
HISTORY = timedelta(days=5 * 365)
OTHER_HISTORY = timedelta(days=3 * 365)
DAY = timedelta(days=1)
BATCH = 5_000

KINDS = (
    ("call", 30), ("email", 32), ("note", 12), ("task", 8), ("meeting", 4), ("visit", 2),
    ("linkedin", 8), ("whatsapp", 4),
)  # fmt: skip
SUBJECTS = {
    "call": ("Gebeld over de verlenging", "Terugbelverzoek afgehandeld", "Offerte nagebeld",
             "Vraag over de factuur", "Levering doorgesproken", "Kort contact over planning"),
    "email": ("Offerte verstuurd", "Re: planning implementatie", "Contractvoorstel",
              "Vragen over de koppeling", "Notulen kwartaaloverleg", "Prijsindexatie 2026"),
    "note": ("Budget voor volgend jaar bevestigd", "Contactpersoon met verlof",
             "Nieuwe inkoper per 1 maart", "Concurrent is langs geweest"),
    "task": ("Offerte nasturen", "Contract laten tekenen", "Referentie opvragen",
             "Factuur controleren"),
    "meeting": ("Kwartaaloverleg", "Demo nieuwe module", "Kick-off implementatie",
                "Evaluatiegesprek"),
    "visit": ("Bezoek op locatie", "Rondleiding magazijn"),
    "linkedin": ("Connectieverzoek geaccepteerd", "Bericht over het webinar"),
    "whatsapp": ("Afspraak bevestigd", "Korte vraag over de levering"),
}  # fmt: skip
SENTENCES = (
    "Ze willen eerst intern afstemmen met financiën.",
    "Levering in week 12 is haalbaar volgens de planner.",
    "De huidige leverancier zit nog vast tot het einde van het jaar.",
    "Graag volgende maand terugbellen over de uitbreiding.",
    "Tevreden over de support, wel vragen over de rapportages.",
    "Directie beslist na de kwartaalcijfers.",
    "Contract loopt door, indexatie akkoord.",
    "Nieuwe vestiging in Almere opent in het voorjaar.",
)
BODY_SHARE = {"note": 0.7, "meeting": 0.7, "visit": 0.7, "email": 0.5, "call": 0.3}
OUTCOMES = {
    "call": (("conversation", 40), ("no_answer", 25), ("voicemail", 15), ("call_back", 8),
             ("send_information", 6), ("meeting_booked", 4), ("not_interested", 2)),
    "meeting": (("", 55), ("qualified", 30), ("not_qualified", 10), ("no_show", 5)),
}  # fmt: skip
DIRECTED = {"call", "email", "linkedin", "whatsapp"}


# --- the parent: one child per database, then the report ------------------------------


def _verdict(row: dict) -> str:
    return "yes" if row["meets_target"] else "NO"


def _queries(row: dict) -> str:
    counts = row["queries"]
    if counts["account"] == counts["small"]:
        return str(counts["account"])
    return f"{counts['account']}≠{counts['small']}"


def _table(report: dict) -> str:
    return figures_table(
        report,
        target_ms=TARGET_P95_MS,
        count="entries",
        queries=_queries,
        verdict=_verdict,
        page_width=13,
        width=8,
    )


def markdown(report: dict) -> str:
    """The figures as the Markdown tables of docs/benchmarks.md."""
    return figures_markdown(
        report,
        target_ms=TARGET_P95_MS,
        count="entries",
        named_page=NAMED_PAGE,
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
        "entries": int(ENTRIES * SCALES[scale]),
        "other_companies": int(OTHER_COMPANIES * SCALES[scale]),
        "target_p95_ms": TARGET_P95_MS,
        "requests_per_page": REQUESTS,
        "deep_pages": DEEP_PAGES,
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
        f"timeline at scale {scale}: an account with {report['entries']:,} entries among "
        f"{report['other_companies']:,} other companies; {REQUESTS} requests a page; times in "
        "ms; queries: on the account (≠ on the small account, when they differ)"
    )
    print(_table(report))
    rows = [(run, row) for run in report["databases"] for row in run.get("pages", [])]
    missed = [
        f"{run['database']} {row['user']} {row['page']}"
        for run, row in rows
        if not row["meets_target"]
    ]
    print(f"p95 over {TARGET_P95_MS} ms: {', '.join(missed) or 'none'}")
    growing = [
        f"{run['database']} {row['user']} {row['page']} ({_queries(row)})"
        for run, row in rows
        if row["queries"]["account"] != row["queries"]["small"]
    ]
    print(
        "queries that differ between the account and the small account: "
        + (", ".join(growing) or "none")
    )
    named = [row for _run, row in rows if row["page"] == NAMED_PAGE]
    print(
        f"the issue's figure (first page of a timeline of {report['entries']:,} entries): "
        + ("met" if named and all(row["meets_target"] for row in named) else "NOT met")
    )
    print(f"\nfigures: {path.relative_to(ROOT)}")
    return 1 if any("error" in run for run in report["databases"]) else 0


# --- the data -------------------------------------------------------------------------


def _marker(scale: str) -> str:
    """What the account's notes say, so that a later run knows what it finds."""
    return f"Strategisch account. Benchmark data: timeline v{FILL_VERSION}, scale {scale}."


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment in office hours between start and end, more of them towards the end."""
    day = start + (end - start) * rng.random() ** 0.75
    at = day.replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(
        seconds=rng.randrange(10 * 3600), microseconds=rng.randrange(1_000_000)
    )
    return min(max(at, start), end)


def _wipe(connection) -> None:
    """Empty the tables of the records (PostgreSQL; SQLite starts from a new file instead)."""
    from django.apps import apps

    tables = [
        model._meta.db_table
        for label in ("crm", "pipeline", "activities")
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


class Filler:
    """The account, the small account and the other companies, written in bulk."""

    def __init__(self, *, scale: str, users, anchor: datetime):
        import _crmdata

        from koers.pipeline import services
        from koers.pipeline.models import Stage

        self.rng = random.Random(SEED)
        self.scale = scale
        self.users = users
        self.anchor = anchor
        self.crm = _crmdata
        self.west = users.by_team["Sales West"]
        self.success = users.by_team[_crmdata.SUCCESS_TEAM]
        self.team_of_digit = {
            digit: name for name, digits in _crmdata.SALES_TEAMS.items() for digit in digits
        }
        self.flows = []
        for model in ("inbound", "relationship"):
            pipeline = services.pipeline_create_from_template(
                actor=users.manager, sales_model=model
            )
            stages = list(pipeline.stages.order_by("position"))
            self.flows.append(
                {
                    "pipeline": pipeline,
                    "open": [stage for stage in stages if stage.kind == Stage.Kind.OPEN],
                    "won": next(stage for stage in stages if stage.kind == Stage.Kind.WON),
                    "lost": next(stage for stage in stages if stage.kind == Stage.Kind.LOST),
                }
            )
        # (occurred_at, company, contact, deal, owner, kind, direction, outcome, subject,
        # body, done, due_at), written in time order at the end.
        self.activities: list[tuple] = []
        self.moves: list[tuple] = []  # (deal id, from stage id, to stage id, actor id, at)
        kinds, weights = zip(*KINDS, strict=True)
        self.kinds = (kinds, list(itertools.accumulate(weights)))

    # The records.

    def _person(self) -> tuple[str, str, str]:
        rng = self.rng
        prefix, last = rng.choice(self.crm.COMMON_SURNAMES)
        return rng.choice(self.crm.FIRST_NAMES), prefix, last

    def companies(self, count: int) -> list:
        from koers.crm.models import Company, LifecycleStage, fold_city

        rng = self.rng
        cities = self.crm.CITIES
        city_weights = list(itertools.accumulate(city[3] for city in cities))
        rows = [
            Company(
                name=ACCOUNT_NAME,
                legal_form=Company.LegalForm.BV,
                domain="kroonenberg.nl",
                kvk_number="34187632",
                industry="49",
                employee_band="1000+",
                phone="+31203456789",
                street="Kabelweg 40",
                postcode="1014 BB",
                city="Amsterdam",
                city_key=fold_city("Amsterdam"),
                lifecycle_stage=LifecycleStage.CUSTOMER,
                owner_id=self.west[1],
                description=_marker(self.scale),
            ),
            Company(
                name=SMALL_NAME,
                legal_form=Company.LegalForm.BV,
                domain="bakkerijverhoeven.nl",
                kvk_number="27104955",
                industry="10",
                employee_band="10-49",
                postcode="2011 LS",
                city="Haarlem",
                city_key=fold_city("Haarlem"),
                lifecycle_stage=LifecycleStage.CUSTOMER,
                owner_id=self.west[1],
            ),
        ]
        stages = [LifecycleStage.PROSPECT, LifecycleStage.LEAD, LifecycleStage.CUSTOMER]
        for number in range(count):
            city, area, _phone, _weight = rng.choices(cities, cum_weights=city_weights)[0]
            owner = None
            if rng.random() > 0.1:
                owner = rng.choice(self.users.by_team[self.team_of_digit[area[0]]])
            surname = rng.choice(self.crm.COMMON_SURNAMES)[1]
            rows.append(
                Company(
                    name=f"{surname} {rng.choice(('Techniek', 'Logistiek', 'Advies', 'Bouw'))} "
                    f"{number + 1}",
                    legal_form=Company.LegalForm.BV,
                    kvk_number=f"{rng.randrange(10**8):08d}",
                    postcode=f"{area}{rng.randrange(100):02d} AB",
                    city=city,
                    city_key=fold_city(city),
                    lifecycle_stage=rng.choice(stages),
                    owner_id=owner,
                )
            )
        return Company.objects.bulk_create(rows, batch_size=BATCH)

    def contacts(self, company, count: int) -> list:
        from koers.crm.models import Contact

        rows = []
        for _ in range(count):
            first, prefix, last = self._person()
            local = f"{first}.{prefix}{last}".lower().replace(" ", "")
            rows.append(
                Contact(
                    first_name=first,
                    name_prefix=prefix,
                    last_name=last,
                    email=f"{local}@{company.domain or 'example.nl'}",
                    job_title=self.rng.choice(("Inkoper", "Directeur", "Office manager", "CFO")),
                    company=company,
                    owner_id=company.owner_id,
                    lifecycle_stage=company.lifecycle_stage,
                )
            )
        return rows

    def deal(self, *, company, flow: dict, owner_id, start: datetime, end: datetime, status: str):
        from decimal import Decimal

        from koers.pipeline.models import Deal

        stage = {"open": flow["open"][0], "won": flow["won"], "lost": flow["lost"]}[status]
        recurring = Decimal(self.rng.randrange(100, 5_000, 50))
        return Deal(
            name=f"{self.rng.choice(('Jaarcontract', 'Uitbreiding', 'Licenties'))} – "
            f"{company.name}",
            pipeline=flow["pipeline"],
            stage=stage,
            status=status,
            company=company,
            amount_recurring=recurring,
            value=12 * recurring,
            expected_close_on=(end + 30 * DAY).date(),
            owner_id=owner_id,
            won_at=end if status == "won" else None,
            lost_at=end if status == "lost" else None,
            first_touch_at=start,
            last_activity_at=end,
        )

    def walk(self, deal, flow: dict, times: list[datetime]) -> None:
        """Moves of a deal at these times: back and forth through the open stages, then closed."""
        rng = self.rng
        stages = flow["open"]
        position, previous = 0, None
        for number, at in enumerate(times):
            if number == len(times) - 1 and deal.status != "open":
                to_stage = flow[deal.status]
            else:
                if number:
                    position = min(len(stages) - 1, max(0, position + rng.choice((1, 1, -1))))
                to_stage = stages[position]
            self.moves.append(
                (deal.pk, previous.pk if previous else None, to_stage.pk, deal.owner_id, at)
            )
            previous = to_stage
        deal.stage = previous

    def activity(self, *, at, company, contact, deal, owner_id, kind=None, done=True, due=None):
        rng = self.rng
        kind = kind or rng.choices(self.kinds[0], cum_weights=self.kinds[1])[0]
        body = ""
        if rng.random() < BODY_SHARE.get(kind, 0):
            body = " ".join(rng.sample(SENTENCES, rng.randint(1, 3)))
        outcome = ""
        if kind in OUTCOMES and done:
            values, weights = zip(*OUTCOMES[kind], strict=True)
            outcome = rng.choices(values, weights)[0]
        direction = ""
        if kind in DIRECTED:
            direction = "outbound" if rng.random() < 0.6 else "inbound"
        self.activities.append(
            (
                at,
                company.pk,
                contact.pk if contact else None,
                deal.pk if deal else None,
                owner_id,
                kind,
                direction,
                outcome,
                rng.choice(SUBJECTS[kind]),
                body,
                done,
                due if due is not None else (at if kind == "task" else None),
            )
        )

    # An account's history.

    def account(self, company, *, entries: int, moves: int, deals: int, people: int) -> dict:
        from koers.crm.models import Contact
        from koers.pipeline.models import Deal, DealContact

        rng, anchor = self.rng, self.anchor
        contacts = Contact.objects.bulk_create(self.contacts(company, people))
        # Deals: the first ones still open, then won and lost ones; two belong to
        # customer success (a sales representative does not see their moves).
        deal_rows, spans = [], []
        for number in range(deals):
            flow = self.flows[number % 2]
            status = "open" if number < deals * 0.4 else ("won" if number < deals * 0.8 else "lost")
            if status == "open":
                start = anchor - HISTORY * rng.uniform(0.02, 0.4)
                end = anchor
            else:
                start = anchor - HISTORY * rng.uniform(0.1, 0.98)
                end = min(anchor - DAY, start + DAY * rng.uniform(60, 500))
            owner = self.success[0] if number in (3, 7) else self.west[1 + number % 3]
            deal_rows.append(
                self.deal(
                    company=company, flow=flow, owner_id=owner, start=start, end=end, status=status
                )
            )
            spans.append((start, end))
        deal_rows = Deal.objects.bulk_create(deal_rows)
        for number, deal in enumerate(deal_rows):
            count = moves // deals + (number < moves % deals)
            start, end = spans[number]
            times = sorted(
                [start, *(start + (end - start) * rng.random() for _ in range(count - 1))]
            )
            self.walk(deal, self.flows[number % 2], times[:count])
        Deal.objects.bulk_update(deal_rows, ["stage"])
        # The busiest contact is on half of the deals; the others on one or two.
        links = []
        for number, deal in enumerate(deal_rows):
            chosen = {0} if number % 2 == 0 else set()
            chosen |= set(
                rng.sample(range(1, len(contacts)), min(len(contacts) - 1, rng.randint(1, 2)))
            )
            links += [DealContact(deal=deal, contact=contacts[index]) for index in sorted(chosen)]
        DealContact.objects.bulk_create(links)

        # Who works on the account, and how busy each contact is (a few far more than most).
        owners = [self.west[1], self.west[2], self.west[3], self.success[0], self.success[1]]
        owner_weights = list(itertools.accumulate((40, 20, 15, 15, 10)))
        contact_weights = list(
            itertools.accumulate(1 / (rank + 1) for rank in range(len(contacts)))
        )

        def who() -> int:
            return rng.choices(owners, cum_weights=owner_weights)[0]

        def about(at: datetime):
            contact = None
            if rng.random() < 0.75:
                contact = rng.choices(contacts, cum_weights=contact_weights)[0]
            deal = None
            if rng.random() < 0.25:
                running = [
                    deal
                    for deal, (start, end) in zip(deal_rows, spans, strict=True)
                    if start <= at <= end + 30 * DAY
                ]
                deal = rng.choice(running) if running else None
            return contact, deal

        # A deal's move is often noted at the same moment: ties across the two sources.
        account_moves = [move for move in self.moves if move[0] in {deal.pk for deal in deal_rows}]
        tied = [move for move in account_moves if rng.random() < TIED_MOVES]
        by_pk = {deal.pk: deal for deal in deal_rows}
        for deal_id, _from, _to, _actor, at in tied:
            self.activity(
                at=at,
                company=company,
                contact=None,
                deal=by_pk[deal_id],
                owner_id=who(),
                kind="note",
            )
        times = sorted(
            _moment(rng, anchor - HISTORY, anchor) for _ in range(entries - moves - len(tied))
        )
        for number in range(1, len(times)):
            if rng.random() < SAME_MOMENT:
                times[number] = times[number - 1]  # logged in one go
        for at in times:
            contact, deal = about(at)
            self.activity(at=at, company=company, contact=contact, deal=deal, owner_id=who())
        for _ in range(max(2, round(entries * PLANNED_SHARE))):
            contact, deal = about(anchor)
            self.activity(
                at=anchor - DAY * rng.uniform(0, 30),
                company=company,
                contact=contact,
                deal=deal,
                owner_id=who(),
                kind=rng.choice(("task", "call", "meeting")),
                done=False,
                due=anchor + DAY * rng.uniform(-10, 30),
            )
        return {
            "company": company.pk,
            "contacts": len(contacts),
            "deals": len(deal_rows),
            "stage_changes": len(account_moves),
            "tied_moves": len(tied),
        }

    def others(self, companies: list) -> None:
        """Each other company: contacts, a deal with its moves, its own activities."""
        from koers.crm.models import Contact
        from koers.pipeline.models import Deal, DealContact

        rng, anchor = self.rng, self.anchor
        contacts = Contact.objects.bulk_create(
            [row for company in companies for row in self.contacts(company, OTHER_CONTACTS)],
            batch_size=BATCH,
        )
        people = {}
        for contact in contacts:
            people.setdefault(contact.company_id, []).append(contact)
        deals, spans = [], []
        for company in companies:
            owner = company.owner_id or rng.choice(self.west)
            start = anchor - OTHER_HISTORY * rng.random()
            end = min(anchor, start + DAY * rng.uniform(20, 200))
            status = "open" if end == anchor else rng.choice(("won", "lost", "lost"))
            flow = rng.choice(self.flows)
            deals.append(
                self.deal(
                    company=company, flow=flow, owner_id=owner, start=start, end=end, status=status
                )
            )
            spans.append((start, end, flow))
        deals = Deal.objects.bulk_create(deals, batch_size=BATCH)
        for deal, (start, end, flow) in zip(deals, spans, strict=True):
            count = rng.randint(2, 6)
            self.walk(
                deal,
                flow,
                sorted([start, *(start + (end - start) * rng.random() for _ in range(count - 1))]),
            )
        Deal.objects.bulk_update(deals, ["stage"], batch_size=BATCH)
        DealContact.objects.bulk_create(
            [DealContact(deal=deal, contact=rng.choice(people[deal.company_id])) for deal in deals],
            batch_size=BATCH,
        )
        for company, deal in zip(companies, deals, strict=True):
            owner = company.owner_id or rng.choice(self.west)
            for _ in range(OTHER_ACTIVITIES):
                at = _moment(rng, anchor - OTHER_HISTORY, anchor)
                contact = rng.choice(people[company.pk]) if rng.random() < 0.7 else None
                self.activity(
                    at=at,
                    company=company,
                    contact=contact,
                    deal=deal if rng.random() < 0.1 else None,
                    owner_id=owner,
                )
            for _ in range(OTHER_PLANNED):
                self.activity(
                    at=anchor - DAY * rng.uniform(0, 30),
                    company=company,
                    contact=rng.choice(people[company.pk]),
                    deal=None,
                    owner_id=owner,
                    kind="task",
                    done=False,
                    due=anchor + DAY * rng.uniform(-10, 30),
                )

    def write(self) -> dict:
        """The activities and stage changes, in the order they happened, as a CRM writes them."""
        from koers.activities.models import Activity
        from koers.pipeline.models import StageChange

        started = time.monotonic()
        self.moves.sort(key=lambda move: move[4])
        for offset in range(0, len(self.moves), BATCH):
            StageChange.objects.bulk_create(
                StageChange(
                    deal_id=deal, from_stage_id=source, to_stage_id=target, actor_id=actor, at=at
                )
                for deal, source, target, actor, at in self.moves[offset : offset + BATCH]
            )
        self.activities.sort(key=lambda row: row[0])
        for offset in range(0, len(self.activities), BATCH):
            Activity.objects.bulk_create(
                Activity(
                    occurred_at=at,
                    company_id=company,
                    contact_id=contact,
                    deal_id=deal,
                    owner_id=owner,
                    created_by_id=owner,
                    kind=kind,
                    direction=direction,
                    outcome=outcome,
                    subject=subject,
                    body=body,
                    done_at=at if done else None,
                    due_at=due,
                )
                for (at, company, contact, deal, owner, kind, direction, outcome, subject, body,
                     done, due) in self.activities[offset : offset + BATCH]
            )  # fmt: skip
            if (offset // BATCH) % 10 == 9:
                print(f"    activities: {offset + BATCH:,}", flush=True)
        return {
            "activities": len(self.activities),
            "stage_changes": len(self.moves),
            "write_s": round(time.monotonic() - started, 1),
        }


def fill(*, scale: str, users) -> dict:
    """Write the account, the small account and the other companies; return what was made."""
    from django.db import connection, transaction
    from django.utils import timezone

    from koers.core.database import database_optimize

    started = time.monotonic()
    anchor = timezone.now().replace(second=0, microsecond=0)
    entries = int(ENTRIES * SCALES[scale])
    with transaction.atomic():
        filler = Filler(scale=scale, users=users, anchor=anchor)
        account, small, *others = filler.companies(int(OTHER_COMPANIES * SCALES[scale]))
        made = {
            "account": filler.account(
                account,
                entries=entries,
                moves=round(entries * STAGE_SHARE),
                deals=ACCOUNT_DEALS,
                people=ACCOUNT_CONTACTS,
            ),
            "small_account": filler.account(
                small, entries=SMALL_ENTRIES, moves=SMALL_MOVES, deals=1, people=SMALL_CONTACTS
            ),
        }
        filler.others(others)
        made["generate_s"] = round(time.monotonic() - started, 1)
        made.update(filler.write())
    started = time.monotonic()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database_optimize()
    made["finish_s"] = round(time.monotonic() - started, 1)
    return made


# --- the child: one database, inside Django ------------------------------------------


def child(database: str, out: Path, *, refill: bool) -> int:
    import django

    django.setup()
    import _crmdata
    from _measure import db_version, server_settings, slowest_queries
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Q
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from koers.activities import timeline
    from koers.activities.models import Activity
    from koers.core.database import database_optimize
    from koers.core.selectors import visible_q
    from koers.crm.models import Company
    from koers.pipeline.models import StageChange

    scale = scale_name()
    entries = int(ENTRIES * SCALES[scale])
    call_command("migrate", interactive=False, verbosity=0)
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        print("  collectstatic (once)", flush=True)
        call_command("collectstatic", interactive=False, verbosity=0)
    users = _crmdata.ensure_users()

    def found_account() -> Company | None:
        return Company.objects.filter(name=ACCOUNT_NAME, description=_marker(scale)).first()

    fill_took: object = "reused"
    account = found_account()
    if refill or account is None:
        if Company.objects.exists():
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
                _wipe(connection)
        print(
            f"  filling an account with {entries:,} entries and "
            f"{int(OTHER_COMPANIES * SCALES[scale]):,} other companies",
            flush=True,
        )
        fill_took = fill(scale=scale, users=users)
        print(f"  filled: {fill_took}", flush=True)
        account = found_account()
    else:
        print("  data already there at this scale: fill skipped", flush=True)
        database_optimize()
    small = Company.objects.get(name=SMALL_NAME)

    def size(user, subject: str, record_id: int, kind: str | None = None) -> int:
        """The number of entries on a record's timeline that the user sees."""
        done = Activity.objects.filter(**{f"{subject}_id": record_id}, done_at__isnull=False)
        deal_visible = visible_q(user=user, owner_field="deal__owner")
        if deal_visible:
            done = done.filter(Q(deal__isnull=True) | deal_visible)
        count = done.filter(kind=kind).count() if kind else done.count()
        if kind in (None, "stage"):
            where = {
                "company": Q(deal__company_id=record_id),
                "contact": Q(deal__deal_contacts__contact_id=record_id),
            }[subject]
            count += StageChange.objects.filter(
                where,
                visible_q(user=user, owner_field="deal__owner"),
                deal__deleted_at__isnull=True,
            ).count()
        return count

    def busiest_contact(company: Company) -> int:
        return (
            Activity.objects.filter(company=company, contact__isnull=False, done_at__isnull=False)
            .values("contact_id")
            .annotate(n=Count("id"))
            .order_by("-n", "contact_id")
            .values_list("contact_id", flat=True)
            .first()
        )

    def follow(user, company: Company, pages: int) -> tuple[list, timeline.Cursor]:
        """Follow "Older" `pages` pages deep: the keys of the entries seen, and the cursor."""
        keys, cursor = [], None
        for _ in range(pages):
            page = timeline.timeline_page(
                user=user, subject="company", record_id=company.pk, before=cursor
            )
            keys += [(entry.at, entry.source, entry.id) for entry in page.entries]
            cursor = page.next_cursor
            if cursor is None:
                raise RuntimeError(f"{company.name} has fewer than {pages + 1} timeline pages")
        return keys, cursor

    def in_order(user, company: Company) -> list:
        """All entries of the company's timeline that the user sees, by a plain query of each
        source, sorted in the timeline's order: (at, source, id), newest first."""
        moves = StageChange.objects.filter(
            visible_q(user=user, owner_field="deal__owner"),
            deal__company=company,
            deal__deleted_at__isnull=True,
        ).values_list("at", "id")
        done = Activity.objects.filter(company=company, done_at__isnull=False)
        deal_visible = visible_q(user=user, owner_field="deal__owner")
        if deal_visible:  # activities about a deal show to those who may see the deal
            done = done.filter(Q(deal__isnull=True) | deal_visible)
        keys = [(at, "activity", pk) for at, pk in done.values_list("occurred_at", "id")]
        keys += [(at, "stage", pk) for at, pk in moves]
        return sorted(keys, reverse=True)

    def check_order(role: str, company: Company, pages: int) -> tuple[timeline.Cursor, dict]:
        """Follow the timeline `pages` deep and check it against in_order; then end a page
        inside ties (entries at the same moment) and check that the next page goes on right."""
        user = getattr(users, role)
        keys, cursor = follow(user, company, pages)
        expected = in_order(user, company)
        if keys != expected[: len(keys)]:
            wrong = next(i for i, key in enumerate(keys) if key != expected[i])
            raise RuntimeError(
                f"{role}: following the timeline of {company.name} gives entry {wrong} "
                f"{keys[wrong]}, expected {expected[wrong]}"
            )
        ties = [i for i in range(1, len(expected)) if expected[i][0] == expected[i - 1][0]]
        across = [i for i in ties if expected[i][1] != expected[i - 1][1]]
        tried = sorted({*across, *ties[:TIES_TRIED]})
        for i in tried:
            page = timeline.timeline_page(
                user=user,
                subject="company",
                record_id=company.pk,
                before=timeline.Cursor(*expected[i - 1]),
                limit=2,
            )
            got = [(entry.at, entry.source, entry.id) for entry in page.entries]
            if got != expected[i : i + 2]:
                raise RuntimeError(
                    f"{role}: after {expected[i - 1]} the timeline of {company.name} goes on "
                    f"with {got}, expected {expected[i : i + 2]}"
                )
        return cursor, {
            "pages_followed": pages,
            "entries_checked": len(keys),
            "ties": len(ties),
            "ties_across_sources": len(across),
            "page_ends_in_ties_checked": len(tried),
        }

    targets = {"account": account, "small": small}
    contact_of = {name: busiest_contact(company) for name, company in targets.items()}
    deep_of = {"account": DEEP_PAGES, "small": 1}
    pages: dict[tuple[str, str, str], tuple[str, dict]] = {}
    checks = {}
    for role in USERS:
        for name, company in targets.items():
            cursor, checked = check_order(role, company, deep_of[name])
            if name == "account":
                checks[role] = checked
            timeline_url = reverse("activities:timeline", args=["company", company.pk])
            pages[role, name, "first-page"] = (timeline_url, {})
            pages[role, name, "filtered"] = (timeline_url, {"kind": RARE_KIND})
            pages[role, name, "deep"] = (timeline_url, {"before": cursor.encode()})
            pages[role, name, "contact"] = (
                reverse("activities:timeline", args=["contact", contact_of[name]]),
                {},
            )
            pages[role, name, "company-page"] = (
                reverse("crm:company-detail", args=[company.pk]),
                {},
            )

    clients = {}
    for role in USERS:
        client = Client(HTTP_HOST="localhost", raise_request_exception=True)
        client.force_login(getattr(users, role))
        clients[role] = client

    def get(role: str, page: str, target: str = "account") -> bytes:
        url, params = pages[role, target, page]
        response = clients[role].get(url, params)
        if response.status_code != 200:
            raise RuntimeError(f"{role} {page} of {target}: HTTP {response.status_code}")
        return response.content

    # The page after the deep one must offer the cursor that timeline_page gives: the
    # `before` parameter goes through the URL and back.
    for role in USERS:
        user = getattr(users, role)
        cursor = timeline.Cursor.decode(pages[role, "account", "deep"][1]["before"])
        after = timeline.timeline_page(
            user=user, subject="company", record_id=account.pk, before=cursor
        )
        html = get(role, "deep").decode()
        if quote(after.next_cursor.encode(), safe="/") not in html:
            raise RuntimeError(f"{role}: the deep page does not offer the next page's cursor")

    db_time = [0.0]

    def timed_sql(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            db_time[0] += time.perf_counter() - started

    combos = [(role, page) for role in USERS for page in PAGES]
    for combo in combos:
        for _ in range(WARMUP):
            get(*combo)
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
            for target in targets:
                with CaptureQueriesContext(connection) as captured:
                    content = get(role, page, target)
                queries[target] = len(captured)
                if target == "account":
                    response_bytes = len(content)
                    shown = content.count(b'data-testid="entry-')
            if page == "contact":
                matches = size(user, "contact", contact_of["account"])
            elif page == "filtered":
                matches = size(user, "company", account.pk, RARE_KIND)
            else:
                matches = size(user, "company", account.pk)
            slowest, every = slowest_queries(
                connection, lambda role=role, page=page: get(role, page), runs=PROFILE_REQUESTS
            )
            median = statistics.median(times[combo])
            p95 = percentile(times[combo], 0.95)
            rows.append(
                {
                    "user": role,
                    "page": page,
                    "url": pages[role, "account", page][0],
                    "params": pages[role, "account", page][1],
                    "requests": len(times[combo]),
                    "median_ms": round(median, 2),
                    "p95_ms": round(p95, 2),
                    "min_ms": round(min(times[combo]), 2),
                    "max_ms": round(max(times[combo]), 2),
                    "db_median_ms": round(statistics.median(db_times[combo]), 2),
                    "queries": queries,
                    "response_kib": round(response_bytes / 1024, 1),
                    "entries": matches,
                    "entries_shown": shown,
                    "meets_target": p95 < TARGET_P95_MS,
                    "slowest_queries": slowest,
                    "query_times": every,
                }
            )

    done = Activity.objects.filter(done_at__isnull=False)
    by_kind = dict(
        done.filter(company=account)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    result = {
        "database": database,
        "version": db_version(connection),
        "server_settings": server_settings(connection),
        "fill": fill_took,
        "account": {
            "id": account.pk,
            "name": account.name,
            "entries_for_manager": size(users.manager, "company", account.pk),
            "entries_for_sales": size(users.sales, "company", account.pk),
            "activities_by_kind": dict(sorted(by_kind.items())),
            "stage_changes": StageChange.objects.filter(deal__company=account).count(),
            "planned": Activity.objects.filter(company=account, done_at__isnull=True).count(),
            "contacts": account.contacts.count(),
            "deals": account.deals.count(),
            "busiest_contact": {
                "id": contact_of["account"],
                "entries_for_manager": size(users.manager, "contact", contact_of["account"]),
            },
        },
        "small_account": {
            "id": small.pk,
            "entries_for_manager": size(users.manager, "company", small.pk),
        },
        "companies": Company.objects.count(),
        "activities": Activity.objects.count(),
        "done_activities": done.count(),
        "stage_changes": StageChange.objects.count(),
        "sales_user_team": users.sales.team.name,
        "order_checked": checks,
        "pages": rows,
    }
    for row in rows:
        for query in row["slowest_queries"][:1]:
            print(
                f"\n  [{database}] slowest query of {row['user']} / {row['page']}: "
                f"{query['median_ms']:.1f} ms (median of {PROFILE_REQUESTS}, query "
                f"{query['position']} of {row['queries']['account']})"
                f"\n  {query['sql'][:400]}"
            )
            print("  " + query["plan"].replace("\n", "\n  "))
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
