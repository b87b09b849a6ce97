from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from koers.tracking import inbox
from koers.tracking.services.events import events_store

DRAIN_BATCH, DRAIN_BATCHES = 2000, 50


def schedule_drain() -> None:
    """Store what has arrived shortly: one drain gathers every request of that moment."""
    delay = settings.KOERS_TRACKING_DRAIN_DELAY
    if delay:
        events_drain.schedule(delay=delay)
    else:
        events_drain()


@db_task()
def events_drain() -> int:
    """Store the waiting events in bulk. A drain that finds another at work leaves the
    queue to it; one that stopped at its limit with more waiting goes on shortly."""
    stored = inbox.drain(events_store, batch=DRAIN_BATCH, max_batches=DRAIN_BATCHES)
    if stored >= DRAIN_BATCH * DRAIN_BATCHES:
        events_drain.schedule(delay=max(settings.KOERS_TRACKING_DRAIN_DELAY, 1))
    return stored


@db_periodic_task(crontab(minute="*"))
def events_drain_leftovers() -> int:
    """A safety net: store whatever a lost or failed drain left waiting."""
    return max(inbox.drain(events_store), 0)
