from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from koers.scoring import services


@db_task()
def contacts_score(contact_ids: list[int]) -> int:
    """Score the contacts that have new events (safe to run twice: it scores afresh)."""
    return len(services.contacts_score(contact_ids=contact_ids))


@db_task()
def scores_recompute() -> int:
    """Score everyone from all events, after the rules or the half-life changed."""
    return services.scores_recompute()


@db_periodic_task(crontab(minute="17"))
def scores_fade() -> int:
    """Keep stored scores at one moment, so lists sort by today's engagement."""
    return services.scores_fade()
