from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from koers.crm import services


@db_periodic_task(crontab(hour="3", minute="17"))
def trash_purge():
    """Erase what has been in the trash longer than KOERS_TRASH_DAYS, every night."""
    return services.trash_purge(older_than_days=settings.KOERS_TRASH_DAYS)
