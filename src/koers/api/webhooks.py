"""Webhooks: events sent to URLs their owners chose, signed, retried, paused when failing.

Every delivery is a POST of JSON {"id", "event", "created_at", "data"} with the headers
Koers-Event, Koers-Delivery (the delivery's id: the same on a retry) and
Koers-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>.
A subscription only receives events about records its owner may see, checked when the
event happens. A 2xx answer is success; anything else is retried with growing delays
(base × 2ⁿ) until the last attempt, after which the subscription is paused and its owner
told.

The URLs are chosen by users, so Koers would otherwise POST into its own network for
anyone who can log in: it refuses addresses that are not public (loopback, private,
link-local …) unless KOERS_WEBHOOK_ALLOW_PRIVATE_ADDRESSES is set, and it never follows
a redirect.
"""

import functools
import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from koers.activities.models import Activity
from koers.activities.selectors import activity_visible_to
from koers.api.models import WebhookDelivery, WebhookSubscription
from koers.core.models import User
from koers.core.services import notify
from koers.crm.models import Company, Contact
from koers.crm.selectors import company_visible_to, contact_visible_to
from koers.pipeline.models import Deal
from koers.pipeline.selectors import deal_visible_to

# The events a subscription may choose, by kind of record, as the page offers them.
EVENT_GROUPS = [
    (
        gettext_lazy("Contacts"),
        [
            ("contact.created", gettext_lazy("added")),
            ("contact.updated", gettext_lazy("changed")),
            ("contact.deleted", gettext_lazy("deleted")),
            ("contact.restored", gettext_lazy("restored")),
        ],
    ),
    (
        gettext_lazy("Companies"),
        [
            ("company.created", gettext_lazy("added")),
            ("company.updated", gettext_lazy("changed")),
            ("company.deleted", gettext_lazy("deleted")),
            ("company.restored", gettext_lazy("restored")),
        ],
    ),
    (
        gettext_lazy("Deals"),
        [
            ("deal.created", gettext_lazy("added")),
            ("deal.updated", gettext_lazy("changed")),
            ("deal.stage_changed", gettext_lazy("moved to another stage")),
            ("deal.won", gettext_lazy("won")),
            ("deal.lost", gettext_lazy("lost")),
            ("deal.deleted", gettext_lazy("deleted")),
            ("deal.restored", gettext_lazy("restored")),
        ],
    ),
    (gettext_lazy("Activities"), [("activity.created", gettext_lazy("logged"))]),
    (
        gettext_lazy("Engagement"),
        [("score.threshold", gettext_lazy("crossed the MQL threshold"))],
    ),
]
EVENTS = [name for _group, events in EVENT_GROUPS for name, _label in events]
MAX_SUBSCRIPTIONS = 10
SECRET_START = "whsec_"  # noqa: S105 - a recognisable start, not a secret
# How long an attempt holds its delivery: longer than any attempt takes, so that no
# other worker sends it meanwhile, and short enough to retry after a worker died.
CLAIM = timedelta(minutes=2)
OPEN = [WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED]


def retry_base_seconds() -> int:
    return getattr(settings, "KOERS_WEBHOOK_RETRY_BASE_SECONDS", 30)


def max_attempts() -> int:
    return getattr(settings, "KOERS_WEBHOOK_MAX_ATTEMPTS", 8)


def _timeout_seconds() -> float:
    return getattr(settings, "KOERS_WEBHOOK_TIMEOUT_SECONDS", 5)


def _private_addresses_allowed() -> bool:
    return getattr(settings, "KOERS_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)


# Subscriptions


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])  # an IPv6 address may end in %zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _check_url(url: str) -> str:
    url = url.strip()
    message = _("Give a web address starting with https:// (or http://).")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError({"url": message}) from None
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ValidationError({"url": _("Leave the user name and password out of the address.")})
    host = (parts.hostname or "").rstrip(".")
    if not _private_addresses_allowed():
        # Names are looked up when sending; what is plainly internal is refused now.
        try:
            internal = not _is_public(host)
        except ValueError:
            internal = host == "localhost" or host.endswith(".localhost")
        if internal:
            raise ValidationError({"url": _("Koers only sends webhooks to public addresses.")})
    return url


def _check_events(events: list[str]) -> list[str]:
    chosen = sorted(set(events))
    if not chosen or set(chosen) - set(EVENTS):
        raise ValidationError({"events": _("Choose the events to send.")})
    return chosen


def _check_owner(user: User, subscription: WebhookSubscription) -> None:
    if subscription.owner_id != user.pk:
        raise PermissionDenied(_("This is someone else's webhook."))


@transaction.atomic
def webhook_subscription_create(*, owner: User, url: str, events: list[str]) -> WebhookSubscription:
    """Subscribe a URL to events; it gets a new secret to check the signatures with.

    Any user may, read-only users too: a subscription only tells what its owner may see.
    """
    errors = {}
    try:
        url = _check_url(url)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    try:
        events = _check_events(events)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if WebhookSubscription.objects.filter(owner=owner).count() >= MAX_SUBSCRIPTIONS:
        errors.setdefault("__all__", []).append(
            _("You have %(count)s webhooks, the most one person may have.")
            % {"count": MAX_SUBSCRIPTIONS}
        )
    if errors:
        raise ValidationError(errors)
    return WebhookSubscription.objects.create(
        owner=owner, url=url, events=events, secret=SECRET_START + secrets.token_urlsafe(32)
    )


@transaction.atomic
def webhook_subscription_update(
    *,
    user: User,
    subscription: WebhookSubscription,
    url: str | None = None,
    events: list[str] | None = None,
    is_active: bool | None = None,
) -> WebhookSubscription:
    """Change a subscription's URL or events, or pause or resume it.

    Resuming starts the count of failures again; deliveries that waited go out.
    """
    _check_owner(user, subscription)
    fields = []
    if url is not None:
        subscription.url = _check_url(url)
        fields.append("url")
    if events is not None:
        subscription.events = _check_events(events)
        fields.append("events")
    if is_active is not None and is_active != subscription.is_active:
        subscription.is_active = is_active
        fields.append("is_active")
        if is_active:
            subscription.paused_at = None
            subscription.consecutive_failures = 0
            fields += ["paused_at", "consecutive_failures"]
    if fields:
        subscription.save(update_fields=fields)
    return subscription


def webhook_subscription_delete(*, user: User, subscription: WebhookSubscription) -> None:
    """Stop sending to a URL; its delivery log goes with it."""
    _check_owner(user, subscription)
    subscription.delete()


# Deliveries


def _visible_to(user: User, record: models.Model) -> bool:
    """Whether the user may see the record now (a deleted one: in the trash)."""
    trash = getattr(record, "deleted_at", None) is not None
    if isinstance(record, Contact):
        records = contact_visible_to(user=user, trash=trash)
    elif isinstance(record, Company):
        records = company_visible_to(user=user, trash=trash)
    elif isinstance(record, Deal):
        records = deal_visible_to(user=user, trash=trash)
    elif isinstance(record, Activity):
        records = activity_visible_to(user=user)
    else:
        return False  # what cannot be checked is never sent
    return records.filter(pk=record.pk).exists()


def _queue_send(delivery_id: int) -> None:
    from koers.api import tasks

    tasks.webhook_delivery_send(delivery_id)


def webhook_deliveries_queue(
    *, event: str, record: models.Model, payload: dict[str, Any]
) -> list[WebhookDelivery]:
    """Make a delivery of the event for each subscription to it whose owner may see the
    record, and queue the first attempts. Runs after the event's write committed.

    A subscription Koers paused because its receiver kept failing keeps its events: they
    wait, and go out when its owner resumes it. One the owner paused gets nothing."""
    subscriptions = [
        subscription
        for subscription in WebhookSubscription.objects.filter(
            Q(is_active=True) | Q(paused_at__isnull=False), owner__is_active=True
        ).select_related("owner")
        # Few rows, and SQLite cannot look inside a JSON list: filtered here.
        if event in subscription.events
    ]
    seen: dict[int, bool] = {}
    now = timezone.now()
    deliveries = []
    for subscription in subscriptions:
        if subscription.owner_id not in seen:
            seen[subscription.owner_id] = _visible_to(subscription.owner, record)
        if seen[subscription.owner_id]:
            deliveries.append(
                WebhookDelivery(
                    subscription=subscription,
                    event=event,
                    payload=payload,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    if not deliveries:
        return []
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(deliveries)
        for delivery in deliveries:
            if delivery.subscription.is_active:
                transaction.on_commit(functools.partial(_queue_send, delivery.pk))
    return deliveries


def listen(name: str, record: models.Model, payload: dict[str, Any]) -> None:
    """The listener of koers.core.events."""
    webhook_deliveries_queue(event=name, record=record, payload=payload)


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The JSON a delivery sends, byte for byte (the signature covers these bytes)."""
    body = {
        "id": delivery.pk,
        "event": delivery.event,
        "created_at": delivery.created_at,  # as the dates in the data: ISO, in UTC
        "data": delivery.payload,
    }
    return json.dumps(
        body, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False
    ).encode()


def delivery_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The Koers-Signature header: the time and an HMAC-SHA256 of "<time>.<body>"."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class _Refused(Exception):
    pass


def _address(host: str, port: int) -> tuple:
    """Look the host up once and return the address to connect to, if it is public.

    The connection goes to exactly this address: a name that answered a public address to
    the check cannot send the request inward with a second answer (DNS rebinding).
    """
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise _Refused(str(error)) from None
    if not found:
        raise _Refused(_("Koers only sends webhooks to public addresses."))
    if not _private_addresses_allowed() and not all(_is_public(info[4][0]) for info in found):
        raise _Refused(_("Koers only sends webhooks to public addresses."))
    family, _type, _proto, _name, address = found[0]
    return family, address


def _exchange(url: str, body: bytes, headers: dict[str, str], deadline: float) -> tuple[int, str]:
    """POST and read the answer's status line, all before `deadline` (time.monotonic()):
    a receiver that answers a byte at a time cannot hold a worker longer."""

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(_("No answer in time."))
        return left

    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    family, address = _address(parts.hostname, port)
    connection = socket.socket(family, socket.SOCK_STREAM)
    try:
        connection.settimeout(remaining())
        connection.connect(address)
        if https:
            connection = ssl.create_default_context().wrap_socket(
                connection, server_hostname=parts.hostname
            )
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [
            f"POST {target} HTTP/1.1",
            f"Host: {parts.netloc}",
            f"Content-Length: {len(body)}",
            "Connection: close",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        connection.settimeout(remaining())
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        answer = b""
        while b"\r\n" not in answer and len(answer) < 8192:
            connection.settimeout(remaining())
            chunk = connection.recv(1024)
            if not chunk:
                break
            answer += chunk
    finally:
        connection.close()
    status_line = answer.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
    if (
        len(status_line) < 2
        or not status_line[0].startswith("HTTP/")
        or not status_line[1].isdigit()
    ):
        raise http.client.BadStatusLine(answer[:100].decode("latin-1"))
    return int(status_line[1]), status_line[2] if len(status_line) > 2 else ""


def _post(delivery: WebhookDelivery, now: datetime) -> tuple[int | None, str]:
    """Send one attempt; return the answer's status code (None: no answer) and an error.

    A redirect is not followed (it could lead to an address never checked): like any answer
    outside 2xx it counts as a failure.
    """
    subscription = delivery.subscription
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Koers-Webhooks/1",
        "Koers-Event": delivery.event,
        "Koers-Delivery": str(delivery.pk),
        "Koers-Signature": delivery_signature(
            secret=subscription.secret, timestamp=int(now.timestamp()), body=body
        ),
    }
    with translation.override(subscription.owner.language or settings.LANGUAGE_CODE):
        try:
            status, reason = _exchange(
                subscription.url, body, headers, time.monotonic() + _timeout_seconds()
            )
        except (_Refused, OSError, http.client.HTTPException, ValueError) as error:
            return None, str(error) or error.__class__.__name__
    return status, "" if 200 <= status < 300 else f"HTTP {status} {reason}".strip()


def _pause(subscription: WebhookSubscription, now: datetime) -> None:
    paused = WebhookSubscription.objects.filter(pk=subscription.pk, is_active=True).update(
        is_active=False, paused_at=now
    )
    if not paused:
        return  # already paused: the owner was told then
    url = subscription.url
    notify(
        recipient=subscription.owner,
        actor=None,
        message=lambda: (
            _("Your webhook to %(url)s kept failing, so Koers paused it. Resume it once it works.")
            % {"url": url}
        ),
        url=reverse("api:webhook-detail", args=[subscription.pk]),
    )


def webhook_delivery_send(*, delivery_id: int) -> WebhookDelivery | None:
    """Make one attempt at a delivery that is due; None when it is not due, not open, its
    subscription is paused, or another worker is already at it. Safe to run twice."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status__in=OPEN,
        next_attempt_at__lte=now,
        subscription__is_active=True,
        subscription__owner__is_active=True,  # nothing more goes out for a departed user
    ).update(next_attempt_at=now + CLAIM)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("subscription__owner").get(pk=delivery_id)
    status_code, error = _post(delivery, now)
    done_at = timezone.now()
    subscription = delivery.subscription
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error[:300]
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = done_at
        delivery.next_attempt_at = None
        WebhookSubscription.objects.filter(pk=subscription.pk).exclude(
            consecutive_failures=0
        ).update(consecutive_failures=0)
    else:
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        if delivery.attempts >= max_attempts():
            delivery.status = WebhookDelivery.Status.GIVEN_UP
            delivery.next_attempt_at = None
            _pause(subscription, done_at)
        else:
            delivery.status = WebhookDelivery.Status.FAILED
            delay = retry_base_seconds() * 2 ** (delivery.attempts - 1)
            delivery.next_attempt_at = done_at + timedelta(seconds=delay)
    delivery.save(
        update_fields=[
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
        ]
    )
    return delivery


def webhook_deliveries_due(*, limit: int = 500) -> list[int]:
    """The deliveries whose next attempt is due, of subscriptions that are not paused."""
    return list(
        WebhookDelivery.objects.filter(
            status__in=OPEN,
            next_attempt_at__lte=timezone.now(),
            subscription__is_active=True,
            subscription__owner__is_active=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def webhook_delivery_replay(*, user: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery with the same data.

    Of a paused subscription it waits until the subscription is resumed.
    """
    _check_owner(user, delivery.subscription)
    now = timezone.now()
    replay = WebhookDelivery.objects.create(
        subscription=delivery.subscription,
        event=delivery.event,
        payload=delivery.payload,
        created_at=now,
        next_attempt_at=now,
    )
    transaction.on_commit(functools.partial(_queue_send, replay.pk))
    return replay


def webhook_deliveries_prune(*, older_than_days: int) -> int:
    """Forget finished deliveries older than the given days. Safe to run twice."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _counts = (
        WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(status__in=OPEN).delete()
    )
    return deleted
