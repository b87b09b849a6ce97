"""Long scoring runs (fit scores, training, prediction) as background jobs whose progress
a page can poll. A run reports as it goes; a failure is kept on the job for the page."""

import logging
from collections.abc import Callable

from django.db.models import F
from django.utils import timezone

from koers.core.models import User
from koers.scoring.models import ScoringJob

log = logging.getLogger(__name__)

# report(done, total): how far a run has come.
Report = Callable[[int, int], None]


def job_create(*, kind: str, actor: User | None = None) -> ScoringJob:
    return ScoringJob.objects.create(kind=kind, created_by=actor)


def job_run(job_id: int, work: Callable[[Report], str]) -> ScoringJob | None:
    """Run `work` for the job, which reports progress and returns its closing message."""
    job = ScoringJob.objects.filter(pk=job_id).first()
    if job is None:
        return None
    ScoringJob.objects.filter(pk=job.pk).update(status=ScoringJob.Status.RUNNING)

    def report(done: int, total: int) -> None:
        ScoringJob.objects.filter(pk=job.pk).update(done=done, total=total)

    try:
        message = work(report)
    except Exception as error:
        log.exception("scoring job %s failed", job.pk)
        ScoringJob.objects.filter(pk=job.pk).update(
            status=ScoringJob.Status.FAILED, message=str(error)[:300], finished_at=timezone.now()
        )
        raise
    ScoringJob.objects.filter(pk=job.pk).update(
        status=ScoringJob.Status.DONE,
        done=F("total"),
        message=(message or "")[:300],
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def job_latest(kind: str) -> ScoringJob | None:
    return ScoringJob.objects.filter(kind=kind).first()
