from django.db import models
from django.utils.translation import gettext_lazy as _

from koers.crm.models import Contact
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
