from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from koers.activities import services


@db_periodic_task(crontab(minute="*/5"))
def reminders_send():
    """Tell people about their tasks and call-backs as they come due."""
    return services.reminders_send()
