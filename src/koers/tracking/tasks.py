from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from koers.tracking import inbox
from koers.tracking.services.events import events_store


def schedule_drain() -> None:
    """Store what has arrived shortly: one drain gathers every request of that moment."""
    delay = settings.KOERS_TRACKING_DRAIN_DELAY
    if delay:
        events_drain.schedule(delay=delay)
    else:
        events_drain()


@db_task()
def events_drain() -> int:
    """Store the waiting events in bulk; runs again when more are waiting than one run
    takes, or when another drain held the queue."""
    stored = inbox.drain(events_store)
    if stored == -1 or inbox.waiting():
        events_drain.schedule(delay=max(settings.KOERS_TRACKING_DRAIN_DELAY, 1))
    return stored


@db_periodic_task(crontab(minute="*"))
def events_drain_leftovers() -> int:
    """A safety net: store whatever a lost or failed drain left waiting."""
    return max(inbox.drain(events_store), 0)
