from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from koers.core.database import database_optimize


@db_periodic_task(crontab(hour="4", minute="7"))
def refresh_planner_statistics():
    """Refresh the database's statistics every night, after the day's imports and edits."""
    database_optimize()
