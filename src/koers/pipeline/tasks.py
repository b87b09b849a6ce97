from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from koers.pipeline import services


@db_periodic_task(crontab(hour="3", minute="27"))
def deal_trash_purge():
    """Erase deals that have been in the trash longer than KOERS_TRASH_DAYS, every night."""
    return services.deal_trash_purge(older_than_days=settings.KOERS_TRASH_DAYS)
