from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from koers.activities.models import Activity
from koers.crm.models import Contact


class CallCampaign(models.Model):
    """A calling effort with a goal: agents work through a call list built from a filter."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        FINISHED = "finished", _("Finished")

    name = models.CharField(_("name"), max_length=150)
    goal = models.TextField(_("goal"), help_text=_("What should these calls achieve?"))
    script = models.TextField(
        _("script"),
        blank=True,
        help_text=_("What the agent says. Koers puts the right to object before it."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("agents"), related_name="call_campaigns"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="owned_call_campaigns",
    )
    # The contact list's filters the call list is built from: lifecycle_stage, city, …
    contact_filter = models.JSONField(_("who to call"), default=dict, blank=True)
    cool_off_days = models.PositiveIntegerField(
        _("cool-off after “not interested” (days)"),
        default=365,
        help_text=_("People who said they were not interested are left alone this long."),
    )
    recent_call_days = models.PositiveIntegerField(
        _("skip people called in the last (days)"),
        default=30,
        help_text=_("By anyone, in any campaign or outside one."),
    )
    max_attempts = models.PositiveSmallIntegerField(
        _("attempts per person"),
        default=5,
        help_text=_("After this many calls without an answer, the person leaves the list."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("call campaign")
        verbose_name_plural = _("call campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("outreach:campaign-detail", args=[self.pk])


class CallListEntry(models.Model):
    """One person on a campaign's call list."""

    class State(models.TextChoices):
        OPEN = "open", _("To call")
        DONE = "done", _("Done")

    campaign = models.ForeignKey(CallCampaign, on_delete=models.CASCADE, related_name="entries")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="call_entries")
    state = models.CharField(max_length=5, choices=State.choices, default=State.OPEN)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # While an agent has the person on screen, nobody else gets them.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="call_entry_once")
        ]
        indexes = [
            models.Index(fields=["campaign", "state"], name="call_entry_campaign"),
            models.Index(fields=["contact", "state"], name="call_entry_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.contact}"


class CampaignCall(models.Model):
    """One call attempt in a campaign and what came of it."""

    campaign = models.ForeignKey(CallCampaign, on_delete=models.CASCADE, related_name="calls")
    entry = models.ForeignKey(CallListEntry, on_delete=models.CASCADE, related_name="calls")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=Activity.Outcome.choices)
    at = models.DateTimeField(default=timezone.now)
    activity = models.OneToOneField(Activity, on_delete=models.CASCADE, related_name="+")
    # The appointment booked for an account executive; its outcome is their verdict.
    meeting = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["campaign", "at"], name="campaign_call_at")]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.get_outcome_display()}"
