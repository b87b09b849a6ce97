from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One file imported into one kind of record, from upload to report.

    `processed_rows` is the resume point: it is written in the same transaction as the
    rows it counts, so a worker killed mid-import leaves no half-written rows and a rerun
    continues after the last committed batch.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked")
        QUEUED = "queued", _("Waiting to run")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    target = models.CharField(_("import into"), max_length=30)
    file_name = models.CharField(_("file"), max_length=255)
    # Relative to the import folder under KOERS var; deleted with the job.
    stored_as = models.CharField(max_length=255)
    encoding = models.CharField(_("encoding"), max_length=30, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    headers = models.JSONField(default=list)
    # One field name per column, "" for a column that is not imported.
    mapping = models.JSONField(default=list)
    match_on = models.CharField(_("match existing records on"), max_length=30, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED
    )
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    # The dry run's counts and its first errors, shown before the user runs the import.
    preview = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Written with every batch; a running job whose heartbeat stopped lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    failure = models.TextField(_("failure"), blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def target_label(self) -> str:
        from koers.dataio import targets

        target = targets.get(self.target)
        return str(target.label) if target else self.target

    @property
    def progress(self) -> int:
        """Percentage of the rows done, for the progress bar."""
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class ImportRejection(models.Model):
    """A row an import could not take, with its values and the reason, for download."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    row_number = models.PositiveIntegerField(_("row"))
    values = models.JSONField(default=list)
    reason = models.TextField(_("reason"))

    class Meta:
        ordering = ["job", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="import_rejection_row")
        ]

    def __str__(self) -> str:
        return f"{self.job} #{self.row_number}"


class ImportMapping(models.Model):
    """A column mapping kept for the next file from the same source."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_mappings"
    )
    name = models.CharField(_("name"), max_length=100)
    target = models.CharField(_("import into"), max_length=30)
    # {column header, case-folded: field name}
    columns = models.JSONField(default=dict)
    match_on = models.CharField(_("match existing records on"), max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "target", "name"], name="import_mapping_owner_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Merge(models.Model):
    """Two duplicate records made one, kept so the merge can be undone.

    The merged record goes to the trash; what moved to the survivor and the survivor's
    values before the merge are kept here.
    """

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        CONTACT = "contact", _("Contact")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    survivor_id = models.PositiveBigIntegerField()
    merged_id = models.PositiveBigIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("merged"), auto_now_add=True)
    # {field: value} of the survivor before the merge (values as stored).
    survivor_before = models.JSONField(default=dict)
    # {"app_label.model.field": [ids of the rows that pointed at the merged record]}
    moved = models.JSONField(default=dict)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["kind", "survivor_id"], name="merge_survivor")]

    def __str__(self) -> str:
        return f"{self.kind} {self.merged_id} → {self.survivor_id}"
