from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from koers.api import services, webhooks


@db_task()
def webhook_delivery_send(delivery_id: int) -> None:
    """Make one attempt at a webhook delivery, unless it is not due or already being made."""
    webhooks.webhook_delivery_send(delivery_id=delivery_id)


@db_periodic_task(crontab(minute="*"))
def webhook_deliveries_send_due() -> int:
    """Queue the retries that have come due (and first attempts a lost queue dropped)."""
    due = webhooks.webhook_deliveries_due()
    for delivery_id in due:
        webhook_delivery_send(delivery_id)
    return len(due)


@db_periodic_task(crontab(hour="3", minute="41"))
def webhook_deliveries_prune() -> int:
    """Keep the delivery logs to the last weeks."""
    days = getattr(settings, "KOERS_WEBHOOK_LOG_DAYS", 30)
    return webhooks.webhook_deliveries_prune(older_than_days=days)


@db_periodic_task(crontab(minute="23"))
def idempotent_requests_prune() -> int:
    """Forget the answers kept for Idempotency-Keys after a day."""
    return services.idempotent_requests_prune()
