"""Where an import's file is kept, and how it is read."""

from pathlib import Path

from django.conf import settings

from koers.dataio import sources
from koers.dataio.models import ImportJob


def import_folder() -> Path:
    folder = Path(settings.VAR_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def job_path(job: ImportJob) -> Path:
    return import_folder() / job.stored_as


def job_source(job: ImportJob) -> sources.SourceFormat:
    return sources.SourceFormat(
        kind="xlsx" if not job.delimiter else "csv",
        encoding=job.encoding,
        delimiter=job.delimiter,
        headers=job.headers,
    )
