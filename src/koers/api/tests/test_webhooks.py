import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from itertools import pairwise

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from koers.activities.services import activity_log
from koers.api import tasks, webhooks
from koers.api.models import WebhookDelivery, WebhookSubscription
from koers.core.models import Notification
from koers.crm import services as crm_services
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Contact, LifecycleStage
from koers.pipeline import services as pipeline_services


@dataclass
class Received:
    event: str
    delivery: str
    timestamp: int
    body: dict
    verified: bool


class Receiver:
    """A webhook receiver on 127.0.0.1 that checks each signature with the secret."""

    def __init__(self):
        self.received: list[Received] = []
        self.status = 200
        self.secret = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                parts = dict(p.split("=", 1) for p in self.headers["Koers-Signature"].split(","))
                expected = hmac.new(
                    receiver.secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
                ).hexdigest()
                receiver.received.append(
                    Received(
                        event=self.headers["Koers-Event"],
                        delivery=self.headers["Koers-Delivery"],
                        timestamp=int(parts["t"]),
                        body=json.loads(body),
                        verified=hmac.compare_digest(expected, parts["v1"]),
                    )
                )
                self.send_response(receiver.status)
                if 300 <= receiver.status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/koers-hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def subscribe(self, owner, events) -> WebhookSubscription:
        subscription = webhooks.webhook_subscription_create(
            owner=owner, url=self.url, events=events
        )
        self.secret = subscription.secret
        return subscription


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    # The receiver listens on 127.0.0.1, which Koers otherwise refuses.
    settings.KOERS_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.KOERS_WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.KOERS_WEBHOOK_MAX_ATTEMPTS = 4
    return settings


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the events, then the queued first attempts)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_a_receiver_gets_a_signed_delivery_of_a_new_contact(sales_a, receiver, on_commit):
    subscription = receiver.subscribe(sales_a, ["contact.created"])

    with on_commit():
        contact = crm_services.contact_create(
            actor=sales_a, first_name="Fenna", last_name="Mulder", email="fenna@example.nl"
        )

    [got] = receiver.received
    assert got.verified
    assert got.event == "contact.created"
    assert got.body["event"] == "contact.created"
    assert got.body["data"]["id"] == contact.pk
    assert got.body["data"]["type"] == "contact"
    assert got.body["data"]["email"] == "fenna@example.nl"
    assert got.body["data"]["owner_id"] == sales_a.pk
    assert got.body["created_at"].endswith("Z")
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert got.delivery == str(delivery.pk) == str(got.body["id"])
    assert abs(got.timestamp - timezone.now().timestamp()) < 60
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        WebhookDelivery.Status.SUCCEEDED,
        1,
        200,
    )
    assert delivery.next_attempt_at is None


def test_a_failing_receiver_gets_retries_with_growing_delays_until_the_webhook_pauses(
    sales_a, receiver, on_commit
):
    subscription = receiver.subscribe(sales_a, ["contact.created"])
    receiver.status = 500
    start = timezone.now().replace(microsecond=0)

    with time_machine.travel(start, tick=False) as clock:
        with on_commit():
            crm_services.contact_create(actor=sales_a, last_name="Mulder")
        delivery = WebhookDelivery.objects.get(subscription=subscription)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            WebhookDelivery.Status.FAILED,
            1,
            500,
        )
        while delivery.next_attempt_at is not None:
            # Not before it is due.
            clock.move_to(delivery.next_attempt_at - timedelta(seconds=1))
            tasks.webhook_deliveries_send_due()
            assert len(receiver.received) == delivery.attempts
            clock.move_to(delivery.next_attempt_at)
            tasks.webhook_deliveries_send_due()
            delivery.refresh_from_db()
            assert len(receiver.received) == delivery.attempts
        clock.move_to(start + timedelta(days=1))
        tasks.webhook_deliveries_send_due()

    times = [got.timestamp for got in receiver.received]
    assert [later - earlier for earlier, later in pairwise(times)] == [
        30,
        60,
        120,
    ]
    assert all(got.verified for got in receiver.received)
    assert {got.delivery for got in receiver.received} == {str(delivery.pk)}
    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.GIVEN_UP, 4)
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert subscription.paused_at is not None
    assert subscription.consecutive_failures == 4
    [notice] = Notification.objects.filter(recipient=sales_a)
    assert subscription.url in notice.message
    assert notice.url == reverse("api:webhook-detail", args=[subscription.pk])


def test_a_redirect_is_not_followed_but_counts_as_a_failure(sales_a, receiver, on_commit):
    subscription = receiver.subscribe(sales_a, ["company.created"])
    receiver.status = 302

    with on_commit():
        crm_services.company_create(actor=sales_a, name="Mulder Installatietechniek")

    assert len(receiver.received) == 1
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert (delivery.status, delivery.last_status_code) == (WebhookDelivery.Status.FAILED, 302)


def test_a_webhook_gets_nothing_about_records_its_owner_cannot_see(
    sales_a, sales_b, read_only_a, receiver, on_commit
):
    other_team = receiver.subscribe(sales_b, ["contact.created", "contact.updated"])
    same_team = receiver.subscribe(read_only_a, ["contact.created", "contact.updated"])

    with on_commit():
        contact = crm_services.contact_create(actor=sales_a, last_name="Mulder")
    with on_commit():
        crm_services.contact_update(actor=sales_a, contact=contact, job_title="Inkoper")

    assert not WebhookDelivery.objects.filter(subscription=other_team).exists()
    assert list(
        WebhookDelivery.objects.filter(subscription=same_team)
        .order_by("id")
        .values_list("event", flat=True)
    ) == ["contact.created", "contact.updated"]
    assert [got.body["data"]["id"] for got in receiver.received] == [contact.pk, contact.pk]
    assert receiver.received[1].body["data"]["changed"] == ["job_title"]


def test_a_write_that_rolls_back_sends_nothing(sales_a, receiver, on_commit):
    receiver.subscribe(sales_a, ["contact.created"])

    def create_then_fail():
        with transaction.atomic():
            crm_services.contact_create(actor=sales_a, last_name="Mulder")
            raise RuntimeError

    with on_commit(), pytest.raises(RuntimeError):
        create_then_fail()

    assert not WebhookDelivery.objects.exists()
    assert receiver.received == []


def test_deal_moves_wins_losses_deletions_and_activities_each_make_a_delivery(
    manager, sales_a, receiver, on_commit
):
    pipeline = pipeline_services.pipeline_create_from_template(actor=manager, sales_model="inbound")
    company = CompanyFactory(owner=sales_a)
    # In a deal already: the engagement its stage changes earn alerts nobody.
    boss = ContactFactory(
        company=company,
        owner=sales_a,
        dmu_role=Contact.DMURole.DECISION_MAKER,
        lifecycle_stage=LifecycleStage.OPPORTUNITY,
    )
    subscription = receiver.subscribe(
        sales_a,
        [
            "deal.stage_changed",
            "deal.won",
            "deal.lost",
            "deal.deleted",
            "activity.created",
        ],
    )
    deal = pipeline_services.deal_create(
        actor=sales_a,
        name="Planning voor 40 monteurs",
        pipeline=pipeline,
        company=company,
        contacts=[(boss, "")],
        amount_recurring=Decimal("500"),
        expected_close_on="2027-01-31",
    )

    with on_commit():
        pipeline_services.deal_move(
            actor=sales_a, deal=deal, to_stage=pipeline.stages.get(key="proposal")
        )
    with on_commit():
        pipeline_services.deal_mark_won(actor=sales_a, deal=deal)
    with on_commit():
        pipeline_services.deal_reopen(actor=sales_a, deal=deal)
    with on_commit():
        pipeline_services.deal_mark_lost(actor=sales_a, deal=deal, reason="competitor")
    with on_commit():
        activity = activity_log(actor=sales_a, kind="call", subject="Nagebeld", deal=deal)
    with on_commit():
        crm_services.record_delete(actor=sales_a, record=deal)

    assert [(got.event, got.body["data"]["id"]) for got in receiver.received] == [
        ("deal.stage_changed", deal.pk),
        ("deal.stage_changed", deal.pk),
        ("deal.won", deal.pk),
        ("deal.stage_changed", deal.pk),
        ("deal.stage_changed", deal.pk),
        ("deal.lost", deal.pk),
        ("activity.created", activity.pk),
        ("deal.deleted", deal.pk),
    ]
    won = receiver.received[2].body["data"]
    assert (won["status"], won["from_stage"]["key"], won["to_stage"]["key"]) == (
        "won",
        "proposal",
        "won",
    )
    assert Decimal(won["value"]) == Decimal("6000")  # 12 × 500
    assert receiver.received[5].body["data"]["lost_reason"] == "competitor"
    assert receiver.received[6].body["data"]["deal_id"] == deal.pk
    assert all(got.verified for got in receiver.received)
    assert WebhookDelivery.objects.filter(subscription=subscription).count() == 8


def test_replay_sends_the_event_again_as_a_new_delivery(sales_a, receiver, on_commit):
    subscription = receiver.subscribe(sales_a, ["contact.created"])
    with on_commit():
        contact = crm_services.contact_create(actor=sales_a, last_name="Mulder")
    delivery = WebhookDelivery.objects.get(subscription=subscription)

    with on_commit():
        replay = webhooks.webhook_delivery_replay(user=sales_a, delivery=delivery)

    assert replay.pk != delivery.pk
    assert [(got.delivery, got.body["data"]["id"]) for got in receiver.received] == [
        (str(delivery.pk), contact.pk),
        (str(replay.pk), contact.pk),
    ]
    replay.refresh_from_db()
    assert replay.status == WebhookDelivery.Status.SUCCEEDED
    assert replay.payload == delivery.payload


def test_a_paused_webhook_gets_no_new_events_and_its_waiting_deliveries_go_out_on_resume(
    sales_a, receiver, on_commit
):
    subscription = receiver.subscribe(sales_a, ["contact.created"])
    receiver.status = 503
    with on_commit():
        crm_services.contact_create(actor=sales_a, last_name="Mulder")
    webhooks.webhook_subscription_update(user=sales_a, subscription=subscription, is_active=False)
    receiver.status = 200

    with on_commit():
        crm_services.contact_create(actor=sales_a, last_name="de Vries")
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        tasks.webhook_deliveries_send_due()
        assert len(receiver.received) == 1
        webhooks.webhook_subscription_update(
            user=sales_a, subscription=subscription, is_active=True
        )
        tasks.webhook_deliveries_send_due()

    [delivery] = WebhookDelivery.objects.filter(subscription=subscription)
    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.SUCCEEDED, 2)
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0


def test_events_while_koers_paused_a_failing_webhook_wait_and_go_out_on_resume(
    sales_a, receiver, on_commit
):
    subscription = receiver.subscribe(sales_a, ["contact.created"])
    subscription.is_active = False
    subscription.paused_at = timezone.now()  # as after the last failed attempt
    subscription.save()

    with on_commit():
        contact = crm_services.contact_create(actor=sales_a, last_name="Jansen")
    [waiting] = WebhookDelivery.objects.filter(subscription=subscription)
    assert waiting.status in webhooks.OPEN
    tasks.webhook_deliveries_send_due()
    assert receiver.received == []

    webhooks.webhook_subscription_update(user=sales_a, subscription=subscription, is_active=True)
    tasks.webhook_deliveries_send_due()
    [got] = receiver.received
    assert got.verified
    assert got.body["data"]["id"] == contact.pk
    waiting.refresh_from_db()
    assert waiting.status == WebhookDelivery.Status.SUCCEEDED


def test_private_addresses_are_refused_when_subscribing_and_when_sending(
    sales_a, receiver, on_commit, webhook_settings
):
    subscription = receiver.subscribe(sales_a, ["contact.created"])
    webhook_settings.KOERS_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    for url in ("http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.1.2.3/"):
        with pytest.raises(ValidationError) as raised:
            webhooks.webhook_subscription_create(owner=sales_a, url=url, events=["contact.created"])
        assert "url" in raised.value.message_dict
    with on_commit():
        crm_services.contact_create(actor=sales_a, last_name="Mulder")

    assert receiver.received == []
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.last_status_code is None
    assert delivery.last_error


def test_subscribing_needs_a_web_address_and_known_events(sales_a):
    with pytest.raises(ValidationError) as raised:
        webhooks.webhook_subscription_create(
            owner=sales_a, url="ftp://example.com/x", events=["contact.exploded"]
        )

    assert set(raised.value.message_dict) == {"url", "events"}


def test_the_pages_make_show_and_replay_a_webhook_for_a_read_only_user(
    read_only_a, client_for, receiver, on_commit
):
    client = client_for(read_only_a)

    response = client.post(
        reverse("api:webhook-list"),
        {"url": receiver.url, "events": ["contact.created", "deal.won"]},
    )

    subscription = WebhookSubscription.objects.get(owner=read_only_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("api:webhook-detail", args=[subscription.pk])
    assert subscription.events == ["contact.created", "deal.won"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert subscription.secret in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="contact.created", payload={"id": 1, "type": "contact"}
    )
    receiver.secret = subscription.secret
    with on_commit():
        replayed = client.post(
            reverse("api:webhook-delivery-replay", args=[subscription.pk, delivery.pk])
        )
    assert replayed.status_code == 302
    assert [got.body["data"] for got in receiver.received] == [{"id": 1, "type": "contact"}]
    listing = client.get(reverse("api:webhook-list"))
    assert receiver.url in listing.content.decode()


def test_another_users_webhook_is_not_found(sales_a, sales_b, client_for):
    subscription = webhooks.webhook_subscription_create(
        owner=sales_a, url="https://example.com/hook", events=["contact.created"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="contact.created", payload={}
    )
    client = client_for(sales_b)

    assert client.get(reverse("api:webhook-detail", args=[subscription.pk])).status_code == 404
    for name in ("api:webhook-pause", "api:webhook-resume", "api:webhook-delete"):
        assert client.post(reverse(name, args=[subscription.pk])).status_code == 404
    replay = reverse("api:webhook-delivery-replay", args=[subscription.pk, delivery.pk])
    assert client.post(replay).status_code == 404
    assert subscription.url not in client.get(reverse("api:webhook-list")).content.decode()
    subscription.refresh_from_db()
    assert subscription.is_active
    assert WebhookDelivery.objects.filter(subscription=subscription).count() == 1


def test_old_finished_deliveries_are_forgotten_and_open_ones_kept(sales_a):
    subscription = webhooks.webhook_subscription_create(
        owner=sales_a, url="https://example.com/hook", events=["contact.created"]
    )
    old = timezone.now() - timedelta(days=31)
    statuses = ["succeeded", "given_up", "failed", "pending"]
    for status in statuses:
        WebhookDelivery.objects.create(
            subscription=subscription, event="contact.created", status=status, created_at=old
        )
    recent = WebhookDelivery.objects.create(
        subscription=subscription, event="contact.created", status="succeeded"
    )

    assert webhooks.webhook_deliveries_prune(older_than_days=30) == 2

    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        "succeeded",
        "failed",
        "pending",
    }
    assert WebhookDelivery.objects.filter(status="succeeded").get() == recent


def test_nothing_more_goes_out_once_the_owner_can_no_longer_log_in(
    admin_user, sales_a, receiver, on_commit
):
    subscription = receiver.subscribe(sales_a, ["contact.created"])
    receiver.status = 500
    with on_commit():
        crm_services.contact_create(actor=sales_a, last_name="Mulder")
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.status == WebhookDelivery.Status.FAILED
    sales_a.is_active = False
    sales_a.save(update_fields=["is_active"])

    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        assert webhooks.webhook_deliveries_due() == []
        assert webhooks.webhook_delivery_send(delivery_id=delivery.pk) is None

    assert len(receiver.received) == 1


def test_a_receiver_that_answers_a_byte_at_a_time_fails_at_the_deadline(
    sales_a, settings, on_commit
):
    import socket
    import time

    settings.KOERS_WEBHOOK_TIMEOUT_SECONDS = 1
    server = socket.create_server(("127.0.0.1", 0))

    def drip():
        connection, _address = server.accept()
        with connection:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                time.sleep(0.1)  # 3.8 s for the whole answer: it would succeed, given time
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    subscription = webhooks.webhook_subscription_create(
        owner=sales_a,
        url=f"http://127.0.0.1:{server.getsockname()[1]}/hook",
        events=["contact.created"],
    )

    with on_commit():
        crm_services.contact_create(actor=sales_a, last_name="Traag")

    delivery = WebhookDelivery.objects.get(subscription=subscription)
    server.close()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.last_status_code is None
    assert delivery.last_error  # no answer in time
