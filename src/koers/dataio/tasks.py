from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from koers.dataio.services import imports


@db_task()
def import_job_check(job_id: int) -> None:
    """Dry-run an import: count what it would create, update, skip and reject."""
    imports.import_job_check(job_id=job_id)


@db_task()
def import_job_run(job_id: int) -> None:
    """Run an import; a second run of the same job resumes where the first stopped."""
    imports.import_job_run(job_id=job_id)


@db_periodic_task(crontab(minute="*"))
def import_jobs_resume_stalled() -> list[int]:
    """Take over imports whose worker was killed or restarted mid-run."""
    return imports.import_jobs_resume_stalled()
