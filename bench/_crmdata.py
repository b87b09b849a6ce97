"""A Dutch CRM of any size, generated and loaded in bulk for the benchmarks.

Run inside a Django process (DJANGO_SETTINGS_MODULE set, django.setup() done). The data
is the same for the same scale every time (a fixed seed and a fixed "today").

Loading takes the fastest honest path of each database, in one transaction, so an
interrupted fill leaves no half-filled tables behind:
  - the secondary indexes of crm_company and crm_contact (the model's and the search
    indexes) are dropped first and built again at the end, which is what a bulk load
    into an empty table does anyway;
  - PostgreSQL: COPY through psycopg; then VACUUM ANALYZE;
  - SQLite: executemany in large batches, the FTS5 triggers dropped during the load and
    the search tables rebuilt by koers.crm.search.ensure_search_indexes afterwards.
"""

import itertools
import random
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

from koers.core.database import database_optimize
from koers.core.models import Team, User
from koers.crm.factories import (
    COMPANY_STAGES,
    EMPLOYEE_BANDS,
    FUNCTION_WEIGHTS,
    FUNCTIONS,
    INDUSTRY_WORDS,
    LEGAL_FORMS,
    NAME_SUFFIX,
    REGION_WORDS,
    REVENUE_BY_SIZE,
)
from koers.crm.models import Company, Contact, LifecycleStage, fold_city
from koers.crm.normalise import company_name_key
from koers.crm.search import ensure_search_indexes

SEED = 2026
TODAY = datetime(2026, 1, 1, tzinfo=UTC)
HISTORY = timedelta(days=3 * 365)
BATCH = 50_000

# The most common Dutch surnames, most common first (CBS, Nederlandse Familienamenbank).
COMMON_SURNAMES = [
    ("de", "Jong"), ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"),
    ("", "Bakker"), ("", "Janssen"), ("", "Visser"), ("", "Smit"), ("", "Meijer"),
    ("de", "Boer"), ("", "Mulder"), ("de", "Groot"), ("", "Bos"), ("", "Vos"),
    ("", "Peters"), ("", "Hendriks"), ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"),
    ("de", "Wit"), ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"),
    ("van der", "Linden"), ("", "Kok"), ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"),
    ("van den", "Heuvel"), ("van der", "Veen"), ("van den", "Broek"), ("de", "Bruijn"),
    ("de", "Bruin"), ("van der", "Heijden"), ("", "Schouten"), ("van", "Beek"),
    ("", "Willems"), ("van", "Vliet"), ("van de", "Ven"), ("", "Hoekstra"), ("", "Maas"),
    ("", "Verhoeven"), ("", "Koster"), ("van", "Dam"), ("van der", "Wal"), ("", "Prins"),
    ("", "Blom"), ("", "Huisman"), ("", "Peeters"), ("de", "Jonge"), ("", "Kuipers"),
    ("van", "Veen"), ("", "Post"), ("", "Kuiper"), ("", "Veenstra"), ("", "Kramer"),
    ("van den", "Brink"), ("", "Scholten"), ("van", "Wijk"), ("", "Postma"), ("", "Martens"),
    ("", "Vink"), ("de", "Ruiter"), ("", "Timmermans"), ("", "Groen"), ("", "Gerritsen"),
    ("", "Jonker"), ("van", "Loon"), ("", "Boer"), ("van der", "Velde"), ("", "Willemsen"),
    ("", "Smeets"), ("de", "Lange"), ("de", "Vos"), ("", "Bosch"), ("van", "Dongen"),
    ("", "Schipper"), ("de", "Koning"), ("van der", "Laan"), ("", "Koning"),
    ("van der", "Velden"), ("", "Driessen"), ("van", "Doorn"), ("", "Hermans"), ("", "Evers"),
    ("van den", "Bosch"), ("van der", "Meulen"), ("", "Hofman"), ("", "Bosman"),
    ("", "Wolters"), ("", "Sanders"), ("van der", "Horst"), ("", "Mol"), ("", "Kuijpers"),
    ("", "Molenaar"), ("van de", "Pol"), ("de", "Leeuw"), ("", "Verbeek"), ("", "Yılmaz"),
    ("", "Kaya"), ("", "Demir"), ("El", "Amrani"), ("", "Bouzid"), ("", "Öztürk"),
    ("", "Nguyen"), ("", "Singh"), ("", "Pinas"), ("", "Biharie"), ("", "Tjon"),
    ("", "Wong"), ("", "Ramdin"), ("", "Kromowidjojo"), ("", "Mohan"), ("", "Hassan"),
]  # fmt: skip
# Most Dutch surnames are rare: one of these stems with one of these endings.
SURNAME_STEMS = [
    "Hoog", "Laag", "Groot", "Klein", "Oost", "West", "Noord", "Zuid", "Berg", "Veen",
    "Zand", "Molen", "Brug", "Kerk", "Dijk", "Water", "Wind", "Hout", "Steen", "Hof",
    "Kamp", "Broek", "Horst", "Linde", "Eik", "Beuk", "Wilg", "Riet", "Gras", "Bloem",
    "Rozen", "Vogel", "Haan", "Valk", "Wolf", "Beer", "Hert", "Zwaan", "Kraai", "Mees",
    "Spreeuw", "Ooster", "Wester", "Middel", "Over", "Neder", "Boven", "Achter", "Heu",
    "Ruyt", "Blok", "Kool", "Ham", "Vel", "Roos", "Teun", "Gijs", "Wouter", "Harm", "Tam",
]  # fmt: skip
SURNAME_ENDINGS = [
    "man", "mans", "sma", "stra", "inga", "ink", "ing", "huis", "huizen", "veld", "velde",
    "kamp", "dijk", "berg", "bergen", "hof", "horst", "broek", "beek", "meer", "burg",
    "land", "wijk", "hout", "stein", "kens", "ers", "er", "sen", "s", "ema", "enga", "ius",
    "kes", "je", "loo", "schot", "brink", "ven", "gaard",
]  # fmt: skip
# The most common one, de Jong, is carried by about 0.5% of the Dutch; the list above
# covers some 14%, the rare ones the rest.
MOST_COMMON_SHARE = 0.0052
COMMON_FALL = 0.4  # share of rank r: MOST_COMMON_SHARE / r ** COMMON_FALL
RARE_PREFIXES = [("van", 6), ("de", 5), ("van der", 3), ("van den", 2), ("van de", 2), ("ter", 1)]
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
# City, postcode area, phone area code, weight (roughly by number of businesses).
CITIES = [
    ("Amsterdam", "10", "20", 14), ("Rotterdam", "30", "10", 10), ("Den Haag", "25", "70", 7),
    ("Utrecht", "35", "30", 8), ("Eindhoven", "56", "40", 5), ("Groningen", "97", "50", 4),
    ("Tilburg", "50", "13", 3), ("Almere", "13", "36", 3), ("Breda", "48", "76", 3),
    ("Nijmegen", "65", "24", 3), ("Apeldoorn", "73", "55", 2), ("Arnhem", "68", "26", 3),
    ("Haarlem", "20", "23", 2), ("Enschede", "75", "53", 2), ("Amersfoort", "38", "33", 3),
    ("Zaanstad", "15", "75", 2), ("'s-Hertogenbosch", "52", "73", 3),
    ("Haarlemmermeer", "21", "23", 2), ("Zwolle", "80", "38", 3), ("Leiden", "23", "71", 2),
    ("Maastricht", "62", "43", 2), ("Dordrecht", "33", "78", 1), ("Zoetermeer", "27", "79", 1),
    ("Ede", "67", "318", 1), ("Leeuwarden", "89", "58", 1), ("Alkmaar", "18", "72", 1),
    ("Emmen", "78", "591", 1), ("Delft", "26", "15", 2), ("Venlo", "59", "77", 1),
    ("Deventer", "74", "570", 1), ("Helmond", "57", "492", 1), ("Hilversum", "12", "35", 1),
    ("Heerlen", "64", "45", 1), ("Oss", "53", "412", 1), ("Amstelveen", "11", "20", 1),
    ("Hengelo", "75", "74", 1), ("Roosendaal", "47", "165", 1), ("Houten", "39", "30", 1),
    ("Veenendaal", "39", "318", 1), ("Heerenveen", "84", "513", 1),
]  # fmt: skip
STREETS = [
    "Kerkstraat", "Stationsweg", "Dorpsstraat", "Industrieweg", "Nieuwstraat", "Markt",
    "Hoofdstraat", "Molenweg", "Schoolstraat", "Parallelweg", "Handelsweg", "Energieweg",
    "Kanaalweg", "Havenstraat", "Spoorlaan", "Zuiderpark", "Beukenlaan", "Laan van Europa",
]  # fmt: skip
POSTCODE_LETTERS = "ABCEGHJKLMNPRTVWXZ"
# Sales teams by the first digit of the postcode; customer success looks after customers.
SALES_TEAMS = {
    "Sales West": "12",
    "Sales Midden": "3",
    "Sales Zuid": "456",
    "Sales Noordoost": "789",
}
SALES_PER_TEAM = 6
SUCCESS_TEAM = "Customer Success"
SUCCESS_USERS = 3
# Contacts a company has, relative to one another, by number of employees.
CONTACT_WEIGHT = {
    "1": 1, "2-9": 3, "10-49": 7, "50-99": 12, "100-249": 18, "250-499": 25,
    "500-999": 30, "1000+": 40,
}  # fmt: skip
NO_COMPANY = 0.03  # of contacts: freelancers and private persons
UNOWNED = 0.10  # of companies (and so of their contacts)
DELETED = 0.01  # in the trash

COMPANY_COLUMNS = (
    "id", "created_at", "updated_at", "deleted_at", "deleted_by_id", "name", "legal_form",
    "domain", "kvk_number", "establishment_number", "vat_number", "industry", "employee_band",
    "revenue_band", "phone", "street", "postcode", "city", "city_key", "country", "parent_id",
    "lifecycle_stage", "owner_id", "description", "name_key", "external_id",
)  # fmt: skip
CONTACT_COLUMNS = (
    "id", "created_at", "updated_at", "deleted_at", "deleted_by_id", "first_name",
    "name_prefix", "last_name", "email", "phone", "mobile", "job_title", "function",
    "dmu_role", "linkedin_url", "company_id", "lifecycle_stage", "lead_source", "owner_id",
    "do_not_call", "external_id",  # the other calling fields are dates that stay empty
)  # fmt: skip
TABLES = ("crm_company", "crm_contact")
# JSON columns that stay empty here (their defaults live in Django, not in the tables).
EMPTY_JSON = {
    "crm_company": (("technologies", "[]"), ("custom_fields", "{}")),
    "crm_contact": (("custom_fields", "{}"),),
}


@dataclass(frozen=True)
class BenchUsers:
    manager: User
    sales: User  # a sales representative in Sales West: sees the records of their team
    by_team: dict[str, list[int]]


def ensure_users() -> BenchUsers:
    """Create the teams and users once; passwords are unusable (the benchmark logs in directly)."""

    def user(username: str, role: str, team: Team | None) -> User:
        found, created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": role,
                "team": team,
                "first_name": username.split("-")[0].title(),
                "last_name": "Bench",
            },
        )
        if created:
            found.set_unusable_password()
            found.save(update_fields=["password"])
        return found

    by_team: dict[str, list[int]] = {}
    for name in [*SALES_TEAMS, SUCCESS_TEAM]:
        team, _ = Team.objects.get_or_create(name=name)
        slug = name.split()[-1].lower()
        if name == SUCCESS_TEAM:
            members = [user(f"success-{n}", User.Role.SUCCESS, team) for n in range(SUCCESS_USERS)]
        else:
            members = [user(f"{slug}-{n}", User.Role.SALES, team) for n in range(SALES_PER_TEAM)]
        by_team[name] = [member.pk for member in members]
    marketing, _ = Team.objects.get_or_create(name="Marketing")
    user("marketing-0", User.Role.MARKETING, marketing)
    user("admin-0", User.Role.ADMIN, None)
    manager = user("manager-0", User.Role.MANAGER, None)
    return BenchUsers(manager=manager, sales=User.objects.get(username="west-0"), by_team=by_team)


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


class Generator:
    """Rows for crm_company and crm_contact, as tuples in COMPANY/CONTACT_COLUMNS order."""

    def __init__(self, users: BenchUsers, stamp: Callable[[datetime], object]):
        self.rng = random.Random(SEED)
        self.stamp = stamp
        self.manager_id = users.manager.pk
        self.sales_teams = {name: users.by_team[name] for name in SALES_TEAMS}
        self.success_ids = users.by_team[SUCCESS_TEAM]
        self.team_of_digit = {d: name for name, digits in SALES_TEAMS.items() for d in digits}
        # Surnames: the common ones by rank (Zipf), then the many rare ones evenly.
        common = [
            MOST_COMMON_SHARE / rank**COMMON_FALL for rank in range(1, len(COMMON_SURNAMES) + 1)
        ]
        rare = [stem + ending for stem in SURNAME_STEMS for ending in SURNAME_ENDINGS]
        self.surnames = COMMON_SURNAMES + [("", name) for name in rare]
        self.surname_weights = _cumulative(common + [(1 - sum(common)) / len(rare)] * len(rare))
        self.rare_from = len(COMMON_SURNAMES)
        self.slugs: dict[str, str] = {}
        # Per company: what its contacts take over.
        self.company_owner: list[int | None] = [None]
        self.company_team: list[str | None] = [None]
        self.company_stage: list[str] = [""]
        self.company_domain: list[str] = [""]
        self.company_phone_area: list[str] = [""]
        self.company_weight: list[float] = [0.0]

    def _slug(self, text: str) -> str:
        slug = self.slugs.get(text)
        if slug is None:
            slug = self.slugs[text] = _ascii(text)
        return slug

    def _surname(self) -> tuple[str, str]:
        rng = self.rng
        index = rng.choices(range(len(self.surnames)), cum_weights=self.surname_weights)[0]
        prefix, name = self.surnames[index]
        if index >= self.rare_from and rng.random() < 0.2:
            prefix = rng.choices(*zip(*RARE_PREFIXES, strict=True))[0]
        return prefix, name

    def _times(self) -> tuple[datetime, datetime]:
        rng = self.rng
        created = TODAY - HISTORY * rng.random()
        updated = created + (TODAY - created) * rng.random() ** 2
        return created, updated

    def _phone(self, area: str) -> str:
        digits = 9 - len(area)
        return f"+31{area}{self.rng.randint(2, 9)}{self.rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"

    def companies(self, count: int) -> Iterator[tuple]:
        rng = self.rng
        stamp = self.stamp
        city_weights = _cumulative([row[3] for row in CITIES])
        stages, stage_weights = zip(*COMPANY_STAGES, strict=True)
        bands, band_weights = zip(*EMPLOYEE_BANDS, strict=True)
        legal_forms, legal_weights = zip(*LEGAL_FORMS, strict=True)
        industries = list(INDUSTRY_WORDS)
        revenue = Company.RevenueBand.values
        for pk in range(1, count + 1):
            city, postcode_area, phone_area, _ = rng.choices(CITIES, cum_weights=city_weights)[0]
            stage = rng.choices(stages, stage_weights)[0]
            band = rng.choices(bands, band_weights)[0]
            legal_form = rng.choices(legal_forms, legal_weights)[0]
            industry = rng.choice(industries)
            team = self.team_of_digit[postcode_area[0]]
            draw = rng.random()
            if draw < UNOWNED:
                owner = None
            elif stage == LifecycleStage.CUSTOMER and draw < 0.5:
                owner = rng.choice(self.success_ids)
            else:
                owner = rng.choice(self.sales_teams[team])
            kind = rng.random()
            if kind < 0.5:
                base = self._surname()[1]
            elif kind < 0.75:
                base = f"{self._surname()[1]} & {self._surname()[1]}"
            else:
                base = rng.choice(REGION_WORDS)
            name = f"{base} {rng.choice(INDUSTRY_WORDS[industry])}"
            domain = self._slug(name) + ".nl"
            suffix = NAME_SUFFIX.get(legal_form)
            if suffix and rng.random() < 0.7:
                name = f"{name} {suffix}"
            while True:
                rsin = rng.randrange(10**8)
                digits = f"{rsin:08d}"
                check = sum(int(d) * (9 - i) for i, d in enumerate(digits)) % 11
                if check < 10:
                    break
            created, updated = self._times()
            deleted = rng.random() < DELETED
            parent = rng.randrange(1, pk) if pk > 1 and rng.random() < 0.01 else None
            yield (
                pk,
                stamp(created),
                stamp(updated),
                stamp(updated + timedelta(days=1)) if deleted else None,
                (owner or self.manager_id) if deleted else None,
                name,
                legal_form,
                domain,
                f"{rng.randrange(10**8):08d}",
                f"{rng.randrange(10**12):012d}" if rng.random() < 0.5 else "",
                f"NL{digits}{check}B01",
                industry,
                band,
                revenue[REVENUE_BY_SIZE[band]],
                self._phone(phone_area),
                f"{rng.choice(STREETS)} {rng.randint(1, 250)}",
                f"{postcode_area}{rng.randrange(100):02d} {rng.choice(POSTCODE_LETTERS)}"
                f"{rng.choice(POSTCODE_LETTERS)}",
                city,
                fold_city(city),
                "NL",
                parent,
                stage,
                owner,
                "",
                company_name_key(name),
                "",
            )
            self.company_owner.append(owner)
            self.company_team.append(team)
            self.company_stage.append(stage)
            self.company_domain.append(domain)
            self.company_phone_area.append(phone_area)
            self.company_weight.append(CONTACT_WEIGHT[band] * rng.uniform(0.5, 1.5))

    def _contact_stage(self, company_stage: str) -> str:
        if company_stage in (LifecycleStage.CUSTOMER, LifecycleStage.FORMER_CUSTOMER):
            return company_stage
        if company_stage == LifecycleStage.OPPORTUNITY:
            return self.rng.choice([LifecycleStage.OPPORTUNITY, LifecycleStage.SQL])
        return self.rng.choice(
            [company_stage, LifecycleStage.SUSPECT, LifecycleStage.PROSPECT, LifecycleStage.LEAD]
        )

    def contacts(self, count: int) -> Iterator[tuple]:
        """Contacts spread over the companies made before, larger companies having more."""
        rng = self.rng
        stamp = self.stamp
        company_weights = _cumulative(self.company_weight)
        company_ids = range(len(self.company_weight))
        functions, function_weights = zip(*FUNCTION_WEIGHTS, strict=True)
        lead_sources = Contact.LeadSource.values
        all_sales = [pk for members in self.sales_teams.values() for pk in members]
        for pk in range(1, count + 1):
            if rng.random() < NO_COMPANY:
                company = None
                owner = rng.choice(all_sales) if rng.random() > UNOWNED else None
                stage = rng.choice([LifecycleStage.SUSPECT, LifecycleStage.LEAD])
                domain = rng.choice(["gmail.com", "outlook.com", "hotmail.com", "ziggo.nl"])
                phone = ""
            else:
                company = rng.choices(company_ids, cum_weights=company_weights)[0]
                owner = self.company_owner[company]
                team = self.company_team[company]
                if owner is not None and rng.random() < 0.1:
                    owner = rng.choice(self.sales_teams[team])
                stage = self._contact_stage(self.company_stage[company])
                domain = self.company_domain[company]
                phone = self._phone(self.company_phone_area[company]) if rng.random() < 0.5 else ""
            first_name = rng.choice(FIRST_NAMES)
            prefix, last_name = self._surname()
            function = rng.choices(functions, function_weights)[0]
            titles, dmu_roles = FUNCTIONS[function]
            local = f"{self._slug(first_name)}.{self._slug(prefix + last_name)}"
            created, updated = self._times()
            deleted = rng.random() < DELETED
            yield (
                pk,
                stamp(created),
                stamp(updated),
                stamp(updated + timedelta(days=1)) if deleted else None,
                (owner or self.manager_id) if deleted else None,
                first_name,
                prefix,
                last_name,
                f"{local}@{domain}",
                phone,
                f"+316{rng.randrange(10**8):08d}" if rng.random() < 0.6 else "",
                rng.choice(titles),
                function,
                rng.choice(dmu_roles),
                f"https://www.linkedin.com/in/{local.replace('.', '-')}"
                if rng.random() < 0.3
                else "",
                company,
                stage,
                rng.choice(lead_sources),
                owner,
                False,
                "",
            )


def counts() -> tuple[int, int]:
    return Company.objects.count(), Contact.objects.count()


def _secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of each index of `table` that no constraint needs."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "WHERE t.relname = %s AND NOT x.indisprimary AND NOT x.indisunique",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
        return cursor.fetchall()


def _write(table: str, columns: tuple[str, ...], rows: Iterator[tuple], label: str) -> None:
    started = time.monotonic()
    written = 0
    json_columns = EMPTY_JSON.get(table, ())  # other benchmarks' tables have none
    columns = (*columns, *(name for name, _empty in json_columns))
    empty = tuple(value for _name, value in json_columns)
    rows = (row + empty for row in rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
                    if written % 200_000 == 0:
                        print(f"    {label}: {written:,}", flush=True)
        else:
            statement = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))})"
            )
            while batch := list(itertools.islice(rows, BATCH)):
                cursor.executemany(statement, batch)
                written += len(batch)
                if written % 200_000 == 0:
                    print(f"    {label}: {written:,}", flush=True)
    print(f"    {label}: {written:,} rows in {time.monotonic() - started:.1f} s", flush=True)


def _as_is(value: datetime) -> datetime:
    return value


def _sqlite_datetime(value: datetime) -> str:
    # What Django stores for an aware datetime on SQLite: the UTC time as text.
    return str(value.replace(tzinfo=None))


def fill(*, companies: int, contacts: int, users: BenchUsers) -> dict[str, float]:
    """Replace the companies and contacts with generated ones; return how long each step took."""
    took = {}
    postgres = connection.vendor == "postgresql"
    generator = Generator(users, _as_is if postgres else _sqlite_datetime)
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("TRUNCATE crm_contact, crm_company CASCADE")
        else:
            # The triggers would update the search tables row by row; rebuilt at the end.
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name IN (%s, %s) AND name GLOB '*_search_*'",
                list(TABLES),
            )
            for (trigger,) in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER "{trigger}"')
            # Before the indexes go: each deleted company is looked up in crm_company.parent_id.
            cursor.execute("DELETE FROM crm_contact")
            cursor.execute("DELETE FROM crm_company")
        took["wipe_s"] = time.monotonic() - started
        started = time.monotonic()
        indexes = [index for table in TABLES for index in _secondary_indexes(table)]
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        _write("crm_company", COMPANY_COLUMNS, generator.companies(companies), "companies")
        _write("crm_contact", CONTACT_COLUMNS, generator.contacts(contacts), "contacts")
        took["insert_s"] = time.monotonic() - started
        started = time.monotonic()
        if postgres:
            # Check the deferred foreign keys now: PostgreSQL builds no index on a table
            # with pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, sql in indexes:
            print(f"    index {name}", flush=True)
            cursor.execute(sql)
        ensure_search_indexes(connection)  # SQLite: triggers back, FTS5 tables rebuilt
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
            # Outside a transaction: Django's connection is in autocommit mode again.
            # The whole database, so that the users table has statistics too.
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # What the worker's nightly task does: without it SQLite plans blind.
    database_optimize()
    took["finish_s"] = time.monotonic() - started
    return {key: round(value, 1) for key, value in took.items()}
