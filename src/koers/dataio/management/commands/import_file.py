"""koers import FILE --into contacts --user USERNAME: import a file from the command line.

The same path as the import wizard: the columns are mapped as their headers suggest (or
as the user's saved mapping says), the rows are checked, then written in batches. A run
that was stopped (Ctrl-C, a kill) continues with --resume JOB.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from koers.core.models import User
from koers.dataio import sources, targets
from koers.dataio.files import job_path, job_source
from koers.dataio.models import ImportJob
from koers.dataio.services import imports


class Command(BaseCommand):
    help = __doc__.split("\n", 1)[0]

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="CSV or XLSX file")
        parser.add_argument("--into", default="contacts", help="companies or contacts")
        parser.add_argument("--user", help="the user the import acts as (owner of new records)")
        parser.add_argument("--match", help="match existing records on this field, e.g. email")
        parser.add_argument("--dry-run", action="store_true", help="check and count only")
        parser.add_argument("--resume", type=int, metavar="JOB", help="continue a stopped import")

    def handle(self, *args, **options):
        if options["resume"]:
            job = ImportJob.objects.filter(pk=options["resume"]).first()
            if job is None:
                raise CommandError(f"There is no import {options['resume']}.")
            ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED)
        else:
            job = self._create(options)
            if options["dry_run"]:
                self._report_check(imports.import_job_check(job_id=job.pk))
                return
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.QUEUED,
                total_rows=sources.source_count_rows(job_path(job), job_source(job)),
            )
        self.stdout.write(f"import {job.pk}: {job.file_name}")
        job = imports.import_job_run(job_id=job.pk, on_batch=self._progress)
        self.stdout.write(
            f"import {job.pk} {job.status}: {job.created_count} created, "
            f"{job.updated_count} updated, {job.skipped_count} skipped, "
            f"{job.rejected_count} rejected"
        )

    def _create(self, options) -> ImportJob:
        if not options["file"] or not options["user"]:
            raise CommandError("Give a file and --user, or --resume JOB.")
        if targets.get(options["into"]) is None:
            choices = ", ".join(target.key for target in targets.all_targets())
            raise CommandError(f"--into is one of: {choices}.")
        actor = User.objects.filter(username=options["user"], is_active=True).first()
        if actor is None:
            raise CommandError(f"There is no active user {options['user']}.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"There is no file {path}.")
        try:
            job = imports.import_job_create(
                actor=actor, target=options["into"], file_name=path.name, path=path
            )
            return imports.import_job_configure(
                actor=actor,
                job=job,
                mapping=job.mapping,
                match_on=options["match"] if options["match"] is not None else job.match_on,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None

    def _progress(self, job: ImportJob) -> None:
        self.stdout.write(f"rows {job.processed_rows}/{job.total_rows}", ending="\n")
        self.stdout.flush()

    def _report_check(self, job: ImportJob) -> None:
        preview = job.preview
        self.stdout.write(
            f"{job.total_rows} rows: {preview['create']} to create, {preview['update']} to "
            f"update, {preview['skip']} to skip, {preview['reject']} with errors"
        )
        for number, reason in preview["errors"]:
            self.stdout.write(f"  row {number}: {reason}")
