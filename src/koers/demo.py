"""Demo data: the market of Stroomlijn Software B.V., a fictional Dutch software company.

Stroomlijn sells planning software to Dutch small and medium businesses. Its sales team is
split into Noord and Zuid, with marketing and customer success beside it. `koers demo`
(and `make run` on an empty database) creates its users, about 300 companies and about
1,200 contacts, the same every time.
"""

from datetime import timedelta

import factory.random
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from koers.core.factories import DEMO_PASSWORD, TeamFactory, UserFactory
from koers.core.models import AuditEntry, User
from koers.core.services import audit_diff, audit_snapshot
from koers.crm import factories as crm_factories
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Company, Contact, LifecycleStage
from koers.crm.services import COMPANY_FIELDS, CONTACT_FIELDS

# username, first name, last name, role, team
USERS = [
    ("anouk", "Anouk", "Jansen", User.Role.ADMIN, None),
    ("sanne", "Sanne", "de Vries", User.Role.MANAGER, "Sales Noord"),
    ("daan", "Daan", "Bakker", User.Role.SALES, "Sales Noord"),
    ("yara", "Yara", "El Amrani", User.Role.SALES, "Sales Noord"),
    ("fleur", "Fleur", "Visser", User.Role.SALES, "Sales Zuid"),
    ("bram", "Bram", "Hendriks", User.Role.SALES, "Sales Zuid"),
    ("lars", "Lars", "Smit", User.Role.MARKETING, "Marketing"),
    ("eva", "Eva", "Mulder", User.Role.SUCCESS, "Customer Success"),
    ("kees", "Kees", "de Boer", User.Role.READ_ONLY, "Sales Noord"),
]
LOGIN_USERNAME = "daan"
LOGIN_PASSWORD = DEMO_PASSWORD
# Team Zuid covers the postcode areas from 4000 (Zeeland, Brabant, Limburg).
SOUTH_FROM_POSTCODE = "4"
CONTACTS_BY_SIZE = {
    "1": (1, 1),
    "2-9": (2, 3),
    "10-49": (3, 4),
    "50-99": (4, 6),
    "100-249": (5, 7),
    "250-499": (6, 9),
    "500-999": (6, 9),
    "1000+": (6, 9),
}


def is_empty() -> bool:
    return not User.objects.exists()


def has_demo_login() -> bool:
    """Whether the demo login still works: the user exists with the demo password."""
    user = User.objects.filter(username=LOGIN_USERNAME, is_active=True).first()
    return user is not None and user.check_password(LOGIN_PASSWORD)


def _spread_in_time(records, rng, now) -> None:
    for record in records:
        record.created_at = now - timedelta(days=rng.randint(1, 720), minutes=rng.randint(0, 1440))
        age = (now - record.created_at).total_seconds()
        record.updated_at = record.created_at + timedelta(seconds=rng.random() * age)


def _audit_created(records, fields, actor_of) -> list[AuditEntry]:
    if not records:
        return []
    content_type = ContentType.objects.get_for_model(records[0])
    return [
        AuditEntry(
            at=record.created_at,
            actor=actor_of(record),
            action=AuditEntry.Action.CREATED,
            content_type=content_type,
            object_id=record.pk,
            object_repr=str(record)[:200],
            changes=audit_diff(
                {},
                {k: v for k, v in audit_snapshot(record, fields).items() if v not in (None, "")},
            ),
        )
        for record in records
    ]


@transaction.atomic
def load(*, companies: int = 300, seed: int = 2026) -> dict[str, int]:
    """Create the demo users, companies and contacts; the same seed gives the same world."""
    factory.random.reseed_random(seed)
    crm_factories.fake.seed_instance(seed)
    rng = factory.random.randgen
    now = timezone.now()

    users = {}
    for username, first_name, last_name, role, team in USERS:
        users[username] = UserFactory(
            username=username,
            first_name=first_name,
            last_name=last_name,
            role=role,
            team=TeamFactory(name=team) if team else None,
        )
    north = [users["daan"], users["yara"], users["sanne"]]
    south = [users["fleur"], users["bram"]]

    built = []
    names = set()
    while len(built) < companies:
        company = CompanyFactory.build()
        if company.name in names:
            continue
        names.add(company.name)
        team = south if company.postcode >= SOUTH_FROM_POSTCODE else north
        if rng.random() < 0.1:
            company.owner = None  # unassigned: seen by managers, marketing and admins
        elif company.lifecycle_stage == LifecycleStage.CUSTOMER and rng.random() < 0.5:
            company.owner = users["eva"]
        else:
            company.owner = rng.choice(team)
        built.append(company)
    created_companies = Company.objects.bulk_create(built)

    large = [c for c in created_companies if c.employee_band in ("250-499", "500-999", "1000+")]
    for company in rng.sample(created_companies, k=min(8, len(created_companies))):
        parents = [p for p in large if p.pk != company.pk]
        if parents:
            company.parent = rng.choice(parents)

    contacts = []
    for company in created_companies:
        low, high = CONTACTS_BY_SIZE[company.employee_band]
        contacts.extend(
            ContactFactory.build(company=company) for _ in range(rng.randint(low, high))
        )
    created_contacts = Contact.objects.bulk_create(contacts)

    _spread_in_time(created_companies, rng, now)
    _spread_in_time(created_contacts, rng, now)
    Company.objects.bulk_update(created_companies, ["created_at", "updated_at", "parent"])
    Contact.objects.bulk_update(created_contacts, ["created_at", "updated_at"])
    AuditEntry.objects.bulk_create(
        _audit_created(created_companies, COMPANY_FIELDS, lambda c: c.owner)
        + _audit_created(created_contacts, CONTACT_FIELDS, lambda c: c.owner)
    )
    return {
        "users": len(users),
        "companies": len(created_companies),
        "contacts": len(created_contacts),
    }
