"""Pipelines and deals on top of a _crmdata CRM, generated and loaded in bulk for the benchmarks.

Run inside a Django process, after _crmdata.fill. The data is the same for the same scale
and the same day: a fixed seed, and a history that ends on the day of the fill (`anchor`),
because the board and the figures look at the last 30 and 365 days of the real clock.

Three pipelines made from the sales-model templates (inbound, outbound, relationship-based);
the deals spread over them 60/25/15. Each deal has a life: created some time in the last
three years, it moves through some of its pipeline's open stages (skipping is allowed) and
is won or lost when its sales cycle is over. Deals whose cycle has not ended yet are open,
spread over the stages by how far they got; a share never closes and lies still in an early
stage, as in every real CRM. Some won deals of the relationship pipeline go on to the stages
after the sale. Every move is a StageChange (from nowhere into the first stage at creation);
every deal has 1-3 contacts of its company, with a decision maker once a stage asks for one.
Amounts, close dates and contacts are present whenever the stages a deal entered require them.

Loading takes the path of _crmdata: secondary indexes dropped and built again, COPY on
PostgreSQL (then VACUUM ANALYZE), executemany on SQLite, database_optimize at the end.
"""

import bisect
import itertools
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from _crmdata import (
    CONTACT_WEIGHT,
    SALES_TEAMS,
    SUCCESS_TEAM,
    BenchUsers,
    _secondary_indexes,
    _write,
)
from django.db import connection, transaction

from koers.core.database import database_optimize
from koers.crm.models import Company, Contact, LifecycleStage
from koers.pipeline import services
from koers.pipeline.models import Deal, DealContact, Pipeline, Stage, StageChange

SEED = 3003
HISTORY = timedelta(days=3 * 365)
DAY = timedelta(days=1)
DELETED = 0.01  # of deals, in the trash
UNOWNED_PRIVATE = 0.10  # of deals without a company (their owner comes from nowhere else)
NO_COMPANY = 0.04  # of inbound deals: private persons and freelancers
NEW_HIRE_WEIGHT = 0.1  # the last member of each sales team joined lately: few deals
EXPLICIT_PROBABILITY = 0.08  # of open deals, a probability of their own

# Sales model, share of the deals, win rate, median sales cycle in days, share that never
# closes (quiet in an early stage), the lead sources and their weights.
PIPELINES = (
    ("inbound", 0.60, 0.22, 45, 0.08,
     {"website": 3, "web_form": 3, "social": 1, "advertising": 1, "referral": 1, "event": 1}),
    ("outbound", 0.25, 0.12, 70, 0.10, {"outbound": 8, "event": 1, "partner": 1}),
    ("relationship", 0.15, 0.55, 30, 0.05, {"referral": 2, "other": 4, "partner": 2, "event": 1}),
)  # fmt: skip
PRODUCTS = (
    "Jaarcontract", "Uitbreiding", "Implementatie", "Licenties", "Onderhoudscontract", "Pilot",
    "Migratie", "Training", "Supportbundel", "Herbestelling", "Verlenging", "Koppeling",
    "Maatwerk", "Adviestraject", "Hardware", "Nieuwe vestiging",
)  # fmt: skip
LOST_REASONS = (
    ("price", 5), ("competitor", 4), ("no_budget", 3), ("no_decision", 6), ("no_fit", 2),
    ("unreachable", 3), ("other", 1),
)  # fmt: skip

DEAL_COLUMNS = (
    "id", "created_at", "updated_at", "deleted_at", "deleted_by_id", "name", "pipeline_id",
    "stage_id", "status", "company_id", "amount_one_off", "amount_recurring", "value",
    "currency", "expected_close_on", "probability", "owner_id", "source", "lost_reason",
    "lost_note", "won_at", "lost_at", "first_touch_at", "last_activity_at", "handed_off_by_id",
    "qualification_budget", "qualification_authority", "qualification_need",
    "qualification_timing",
)  # fmt: skip
CHANGE_COLUMNS = ("id", "deal_id", "from_stage_id", "to_stage_id", "actor_id", "at")
LINK_COLUMNS = ("id", "deal_id", "contact_id", "dmu_role")
TABLES = ("pipeline_deal", "pipeline_stagechange", "pipeline_dealcontact")


def check_columns() -> None:
    """Fail early, with the difference, when the models have changed under the generator."""
    for model, columns in ((Deal, DEAL_COLUMNS), (StageChange, CHANGE_COLUMNS),
                           (DealContact, LINK_COLUMNS)):  # fmt: skip
        actual = {field.column for field in model._meta.concrete_fields}
        if actual != set(columns):
            raise SystemExit(
                f"{model.__name__} has changed: the generator lacks "
                f"{sorted(actual - set(columns))} and has {sorted(set(columns) - actual)} "
                "too many; update bench/_dealdata.py"
            )


def counts() -> dict[str, int]:
    return {
        "pipelines": Pipeline.objects.count(),
        "deals": Deal.objects.count(),
        "stage_changes": StageChange.objects.count(),
        "deal_contacts": DealContact.objects.count(),
    }


def anchor_of_data() -> datetime | None:
    """The end of the filled history: the newest deal is created within minutes of it."""
    newest = Deal.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    return newest


@dataclass(frozen=True)
class Flow:
    """A pipeline's stages as the generator uses them."""

    pipeline_id: int
    model: str
    share: float
    win_rate: float
    cycle_days: float
    stuck: float
    sources: tuple[list[str], list[int]]
    open: list[Stage]
    won: Stage
    lost: Stage
    post_sale: list[Stage]
    needs: list[set[str]]  # per open stage: what entering it requires (it and all before)
    won_needs: set[str]


def create_pipelines(manager) -> list[Flow]:
    """One pipeline per sales model, through the service that the pipelines page uses."""
    flows = []
    for model, share, win_rate, cycle_days, stuck, sources in PIPELINES:
        pipeline = services.pipeline_create_from_template(actor=manager, sales_model=model)
        stages = list(pipeline.stages.order_by("position"))
        needs, seen = {}, set()
        for stage in stages:
            if stage.kind != Stage.Kind.LOST:
                seen |= set(stage.required)
                needs[stage.pk] = set(seen)
        open_stages = [stage for stage in stages if stage.kind == Stage.Kind.OPEN]
        won = next(stage for stage in stages if stage.kind == Stage.Kind.WON)
        flows.append(
            Flow(
                pipeline_id=pipeline.pk,
                model=model,
                share=share,
                win_rate=win_rate,
                cycle_days=cycle_days,
                stuck=stuck,
                sources=(list(sources), list(sources.values())),
                open=open_stages,
                won=won,
                lost=next(stage for stage in stages if stage.kind == Stage.Kind.LOST),
                post_sale=[stage for stage in stages if stage.kind == Stage.Kind.POST_SALE],
                needs=[needs[stage.pk] for stage in open_stages],
                won_needs=needs[won.pk],
            )
        )
    return flows


class Generator:
    """Rows for pipeline_deal, pipeline_stagechange and pipeline_dealcontact."""

    def __init__(self, users: BenchUsers, flows: list[Flow], anchor: datetime, *, sqlite: bool):
        self.rng = random.Random(SEED)
        self.anchor = anchor
        # SQLite gets what Django stores there: UTC times and dates as text.
        self.stamp = _sqlite_datetime if sqlite else _as_is
        self.day = date.isoformat if sqlite else _as_is
        self.flows = flows
        self.flow_weights = list(itertools.accumulate(flow.share for flow in flows))
        self.manager_id = users.manager.pk
        self.teams = {name: users.by_team[name] for name in SALES_TEAMS}
        self.team_weights = {
            name: [1.0] * (len(members) - 1) + [NEW_HIRE_WEIGHT]
            for name, members in self.teams.items()
        }
        self.new_hires = {members[-1] for members in self.teams.values()}
        self.success = set(users.by_team[SUCCESS_TEAM])
        self.team_of_user = {pk: name for name, members in self.teams.items() for pk in members}
        self.team_of_digit = {d: name for name, digits in SALES_TEAMS.items() for d in digits}
        self._load_crm()
        self.changes: list[tuple] = []
        self.links: list[tuple] = []

    def _load_crm(self) -> None:
        companies = list(
            Company.objects.filter(deleted_at__isnull=True)
            .order_by("id")
            .values_list("id", "name", "owner_id", "postcode", "lifecycle_stage", "employee_band")
        )
        self.company = {row[0]: row for row in companies}
        self.all_companies = [row[0] for row in companies]
        self.all_weights = list(
            itertools.accumulate(CONTACT_WEIGHT.get(row[5], 1) for row in companies)
        )
        customers = [row for row in companies if row[4] == LifecycleStage.CUSTOMER]
        self.customers = [row[0] for row in customers]
        self.customer_weights = list(
            itertools.accumulate(CONTACT_WEIGHT.get(row[5], 1) for row in customers)
        )
        self.contacts_of: dict[int | None, list[tuple[int, str]]] = defaultdict(list)
        for pk, company_id, role in (
            Contact.objects.filter(deleted_at__isnull=True)
            .order_by("id")
            .values_list("id", "company_id", "dmu_role")
        ):
            self.contacts_of[company_id].append((pk, role))

    def _rep(self, team: str) -> int:
        return self.rng.choices(self.teams[team], self.team_weights[team])[0]

    def _owner(self, flow: Flow, company: tuple | None) -> int | None:
        rng = self.rng
        if company is None:
            if rng.random() < UNOWNED_PRIVATE:
                return None
            return self._rep(rng.choice(list(self.teams)))
        owner = company[2]
        if owner is None:
            return None
        team = self.team_of_digit[company[3][0]]
        if owner in self.success:
            # Customer success keeps the existing customers; new business goes to sales.
            return owner if flow.model == "relationship" else self._rep(team)
        if owner in self.new_hires and rng.random() < 0.9:
            return self._rep(self.team_of_user[owner])
        return owner

    def _company(self, flow: Flow) -> tuple | None:
        rng = self.rng
        if flow.model == "relationship" and self.customers:
            pk = rng.choices(self.customers, cum_weights=self.customer_weights)[0]
        elif flow.model == "inbound" and rng.random() < NO_COMPANY:
            return None
        else:
            pk = rng.choices(self.all_companies, cum_weights=self.all_weights)[0]
        return self.company[pk]

    def _amounts(self, flow: Flow, has_amount: bool) -> tuple[Decimal, Decimal]:
        rng = self.rng
        if not has_amount:
            return Decimal(0), Decimal(0)
        recurring_share = 0.75 if flow.model == "relationship" else 0.5
        one_off = Decimal(0)
        if rng.random() > recurring_share / 2:
            one_off = Decimal(round(rng.lognormvariate(math.log(4_000), 1.1), -1))
        recurring = Decimal(0)
        if rng.random() < recurring_share or not one_off:
            recurring = Decimal(round(rng.lognormvariate(math.log(250), 0.9) / 5) * 5 or 5)
        return one_off, recurring

    def deals(self, count: int):
        """Deal rows, oldest first (ids follow creation); collects changes and links."""
        rng = self.rng
        anchor = self.anchor
        stamp = self.stamp
        starts = sorted(rng.random() for _ in range(count))
        change_id = itertools.count(1)
        link_id = itertools.count(1)
        for pk, fraction in enumerate(starts, start=1):
            created = anchor - HISTORY * (1 - fraction)
            flow = self.flows[
                bisect.bisect_left(self.flow_weights, rng.random() * self.flow_weights[-1])
            ]
            company = self._company(flow)
            owner = self._owner(flow, company)
            n_open = len(flow.open)
            won = rng.random() < flow.win_rate
            furthest = n_open - 1 if won else min(n_open - 1, int(rng.expovariate(0.6)))
            # The open stages it passes through: the first, some in between, the furthest.
            between = [i for i in range(1, furthest) if rng.random() < 0.7]
            post = 0
            if won and flow.post_sale and rng.random() < 0.25:
                post = 1 + (len(flow.post_sale) > 1 and rng.random() < 0.4)
            while len(between) + 2 + (furthest > 0) + post > 5:
                between.pop(rng.randrange(len(between)))
            visited = [0, *between, *([furthest] if furthest else [])]
            cycle = max(1.0, flow.cycle_days * rng.lognormvariate(0, 0.6))
            duration = DAY * cycle * ((furthest + 1) / n_open if not won else 1)
            closes = created + duration
            steps = [created] + [
                created + duration * fraction
                for fraction in sorted(rng.random() for _ in visited[1:])
            ]
            stuck = rng.random() < flow.stuck
            if stuck:
                visited = visited[: rng.choice((1, 1, 2))]
            moves = [
                (flow.open[i], at) for i, at in zip(visited, steps, strict=False) if at <= anchor
            ]
            # Entering a stage requires what it and the open stages before it ask for.
            needs = flow.needs[visited[len(moves) - 1]]
            status = Deal.Status.OPEN
            won_at = lost_at = None
            if not stuck and closes <= anchor:
                status = Deal.Status.WON if won else Deal.Status.LOST
                moves.append((flow.won if won else flow.lost, closes))
                if won:
                    needs = flow.won_needs
                    won_at = at = closes
                    for stage in flow.post_sale[:post]:
                        at += DAY * rng.uniform(7, 60)
                        if at > anchor:
                            break
                        moves.append((stage, at))
                else:
                    lost_at = closes
            stage = moves[-1][0]
            has_amount = "amount" in needs or rng.random() < 0.75
            has_close = "expected_close_on" in needs or rng.random() < 0.6
            one_off, recurring = self._amounts(flow, has_amount)
            last_move = moves[-1][1]
            if status != Deal.Status.OPEN:
                activity = min(anchor, last_move + DAY * rng.expovariate(1 / 3))
                planned = closes - DAY * rng.uniform(-15, 30)
            elif stuck:
                activity = min(anchor, last_move + DAY * rng.expovariate(1 / 5))
                planned = closes
            else:
                activity = max(last_move, anchor - DAY * rng.expovariate(1 / 6))
                planned = created + DAY * cycle * rng.gauss(1, 0.15)
            deleted = rng.random() < DELETED
            deleted_at = activity + (anchor - activity) * rng.random() if deleted else None
            probability = None
            if status == Deal.Status.OPEN and rng.random() < EXPLICIT_PROBABILITY:
                probability = rng.randrange(10, 95, 5)
            customer = company[1] if company else f"{rng.choice(('Particulier', 'Zzp'))} {pk}"
            yield (
                pk,
                stamp(created),
                stamp(deleted_at if deleted else activity),
                stamp(deleted_at) if deleted else None,
                (owner or self.manager_id) if deleted else None,
                f"{rng.choice(PRODUCTS)} – {customer}"[:200],
                flow.pipeline_id,
                stage.pk,
                status,
                company[0] if company else None,
                one_off,
                recurring,
                one_off + 12 * recurring,
                "EUR",
                self.day(planned.date()) if has_close else None,
                probability,
                owner,
                rng.choices(*flow.sources)[0],
                rng.choices(*zip(*LOST_REASONS, strict=True))[0] if lost_at else "",
                "",
                stamp(won_at) if won_at else None,
                stamp(lost_at) if lost_at else None,
                stamp(created - DAY * rng.expovariate(1 / 20)),
                stamp(activity),
                None,
                "",
                "",
                "",
                "",
            )
            previous = None
            for to_stage, at in moves:
                self.changes.append((pk, previous.pk if previous else None, to_stage.pk, owner, at))
                previous = to_stage
            pool = self.contacts_of.get(company[0] if company else None) or self.contacts_of[None]
            chosen = rng.sample(pool, min(len(pool), rng.choices((1, 2, 3), (50, 35, 15))[0]))
            for index, (contact_id, role) in enumerate(chosen):
                if index == 0 and "decision_maker" in needs:
                    role = "decision_maker"
                self.links.append((next(link_id), pk, contact_id, role))
        # Stage changes are written as they happened: in time order, not deal by deal.
        self.changes.sort(key=lambda row: row[4])
        self.changes = [
            (next(change_id), deal, from_stage, to_stage, actor, stamp(at))
            for deal, from_stage, to_stage, actor, at in self.changes
        ]


def _as_is(value):
    return value


def _sqlite_datetime(value: datetime) -> str:
    return str(value.replace(tzinfo=None))


def fill(*, deals: int, users: BenchUsers) -> dict[str, float]:
    """Create the pipelines and `deals` deals with their history; return how long each step took.

    Expects a CRM without pipelines (after _crmdata.fill into a new or wiped database).
    """
    check_columns()
    took = {}
    postgres = connection.vendor == "postgresql"
    anchor = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        flows = create_pipelines(users.manager)
        generator = Generator(users, flows, anchor, sqlite=not postgres)
        deal_rows = list(generator.deals(deals))
        took["generate_s"] = time.monotonic() - started
        started = time.monotonic()
        indexes = [index for table in TABLES for index in _secondary_indexes(table)]
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        _write("pipeline_deal", DEAL_COLUMNS, iter(deal_rows), "deals")
        _write("pipeline_stagechange", CHANGE_COLUMNS, iter(generator.changes), "stage changes")
        _write("pipeline_dealcontact", LINK_COLUMNS, iter(generator.links), "deal contacts")
        took["insert_s"] = time.monotonic() - started
        started = time.monotonic()
        if postgres:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, sql in indexes:
            print(f"    index {name}", flush=True)
            cursor.execute(sql)
        if postgres:
            for table in TABLES:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
        took["index_s"] = time.monotonic() - started
    started = time.monotonic()
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database_optimize()
    took["finish_s"] = time.monotonic() - started
    return {key: round(value, 1) for key, value in took.items()}


def wipe() -> None:
    """Remove pipelines and deals (PostgreSQL; SQLite starts from a new file instead)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE pipeline_stagechange, pipeline_dealcontact, pipeline_deal, "
            "pipeline_stage, pipeline_pipeline RESTART IDENTITY CASCADE"
        )
