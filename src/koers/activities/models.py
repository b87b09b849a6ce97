from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from koers.crm.models import Company, Contact
from koers.pipeline.models import Deal


class Activity(models.Model):
    """Something a person did or plans to do with a customer: a call, a note, a task …

    Done activities have `done_at`; planned ones (tasks, call-backs, meetings ahead) have a
    `due_at` and no `done_at` yet. The company is filled in from the contact or the deal so
    that an account's timeline is one indexed range.
    """

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", pgettext_lazy("activity kind", "Email")
        MEETING = "meeting", _("Meeting")
        VISIT = "visit", _("Visit")
        NOTE = "note", _("Note")
        TASK = "task", _("Task")
        LINKEDIN = "linkedin", _("LinkedIn message")
        WHATSAPP = "whatsapp", _("WhatsApp message")

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", pgettext_lazy("activity direction", "Outbound")
        INBOUND = "inbound", pgettext_lazy("activity direction", "Inbound")

    class Outcome(models.TextChoices):
        # Calls
        CONVERSATION = "conversation", _("Conversation")
        NO_ANSWER = "no_answer", _("No answer")
        VOICEMAIL = "voicemail", _("Voicemail")
        WRONG_PERSON = "wrong_person", _("Wrong person")
        NOT_INTERESTED = "not_interested", _("Not interested")
        CALL_BACK = "call_back", _("Call back later")
        SEND_INFORMATION = "send_information", _("Send information")
        MEETING_BOOKED = "meeting_booked", _("Meeting booked")
        OBJECTED = "objected", _("Objected to calls")
        # Meetings, the account executive's verdict
        QUALIFIED = "qualified", _("Held, qualified")
        NOT_QUALIFIED = "not_qualified", _("Held, not qualified")
        NO_SHOW = "no_show", _("No-show")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, blank=True
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    # When it happened (done) or was written down (planned).
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        db_index=False,  # activity_open_tasks leads with it
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,  # activity_contact_timeline leads with it
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,  # activity_company_timeline leads with it
    )
    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,  # activity_deal_timeline leads with it
    )
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in"
    )

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            # Each timeline reads newest first, optionally of one kind.
            models.Index(fields=["company", "-occurred_at", "-id"], name="activity_company_tl"),
            models.Index(fields=["contact", "-occurred_at", "-id"], name="activity_contact_tl"),
            models.Index(fields=["deal", "-occurred_at", "-id"], name="activity_deal_tl"),
            models.Index(
                fields=["company", "kind", "-occurred_at", "-id"], name="activity_company_kind"
            ),
            # A record's planned activities, soonest first.
            *(
                models.Index(
                    fields=[subject, "due_at", "id"],
                    name=f"activity_{subject}_planned",
                    condition=models.Q(done_at__isnull=True),
                )
                for subject in ("company", "contact", "deal")
            ),
            # My day: a user's open tasks by due date; the reminder sweep.
            models.Index(
                fields=["owner", "due_at"],
                name="activity_open_tasks",
                condition=models.Q(done_at__isnull=True),
            ),
            models.Index(
                fields=["due_at"],
                name="activity_to_remind",
                condition=models.Q(done_at__isnull=True, reminded_at__isnull=True),
            ),
            # Calls of a contact: cool-off and "called lately" rules of call lists.
            models.Index(fields=["contact", "kind", "occurred_at"], name="activity_contact_kind"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_planned(self) -> bool:
        return self.done_at is None and self.due_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.is_planned and self.due_at < timezone.now()

    @property
    def record(self):
        """The record this activity is first about: the deal, else the contact, else the company."""
        return self.deal or self.contact or self.company


class AccountTeamMember(models.Model):
    """A colleague who works on an account, in a named role."""

    class Role(models.TextChoices):
        AE = "ae", _("Account executive")
        SDR = "sdr", _("Sales development representative")
        CSM = "csm", _("Customer success manager")
        CONSULTANT = "consultant", _("Consultant")
        SOLUTION_ENGINEER = "solution_engineer", _("Solution engineer")
        EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")
        OTHER = "other", _("Other")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="account_team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("colleague"),
        on_delete=models.CASCADE,
        related_name="account_roles",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("account team member")
        verbose_name_plural = _("account team")
        ordering = ["role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "user", "role"], name="account_team_once_per_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"
