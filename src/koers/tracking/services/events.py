"""Storing what visitors and contacts did, and learning who a visitor is."""

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from koers.crm.models import Contact
from koers.crm.selectors import contact_visible_to
from koers.tracking import ingest
from koers.tracking.ingest import CONTROL
from koers.tracking.models import Campaign, Event, Visitor

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

# Apps higher up (scoring) are told which contacts have new events, after the commit.
EventsListener = Callable[[set[int]], None]
_listeners: list[EventsListener] = []


def on_events_stored(listener: EventsListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def _announce(contact_ids: Iterable[int]) -> None:
    ids = {pk for pk in contact_ids if pk}
    if ids:
        for listener in _listeners:
            transaction.on_commit(lambda listener=listener: listener(ids), robust=True)


def utm_of(url: str) -> dict[str, str]:
    try:
        query = urlsplit(url).query
    except ValueError:
        return {}
    return {
        key: CONTROL.sub("", value)[:100]
        for key, value in parse_qsl(query)
        if key in UTM_KEYS and CONTROL.sub("", value)
    }


def _anonymised(url: str, *, keep_utm: bool) -> str:
    """Before consent a page view keeps only the page (and its UTM values), a referrer
    only its site: queries often carry email addresses or click ids."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if not keep_utm:
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    utm = utm_of(url)
    return urlunsplit(parts._replace(query=urlencode(utm), fragment=""))


def _consented_landing(events: list[Event]) -> list[Event]:
    """The events to create, once a page view that consent came during is joined to the
    anonymous one the script sent before it (same page id): one visit, counted once."""
    identified = {
        (event.site_id, event.page_id): event
        for event in events
        if event.visitor is not None and event.kind == Event.Kind.PAGE_VIEW and event.page_id
    }
    if not identified:
        return events
    earlier = Event.objects.filter(
        kind=Event.Kind.PAGE_VIEW,
        visitor__isnull=True,
        site_id__in={site for site, _page in identified},
        page_id__in={page for _site, page in identified},
    ).exclude(page_id="")
    joined = []
    for row in earlier:
        event = identified.get((row.site_id, row.page_id))
        if event is None:
            continue
        event.pk, event.occurred_at = row.pk, row.occurred_at
        joined.append(event)
    Event.objects.bulk_update(
        joined,
        [
            "visitor",
            "contact",
            "url",
            "referrer",
            "title",
            "campaign",
            "properties",
            "engaged_seconds",
        ],
    )
    # Within one batch, the anonymous page view simply gives way to the identified one.
    dropped = {id(event) for event in joined} | {
        id(event)
        for event in events
        if event.visitor is None and (event.site_id, event.page_id) in identified
    }
    return [event for event in events if id(event) not in dropped]


def _campaign_ids() -> dict[str, int]:
    return {
        utm.lower(): pk
        for utm, pk in Campaign.objects.exclude(utm_campaign="").values_list("utm_campaign", "pk")
    }


def _visitors(records: list[dict]) -> dict[tuple[int, str], Visitor]:
    """The visitors the records name, created when new, with their last visit moved on."""
    seen: dict[tuple[int, str], datetime] = {}
    for record in records:
        if record.get("v"):
            at = datetime.fromtimestamp(record["t"], UTC)
            key = (record["s"], record["v"])
            seen[key] = max(seen.get(key, at), at)
    if not seen:
        return {}

    def existing() -> dict[tuple[int, str], Visitor]:
        by_site: dict[int, list[str]] = defaultdict(list)
        for site_id, uid in seen:
            by_site[site_id].append(uid)
        query = Q()
        for site_id, uids in by_site.items():
            query |= Q(site_id=site_id, uid__in=uids)
        return {(v.site_id, v.uid): v for v in Visitor.objects.filter(query)}

    visitors = existing()
    missing = [key for key in seen if key not in visitors]
    if missing:
        Visitor.objects.bulk_create(
            [
                Visitor(site_id=s, uid=u, first_seen=seen[s, u], last_seen=seen[s, u])
                for s, u in missing
            ],
            ignore_conflicts=True,
        )
        visitors = existing()
    # A batch spans a second or so: its latest moment is each visitor's last visit, in
    # one statement rather than one per visitor.
    latest = max(seen.values())
    moved = [v.pk for key, v in visitors.items() if v.last_seen < seen[key]]
    Visitor.objects.filter(pk__in=moved).update(last_seen=latest)
    return visitors


INSERTED = [
    "kind",
    "occurred_at",
    "site_id",
    "visitor_id",
    "contact_id",
    "url",
    "title",
    "referrer",
    "page_id",
    "engaged_seconds",
    "campaign_id",
    "properties",
]


def _insert(events: list[Event]) -> None:
    """Insert new events in one statement per thousand, without the ORM's work per field
    (the drain's largest cost): the values are plain already."""
    if not events:
        return
    ops = connection.ops
    table = connection.ops.quote_name(Event._meta.db_table)
    columns = ", ".join(ops.quote_name(column) for column in INSERTED)
    marks = ", ".join(["%s"] * len(INSERTED))
    rows = [
        (
            event.kind,
            ops.adapt_datetimefield_value(event.occurred_at),
            event.site_id,
            event.visitor_id,
            event.contact_id,
            event.url,
            event.title,
            event.referrer,
            event.page_id,
            event.engaged_seconds,
            event.campaign_id,
            json.dumps(event.properties),
        )
        for event in events
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608


def visitor_identify(*, visitor: Visitor, contact_id: int, at: datetime | None = None) -> None:
    """Tie a visitor to a contact; its earlier anonymous history becomes the contact's
    (what it did as someone else on a shared computer stays theirs)."""
    if visitor.contact_id == contact_id:
        return
    visitor.contact_id = contact_id
    visitor.identified_at = at or timezone.now()
    visitor.save(update_fields=["contact", "identified_at"])
    Event.objects.filter(visitor=visitor, contact__isnull=True).update(contact_id=contact_id)


def events_store(records: list[dict]) -> int:
    """Store a batch of accepted records (see ingest.clean_batch); returns events stored."""
    visitors = _visitors(records)
    claimed = {record["c"] for record in records if record.get("c")}
    alive = set(
        Contact.objects.filter(pk__in=claimed, deleted_at__isnull=True).values_list("pk", flat=True)
    )
    touched: set[int] = set()
    for record in records:
        if record.get("c") in alive and record.get("v"):
            visitor = visitors[record["s"], record["v"]]
            touched.add(record["c"])
            visitor_identify(visitor=visitor, contact_id=record["c"])
    campaigns = _campaign_ids()
    events: list[Event] = []
    page_views: dict[tuple[int, str], Event] = {}
    engaged: dict[tuple[int, str], int] = {}
    for record in records:
        at = datetime.fromtimestamp(record["t"], UTC)
        visitor = visitors.get((record["s"], record["v"])) if record.get("v") else None
        for item in record["e"]:
            if item["k"] == "engage":
                if visitor is not None:
                    key = (visitor.pk, item["p"])
                    engaged[key] = max(engaged.get(key, 0), item["d"])
                continue
            event = Event(
                kind=item["k"],
                occurred_at=at,
                site_id=record["s"],
                visitor=visitor,
                contact_id=visitor.contact_id if visitor else None,
                url=item["u"] if visitor else _anonymised(item["u"], keep_utm=True),
                title=item.get("t") or item.get("f", ""),
                referrer=item.get("r", "") if visitor else _anonymised(item["r"], keep_utm=False),
                page_id=item.get("p", ""),
            )
            if item["k"] == "download":
                event.properties = {"file": item["h"]}
            utm = utm_of(item["u"])
            if utm:
                event.properties = {**event.properties, "utm": utm}
                event.campaign_id = campaigns.get(utm.get("utm_campaign", "").lower())
            events.append(event)
            if visitor is not None and event.page_id:
                page_views[visitor.pk, event.page_id] = event
    for key, seconds in engaged.items():
        if key in page_views:
            page_views[key].engaged_seconds = seconds
    touched |= {event.contact_id for event in events if event.contact_id}
    events = _consented_landing(events)
    _insert(events)
    for (visitor_id, page_id), seconds in engaged.items():
        if (visitor_id, page_id) not in page_views:
            Event.objects.filter(
                visitor_id=visitor_id, page_id=page_id, kind=Event.Kind.PAGE_VIEW
            ).update(engaged_seconds=seconds)
    _announce(touched)
    return len(events)


@transaction.atomic
def event_record(
    *,
    kind: str,
    contact: Contact,
    title: str = "",
    url: str = "",
    properties: dict | None = None,
    occurred_at: datetime | None = None,
    campaign: Campaign | None = None,
) -> Event:
    """Store one event that Koers itself saw happen (an email opened, a stage reached)."""
    utm_campaign = utm_of(url).get("utm_campaign") if campaign is None else None
    if utm_campaign:
        campaign = Campaign.objects.filter(utm_campaign=utm_campaign.lower()).first()
    event = Event.objects.create(
        kind=kind,
        contact=contact,
        occurred_at=occurred_at or timezone.now(),
        title=title[:300],
        url=url[:2000],
        properties=properties or {},
        campaign=campaign,
    )
    _announce([contact.pk])
    return event


def deal_stage_reached(name: str, record, payload: dict) -> None:
    """A deal moved: each of its people reached that step of the buying process."""
    if name != "deal.stage_changed" or not payload.get("to_stage"):
        return
    stage = payload["to_stage"]
    for contact in Contact.objects.filter(deal_roles__deal_id=record.pk, deleted_at__isnull=True):
        event_record(
            kind=Event.Kind.STAGE_REACHED,
            contact=contact,
            title=stage["name"],
            properties={"deal": record.pk, "stage": stage["key"]},
        )


REPORTED_MAX_AGE_DAYS = 3653
# Kinds a program may report; stage changes come only from Koers's own pipeline.
REPORTED_KINDS = [kind for kind in Event.Kind if kind != Event.Kind.STAGE_REACHED]


def events_report(*, actor, items: list[dict]) -> list[Event | ValidationError]:
    """Store events a program reports about contacts the actor may see, such as product
    usage or a quote viewed elsewhere. Each item is checked alone: the result at each
    index is the stored event or the reason it was refused."""
    visible = contact_visible_to(user=actor)
    ids = {item["contact_id"] for item in items if item.get("contact_id")}
    emails = {item["email"].strip().lower() for item in items if item.get("email")}
    by_id = {pk: pk for pk in visible.filter(pk__in=ids).values_list("pk", flat=True)}
    by_email: dict[str, int] = {}
    for pk, email in visible.filter(email__in=emails).order_by("-pk").values_list("pk", "email"):
        by_email[email] = pk
    campaigns = set(
        Campaign.objects.filter(
            pk__in={item["campaign_id"] for item in items if item.get("campaign_id")}
        ).values_list("pk", flat=True)
    )
    now = timezone.now()
    results: list[Event | ValidationError] = []
    for item in items:
        errors: dict[str, str] = {}
        if item.get("contact_id"):
            contact_id = by_id.get(item["contact_id"])
            if contact_id is None:
                errors["contact_id"] = _("Choose a contact you can see.")
        elif item.get("email"):
            contact_id = by_email.get(item["email"].strip().lower())
            if contact_id is None:
                errors["email"] = _("No contact you can see has this email address.")
        else:
            contact_id = None
            errors["contact_id"] = _("Name the contact by contact_id or email.")
        if item.get("campaign_id") and item["campaign_id"] not in campaigns:
            errors["campaign_id"] = _("There is no such campaign.")
        occurred_at = item.get("occurred_at") or now
        if occurred_at > now + timedelta(minutes=5):
            errors["occurred_at"] = _("An event cannot happen in the future.")
        elif occurred_at < now - timedelta(days=REPORTED_MAX_AGE_DAYS):
            errors["occurred_at"] = _("An event older than ten years counts for nothing.")
        texts = {"url": item.get("url", ""), "title": item.get("title", "")}
        texts.update(
            {f"properties.{key}": value for key, value in (item.get("properties") or {}).items()}
        )
        for field, value in texts.items():
            if isinstance(value, str) and ingest.clean_text(value) != value:
                errors[field] = _("Use letters, digits and punctuation only.")
        if any(ingest.clean_text(key) != key for key in item.get("properties") or {}):
            errors["properties"] = _("Use letters, digits and punctuation only.")
        if errors:
            results.append(ValidationError(errors))
            continue
        results.append(
            Event(
                kind=item["kind"],
                contact_id=contact_id,
                occurred_at=occurred_at,
                url=item.get("url", ""),
                title=item.get("title", ""),
                engaged_seconds=item.get("engaged_seconds"),
                campaign_id=item.get("campaign_id"),
                properties=item.get("properties") or {},
            )
        )
    with transaction.atomic():
        stored = [result for result in results if isinstance(result, Event)]
        Event.objects.bulk_create(stored)
        _announce(event.contact_id for event in stored)
    return results
