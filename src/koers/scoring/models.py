from django.db import models
from django.utils.translation import gettext_lazy as _

from koers.crm.models import Company, Contact
from koers.tracking.models import Event


class EngagementSettings(models.Model):
    """How fast points fade and when a contact becomes a marketing qualified lead (one row)."""

    class Action(models.TextChoices):
        NOTIFY = "notify", _("Tell the owner")
        TASK = "task", _("Give the owner a follow-up task")

    half_life_days = models.PositiveIntegerField(
        _("half-life (days)"),
        default=30,
        help_text=_("After this many days an event's points count for half."),
    )
    mql_threshold = models.PositiveIntegerField(
        _("MQL threshold"),
        default=60,
        help_text=_("A contact with at least this score becomes a marketing qualified lead."),
    )
    action = models.CharField(
        _("when a contact crosses it"), max_length=10, choices=Action.choices, default=Action.TASK
    )

    class Meta:
        verbose_name = _("engagement settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> "EngagementSettings":
        return cls.objects.order_by("pk").first() or cls.objects.create()


class EngagementRule(models.Model):
    """Points for an event of a kind, optionally only where its page or title matches."""

    class Weight(models.TextChoices):
        # Seed 002: progress in the buying process counts most, then touchpoints, then content.
        BUYING = "buying", _("Buying-process progress")
        TOUCHPOINT = "touchpoint", _("Touchpoint")
        CONTENT = "content", _("Content type")

    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("event"), max_length=14, choices=Event.Kind.choices)
    pattern = models.CharField(
        _("page or title contains"),
        max_length=200,
        blank=True,
        help_text=_("Such as /pricing, or a stage name. Empty: every event of this kind."),
    )
    min_engaged_seconds = models.PositiveIntegerField(_("at least engaged (seconds)"), default=0)
    points = models.IntegerField(_("points"))
    category = models.CharField(
        _("counts as"), max_length=12, choices=Weight.choices, default=Weight.TOUCHPOINT
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("engagement rule")
        verbose_name_plural = _("engagement rules")
        ordering = ["-points", "name"]

    def __str__(self) -> str:
        return self.name


class EngagementScore(models.Model):
    """A contact's score as it stood at `scored_at`; all points fade alike, so it is
    brought to any later moment by one multiplication."""

    contact = models.OneToOneField(
        Contact, primary_key=True, on_delete=models.CASCADE, related_name="engagement"
    )
    score = models.FloatField(default=0)
    scored_at = models.DateTimeField()
    last_event_at = models.DateTimeField(null=True, blank=True)
    mql_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["-score"], name="engagement_score")]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.score:.1f}"


class ScoreHistory(models.Model):
    """A contact's score at the end of each day it changed through new events."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    score = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "day"], name="score_history_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.day}: {self.score:.1f}"


class IcpCriterion(models.Model):
    """One line of the Ideal Customer Profile: a company attribute, the values that fit,
    and how much a match weighs. A company's fit is the weight it earns as a share of what
    an ideal company could earn, 0–100 (see scoring.fit)."""

    class Attribute(models.TextChoices):
        INDUSTRY = "industry", _("Industry (SBI)")
        EMPLOYEE_BAND = "employee_band", _("Employees")
        REVENUE_BAND = "revenue_band", _("Annual revenue")
        COUNTRY = "country", _("Country")
        REGION = "region", _("Region (postcode area)")
        TECHNOLOGY = "technology", _("Technology")
        CUSTOM = "custom", _("Custom field")

    attribute = models.CharField(_("attribute"), max_length=20, choices=Attribute.choices)
    # The custom field's name, for the CUSTOM attribute.
    field = models.CharField(_("custom field"), max_length=100, blank=True)
    values = models.JSONField(
        _("values that fit"), default=list, blank=True, help_text=_("Any of these matches.")
    )
    # For numeric custom fields: a range instead of values (either end may be open).
    minimum = models.FloatField(_("at least"), null=True, blank=True)
    maximum = models.FloatField(_("at most"), null=True, blank=True)
    weight = models.SmallIntegerField(
        _("weight"), help_text=_("From -10 (a poor fit) to 10 (what our best customers share).")
    )

    class Meta:
        verbose_name = _("ICP criterion")
        verbose_name_plural = _("ICP criteria")
        ordering = ["-weight", "attribute", "pk"]

    def __str__(self) -> str:
        return f"{self.get_attribute_display()} ({self.weight:+d})"


class CompanyFit(models.Model):
    """How closely a company matches the Ideal Customer Profile; its contacts share it."""

    company = models.OneToOneField(
        Company, primary_key=True, on_delete=models.CASCADE, related_name="fit"
    )
    score = models.PositiveSmallIntegerField()  # 0–100
    grade = models.CharField(max_length=1)  # A–D
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["grade", "-score"], name="company_fit_grade")]

    def __str__(self) -> str:
        return f"{self.company_id}: {self.grade} {self.score}"


class ConversionModel(models.Model):
    """A predictive model trained on the team's own won and lost history, with the
    figures its model card shows. The newest ready one scores contacts."""

    class Status(models.TextChoices):
        READY = "ready", _("Ready")
        TOO_LITTLE = "too_little", _("Too little history")

    trained_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices)
    rows = models.PositiveIntegerField(default=0)
    positives = models.PositiveIntegerField(default=0)
    # Cross-validated figures, and the model card's tables (see scoring.predict).
    card = models.JSONField(default=dict)
    # The fitted model (scoring.predict.Trained), pickled; only Koers writes it.
    fitted = models.BinaryField(null=True)

    class Meta:
        get_latest_by = "trained_at"

    def __str__(self) -> str:
        return f"{self.trained_at:%Y-%m-%d %H:%M} ({self.status})"


class ConversionScore(models.Model):
    """A contact's predicted chance to become a customer, by the model that scored it."""

    contact = models.OneToOneField(
        Contact, primary_key=True, on_delete=models.CASCADE, related_name="conversion"
    )
    probability = models.FloatField()
    grade = models.CharField(max_length=1)  # A–D, by the model's training distribution
    model = models.ForeignKey(
        ConversionModel, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    scored_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["-probability"], name="conversion_probability")]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.probability:.3f}"


class ScoringJob(models.Model):
    """A long scoring run in the background, with its progress for the page that started
    it: fitting every company to the ICP, training the model, or scoring every contact."""

    class Kind(models.TextChoices):
        FIT = "fit", _("Fit scores")
        TRAIN = "train", _("Training the predictive model")
        PREDICT = "predict", _("Predicting conversion")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.status}"

    @property
    def progress(self) -> int:
        """Percentage done, for the progress bar."""
        if self.status == self.Status.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0
