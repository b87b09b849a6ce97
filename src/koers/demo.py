"""Demo data: the market of Stroomlijn Software B.V., a fictional Dutch software company.

Stroomlijn sells planning software to Dutch small and medium businesses. Its sales team is
split into Noord and Zuid, with marketing and customer success beside it. `koers demo`
(and `make run` on an empty database) creates its users, about 300 companies, about
1,200 contacts, their deals in two pipelines with their stage history, the activities on
their timelines, account teams, a call campaign under way, and the visits, email opens
and campaigns behind the engagement scores, the same every time.
"""

from datetime import timedelta
from decimal import Decimal

import factory.random
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from koers.activities.models import AccountTeamMember, Activity
from koers.core.database import database_optimize
from koers.core.factories import DEMO_PASSWORD, TeamFactory, UserFactory
from koers.core.models import AuditEntry, User
from koers.core.services import audit_diff, audit_snapshot
from koers.crm import factories as crm_factories
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Company, Contact, LifecycleStage
from koers.crm.services import COMPANY_FIELDS, CONTACT_FIELDS
from koers.outreach import services as outreach_services
from koers.outreach.selectors import call_list
from koers.pipeline.models import Deal, DealContact, StageChange
from koers.pipeline.services import DEAL_FIELDS, pipeline_create_from_template

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
                {
                    k: v
                    for k, v in audit_snapshot(record, fields).items()
                    if v not in (None, "", "{}", "[]")
                },
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
        company.technologies = rng.sample(TECHNOLOGIES, k=rng.choice([0, 1, 1, 2, 3]))
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
    deals = _load_deals(
        users=users, companies=created_companies, contacts=created_contacts, rng=rng, now=now
    )
    activities = _load_activities(users=users, contacts=created_contacts, rng=rng, now=now)
    _load_account_teams(users=users, companies=created_companies)
    calls = _load_call_campaign(users=users, rng=rng, now=now)
    events = _load_tracking(users=users, contacts=created_contacts, rng=rng, now=now)
    _load_scoring(now=now)
    database_optimize()
    return {
        "users": len(users),
        "companies": len(created_companies),
        "contacts": len(created_contacts),
        "deals": deals,
        "activities": activities,
        "campaign_calls": calls,
        "events": events,
    }


# Software the demo's companies use, for the ICP's technology criterion.
TECHNOLOGIES = ["Exact Online", "AFAS", "Twinfield", "Salesforce", "SAP", "Microsoft 365"]


# What the timelines say: kind, direction, outcome, subject.
PAST_ACTIVITIES = [
    ("call", "outbound", "conversation", "Kennismaking: planning nu nog in Excel"),
    ("call", "outbound", "no_answer", "Niet bereikt"),
    ("call", "outbound", "voicemail", "Voicemail ingesproken"),
    ("call", "outbound", "not_interested", "Geen interesse: planning net vernieuwd"),
    ("call", "inbound", "conversation", "Vraag over koppeling met Exact Online"),
    ("email", "outbound", "", "Offerte en productsheet gestuurd"),
    ("email", "inbound", "", "Reactie: wil graag een demo voor het MT"),
    ("meeting", "outbound", "qualified", "Demo bij de operationeel manager"),
    ("visit", "outbound", "", "Bezoek op locatie, rondleiding planning"),
    ("note", "", "", "Beslist samen met de CFO; budget pas in Q1"),
    ("linkedin", "outbound", "", "Connectieverzoek na de beurs"),
    ("whatsapp", "inbound", "", "Vraagt of de training ook op zaterdag kan"),
]
PLANNED_FOR_DAAN = [
    (-2, "call", "Terugbellen over de offerte"),
    (-1, "email", "Referentiecase sturen"),
    (0, "call", "Nabellen na de demo"),
    (0, "task", "Contract klaarzetten voor ondertekening"),
    (0, "meeting", "Demo met het MT"),
    (2, "call", "Checken of de proefperiode loopt"),
    (4, "visit", "Kennismaken op locatie"),
]


def _load_activities(*, users, contacts, rng, now) -> int:
    """A history on most timelines, and planned work for the demo login."""
    team_of = {user.team_id: [] for user in users.values()}
    for user in users.values():
        if user.can_edit_records:
            team_of[user.team_id].append(user)
    rows = []
    for contact in contacts:
        if rng.random() < 0.35:
            continue
        owner = contact.company.owner or users["sanne"]
        colleagues = team_of.get(owner.team_id) or [owner]
        for _ in range(rng.randint(1, 6)):
            kind, direction, outcome, subject = rng.choice(PAST_ACTIVITIES)
            at = now - timedelta(days=rng.uniform(1, 200))
            rows.append(
                Activity(
                    kind=kind,
                    direction=direction,
                    outcome=outcome,
                    subject=subject,
                    contact=contact,
                    company=contact.company,
                    owner=rng.choice(colleagues),
                    created_by=owner,
                    occurred_at=at,
                    done_at=at,
                )
            )
    daan = users["daan"]
    own = [c for c in contacts if c.company.owner_id == daan.pk]
    today = timezone.localtime(now).replace(hour=10, minute=0, second=0, microsecond=0)
    for (days, kind, subject), contact in zip(PLANNED_FOR_DAAN, own, strict=False):
        rows.append(
            Activity(
                kind=kind,
                subject=subject,
                contact=contact,
                company=contact.company,
                owner=daan,
                created_by=daan,
                occurred_at=now - timedelta(days=7),
                due_at=today + timedelta(days=days, hours=rng.randint(0, 6)),
            )
        )
    Activity.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _load_account_teams(*, users, companies) -> None:
    """Customers have their account executive and a customer success manager."""
    members = []
    for company in companies:
        if company.lifecycle_stage != LifecycleStage.CUSTOMER:
            continue
        if company.owner and company.owner.role == User.Role.SALES:
            members.append(AccountTeamMember(company=company, user=company.owner, role="ae"))
        members.append(AccountTeamMember(company=company, user=users["eva"], role="csm"))
    AccountTeamMember.objects.bulk_create(members)


def _load_call_campaign(*, users, rng, now) -> int:
    """Team Noord's call round for leads, a few days under way."""
    sanne, agents = users["sanne"], [users["daan"], users["yara"]]
    campaign = outreach_services.campaign_save(
        actor=sanne,
        agents=agents,
        contact_filter={"lifecycle_stage": LifecycleStage.LEAD},
        name="Belronde leads Noord",
        goal="Afspraken voor een demo bij leads die de website bezochten.",
        script=(
            "Goedemorgen, u spreekt met … van Stroomlijn. U heeft onlangs onze website "
            "bezocht en over roosterplanning gelezen. Hoe plannen jullie nu de diensten?"
        ),
    )
    outreach_services.campaign_set_status(actor=sanne, campaign=campaign, status="active")
    outreach_services.campaign_build_list(actor=sanne, campaign=campaign)
    calls = 0
    for days_ago in (4, 3, 2, 1):
        day = timezone.localtime(now - timedelta(days=days_ago)).replace(hour=9, minute=0)
        entries = list(call_list(campaign=campaign, today=day.date(), now=day)[:12])
        for number, entry in enumerate(entries):
            at = day + timedelta(minutes=number * 9)
            outcome = rng.choices(
                [
                    "no_answer",
                    "voicemail",
                    "conversation",
                    "not_interested",
                    "call_back",
                    "send_information",
                    "meeting_booked",
                ],
                weights=[30, 10, 15, 15, 10, 10, 10],
            )[0]
            outreach_services.call_record(
                actor=rng.choice(agents),
                entry=entry,
                outcome=outcome,
                now=at,
                reason="Tevreden met huidige planning" if outcome == "not_interested" else "",
                call_back_on=(at + timedelta(days=rng.randint(days_ago, 20))).date()
                if outcome == "call_back"
                else None,
                meeting_at=at + timedelta(days=rng.randint(3, 8), hours=5),
                account_executive=users["yara"],
                qualification="Plant nu met Excel; 40 medewerkers; beslist zelf",
            )
            calls += 1
    return calls


# Monthly fee of Stroomlijn's planning software by the customer's size (euros).
MRR_BY_SIZE = {
    "1": (29, 79),
    "2-9": (79, 249),
    "10-49": (199, 799),
    "50-99": (499, 1_500),
    "100-249": (999, 3_000),
    "250-499": (2_000, 6_000),
    "500-999": (4_000, 10_000),
    "1000+": (8_000, 20_000),
}
# Lifecycle stage of the company → (chance of a deal, how far it got: an open stage's
# position, "won" or "lost")
DEAL_PLANS = {
    LifecycleStage.CUSTOMER: (1.0, ["won"]),
    LifecycleStage.FORMER_CUSTOMER: (1.0, ["won"]),
    LifecycleStage.OPPORTUNITY: (1.0, [3, 4]),
    LifecycleStage.SQL: (1.0, [1, 2]),
    LifecycleStage.MQL: (0.5, [1]),
    LifecycleStage.LEAD: (0.2, [1, "lost"]),
    LifecycleStage.PROSPECT: (0.15, ["lost", 1]),
    LifecycleStage.SUSPECT: (0.05, ["lost"]),
}


def _load_deals(*, users, companies, contacts, rng, now) -> int:
    """Deals with a stage history: open ones at prospects, won ones at customers, lost ones
    with their reasons, and upsell at a part of the customers."""
    inbound = pipeline_create_from_template(actor=users["anouk"], sales_model="inbound")
    relationship = pipeline_create_from_template(
        actor=users["anouk"], sales_model="relationship", name="Klanten: uitbreiding"
    )
    stages = {
        pipeline.pk: list(pipeline.stages.order_by("position"))
        for pipeline in (inbound, relationship)
    }
    people = {}
    for contact in contacts:
        people.setdefault(contact.company_id, []).append(contact)

    deals, moves, links = [], [], []
    for company in companies:
        chance, outcomes = DEAL_PLANS[company.lifecycle_stage]
        if rng.random() >= chance:
            continue
        plans = [(inbound, rng.choice(outcomes))]
        if company.lifecycle_stage == LifecycleStage.CUSTOMER and rng.random() < 0.4:
            plans.append((relationship, rng.choice([1, 2, "won", "first_check_in"])))
        for pipeline, outcome in plans:
            deal, path = _demo_deal(
                company, pipeline, stages[pipeline.pk], outcome, users, rng, now
            )
            deals.append(deal)
            moves.append(path)
    created = Deal.objects.bulk_create(deals)
    for deal, path in zip(created, moves, strict=True):
        deal.created_at = path[0][1]  # bulk_create stamped them with now
        previous = None
        for stage, at in path:
            links.append(
                StageChange(deal=deal, from_stage=previous, to_stage=stage, actor=deal.owner, at=at)
            )
            previous = stage
    Deal.objects.bulk_update(created, ["created_at"])
    StageChange.objects.bulk_create(links)
    committee = []
    for deal in created:
        members = people.get(deal.company_id, [])[: rng.randint(1, 4)]
        for index, contact in enumerate(members):
            # Negotiating needs a decision maker on the deal: the first person is one.
            role = Contact.DMURole.DECISION_MAKER if index == 0 else (contact.dmu_role or "")
            committee.append(DealContact(deal=deal, contact=contact, dmu_role=role))
    DealContact.objects.bulk_create(committee)
    AuditEntry.objects.bulk_create(_audit_created(created, DEAL_FIELDS, lambda deal: deal.owner))
    Deal.objects.filter(pk__in=[deal.pk for deal in created]).update(
        updated_at=models.F("last_activity_at")
    )
    return len(created)


def _demo_deal(company, pipeline, stages, outcome, users, rng, now):
    open_stages = [stage for stage in stages if stage.kind == "open"]
    won = next(stage for stage in stages if stage.kind == "won")
    lost = next(stage for stage in stages if stage.kind == "lost")
    if outcome == "won":
        path_stages = [*open_stages, won]
    elif outcome == "lost":
        path_stages = [*open_stages[: rng.randint(1, 2)], lost]
    elif outcome == "first_check_in":
        path_stages = [
            *open_stages,
            won,
            next(stage for stage in stages if stage.key == "first_check_in"),
        ]
    else:
        path_stages = open_stages[:outcome]
    low, high = MRR_BY_SIZE[company.employee_band]
    monthly = Decimal(rng.randrange(low, high + 1, 5 if high < 500 else 50))
    one_off = monthly * rng.randint(2, 6) if pipeline.sales_model == "inbound" else Decimal(0)
    # Bigger customers take longer: a step between stages lasts longer for them.
    step_days = {"1": 4, "2-9": 6, "10-49": 9, "50-99": 12, "100-249": 16}.get(
        company.employee_band, 24
    )
    started = max(
        company.created_at + timedelta(days=rng.randint(0, 40)), now - timedelta(days=400)
    )
    at, path = started, []
    for stage in path_stages:
        path.append((stage, min(at, now - timedelta(hours=1))))
        at += timedelta(days=rng.uniform(0.4, 1.6) * step_days)
    last_at = path[-1][1]
    closed_stage = path[-1][0]
    deal = Deal(
        name=f"{company.name}: {'uitbreiding' if pipeline.sales_model == 'relationship' else 'planning'}",
        pipeline=pipeline,
        stage=closed_stage,
        company=company,
        amount_one_off=one_off,
        amount_recurring=monthly,
        value=one_off + 12 * monthly,
        expected_close_on=(
            last_at.date()
            if closed_stage.kind != "open"
            else (now + timedelta(days=rng.randint(-15, 90))).date()
        ),
        owner=users["eva"] if pipeline.sales_model == "relationship" else company.owner,
        source=rng.choice(["website", "web_form", "referral", "event", "outbound", "partner"]),
        first_touch_at=company.created_at,
        last_activity_at=last_at,
    )
    if closed_stage.kind == "open" and rng.random() < 0.75:
        # Most open deals were worked on lately (calls, emails); the rest have stalled.
        deal.last_activity_at = max(last_at, now - timedelta(days=rng.uniform(0.1, 10)))
    if closed_stage.kind in ("won", "post_sale"):
        deal.status = Deal.Status.WON
        deal.won_at = next(at for stage, at in path if stage.kind == "won")
    elif closed_stage.kind == "lost":
        deal.status, deal.lost_at = Deal.Status.LOST, last_at
        deal.lost_reason = rng.choice(["price", "competitor", "no_budget", "no_decision", "no_fit"])
    return deal, path


DEMO_CAMPAIGNS = [
    # name, channel, spend, utm_campaign, days ago it started
    ("Google Ads roosterplanning", "search_ads", "4200.00", "roosterplanning-ads", 120),
    ("LinkedIn HR-managers", "social", "2600.00", "linkedin-hr", 90),
    ("Webinar slim plannen", "webinar", "900.00", "webinar-plannen", 60),
    ("Vakbeurs Zorg & Planning", "event", "7500.00", "beurs-zorg", 150),
    ("Nieuwsbrief", "email", "300.00", "nieuwsbrief", 200),
]
DEMO_PAGES = [
    ("/", "Stroomlijn — planning zonder gedoe", 40),
    ("/functies/roosters", "Roosters maken in minuten", 25),
    ("/klantverhalen", "Klantverhalen", 12),
    ("/blog/dienstwissels", "Zo regel je dienstwissels eerlijk", 15),
    ("/prijzen", "Prijzen", 10),
    ("/demo", "Demo aanvragen", 4),
]


def _load_tracking(*, users, contacts, rng, now) -> int:
    """Stroomlijn's website with its visitors, campaigns that brought them, email opens and
    clicks, and the engagement scores that follow; a few people are on the site right now."""
    from koers.scoring.services import scores_recompute
    from koers.tracking.models import Campaign, Event, LeadForm, Site, Visitor

    site = Site.objects.create(
        name="stroomlijn.nl", allowed_domains="stroomlijn.nl", created_by=users["lars"]
    )
    LeadForm.objects.create(site=site, name="Demo aanvragen", owner=users["daan"])
    campaigns = [
        Campaign.objects.create(
            name=name,
            channel=channel,
            spend=Decimal(spend),
            utm_campaign=utm,
            starts_on=(now - timedelta(days=started)).date(),
            owner=users["lars"],
        )
        for name, channel, spend, utm, started in DEMO_CAMPAIGNS
    ]
    pages = [(path, title) for path, title, _weight in DEMO_PAGES]
    weights = [weight for _path, _title, weight in DEMO_PAGES]
    visitors, events = [], []
    for number, contact in enumerate(rng.sample(contacts, k=len(contacts) * 2 // 5)):
        first = min(contact.created_at, now - timedelta(days=rng.randint(2, 90)))
        visitor = Visitor(
            site=site,
            uid=f"demo{number:012d}xx",
            contact=contact,
            first_seen=first,
            last_seen=first,
            identified_at=contact.created_at,
        )
        visitors.append(visitor)
        campaign = rng.choice(campaigns) if rng.random() < 0.6 else None
        at = first - timedelta(hours=rng.randint(1, 72))  # the visit that brought them
        for _visit in range(rng.randint(1, 5)):
            for page in range(rng.randint(1, 4)):
                path, title = rng.choices(pages, weights)[0]
                query = f"?utm_campaign={campaign.utm_campaign}" if campaign and page == 0 else ""
                events.append(
                    Event(
                        kind="page_view",
                        occurred_at=at + timedelta(minutes=2 * page),
                        site=site,
                        visitor=visitor,
                        contact=contact,
                        url=f"https://stroomlijn.nl{path}{query}",
                        title=title,
                        engaged_seconds=rng.randint(5, 240),
                        campaign=campaign if query else None,
                    )
                )
            if rng.random() < 0.2:
                events.append(
                    Event(
                        kind="download",
                        occurred_at=at + timedelta(minutes=9),
                        site=site,
                        visitor=visitor,
                        contact=contact,
                        url="https://stroomlijn.nl/klantverhalen",
                        title="Klantverhalen",
                        properties={"file": "https://stroomlijn.nl/whitepaper-roosters.pdf"},
                    )
                )
            if rng.random() < 0.3:
                events.append(
                    Event(
                        kind=rng.choice(["email_open", "email_open", "email_click"]),
                        occurred_at=at - timedelta(hours=1),
                        contact=contact,
                        title="Nieuwsbrief " + timezone.localtime(at).strftime("%B"),
                        campaign=campaigns[-1],
                    )
                )
            at = min(at + timedelta(days=rng.randint(1, 20)), now - timedelta(minutes=15))
            campaign = rng.choice(campaigns) if rng.random() < 0.3 else None
        visitor.last_seen = at
    # On the site right now: people of Daan's and Fleur's.
    for visitor in [v for v in visitors if v.contact.owner in (users["daan"], users["fleur"])][:6]:
        minutes = rng.randint(1, 50)
        visitor.last_seen = now - timedelta(minutes=minutes)
        events.append(
            Event(
                kind="page_view",
                occurred_at=visitor.last_seen,
                site=site,
                visitor=visitor,
                contact=visitor.contact,
                url="https://stroomlijn.nl/prijzen",
                title="Prijzen",
                engaged_seconds=rng.randint(30, 200),
            )
        )
    Visitor.objects.bulk_create(visitors)
    for event in events:
        event.visitor_id = event.visitor.pk if event.visitor else None
    # Visits of people who did not say who they are (the site counts them anonymously).
    for _visit in range(600):
        path, title = rng.choices(pages, weights)[0]
        events.append(
            Event(
                kind="page_view",
                occurred_at=now - timedelta(minutes=rng.randint(10, 60 * 24 * 30)),
                site=site,
                url=f"https://stroomlijn.nl{path}",
                title=title,
            )
        )
    Event.objects.bulk_create(events, batch_size=2000)
    scores_recompute(at=now)
    return len(events)


def _load_scoring(*, now) -> None:
    """An Ideal Customer Profile with every company's fit, and a predictive model trained
    on the demo's won and lost history that scores the open contacts."""
    from koers.scoring import conversion, fit

    fit.icp_demo_setup()
    conversion.model_train(at=now)
    conversion.conversions_predict(at=now)
