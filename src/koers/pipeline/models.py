from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from koers.crm.models import Company, Contact, TrashableModel
from koers.pipeline.templates_catalog import STAGE_NAMES

ALIVE = models.Q(deleted_at__isnull=True)


class SalesModel(models.TextChoices):
    """How a team sells (seed 003); each has a pipeline template."""

    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    RELATIONSHIP = "relationship", _("Relationship-based")
    TEAM = "team", _("Team selling")
    ACCOUNT_BASED = "account_based", _("Account-based")
    TRANSACTIONAL = "transactional", _("Transactional")


class Pipeline(models.Model):
    name = models.CharField(_("name"), max_length=100)
    sales_model = models.CharField(
        _("sales model"), max_length=20, choices=SalesModel.choices, blank=True
    )
    stall_days = models.PositiveSmallIntegerField(
        _("stalled after days without activity"),
        default=14,
        help_text=_("An open deal without activity for this many days is marked as stalled."),
    )
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_active", "name", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("pipeline:board", args=[self.pk])


class Stage(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")
        POST_SALE = "post_sale", _("After the sale")

    class Requirement(models.TextChoices):
        """What a deal must have before it may enter a stage."""

        AMOUNT = "amount", _("an amount")
        EXPECTED_CLOSE = "expected_close_on", _("an expected close date")
        CONTACTS = "contacts", _("at least one contact")
        DECISION_MAKER = "decision_maker", _("a decision maker among its contacts")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    # The template's key ("qualify"); its name follows the user's language until renamed.
    key = models.SlugField(max_length=40, blank=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OPEN)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=10, help_text=_("The chance a deal in this stage is won.")
    )
    required = models.JSONField(_("required before entering"), default=list, blank=True)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="stage_probability_max_100"
            )
        ]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name or str(STAGE_NAMES.get(self.key, self.key))

    @property
    def is_closed(self) -> bool:
        return self.kind != self.Kind.OPEN


class Deal(TrashableModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    class LostReason(models.TextChoices):
        PRICE = "price", _("Price")
        COMPETITOR = "competitor", _("Chose a competitor")
        NO_BUDGET = "no_budget", _("No budget")
        NO_DECISION = "no_decision", _("No decision, or not now")
        NO_FIT = "no_fit", _("Not a fit")
        UNREACHABLE = "unreachable", _("Could not reach them")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    contacts = models.ManyToManyField(Contact, through="DealContact", related_name="deals")
    amount_one_off = models.DecimalField(
        _("one-off amount"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    amount_recurring = models.DecimalField(
        _("recurring amount per month"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    # The one-off amount plus twelve months of the recurring one: what the deal brings in
    # its first year. Kept by the services so lists can sort and sum it.
    value = models.DecimalField(
        _("first-year value"), max_digits=16, decimal_places=2, default=Decimal("0"), editable=False
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    expected_close_on = models.DateField(_("expected close date"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"),
        null=True,
        blank=True,
        help_text=_("Empty: the probability of the deal's stage."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_deals",
        db_index=False,  # deal_owner_* lead with it
    )
    source = models.CharField(
        _("source"), max_length=20, choices=Contact.LeadSource.choices, blank=True
    )
    lost_reason = models.CharField(
        _("lost reason"), max_length=20, choices=LostReason.choices, blank=True
    )
    lost_note = models.CharField(_("what happened"), max_length=300, blank=True)
    won_at = models.DateTimeField(_("won"), null=True, blank=True)
    lost_at = models.DateTimeField(_("lost"), null=True, blank=True)
    # The first time anyone at the customer was in touch with us; lead-to-order runs from here.
    first_touch_at = models.DateTimeField(_("first touch"), null=True, blank=True)
    # Anything done on the deal; an open deal quiet for the pipeline's stall_days is stalled.
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    # A hand-off from an SDR: who qualified it, and what they learnt (budget, authority,
    # need, timing).
    handed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed off by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    qualification_budget = models.TextField(_("budget"), blank=True)
    qualification_authority = models.TextField(_("authority"), blank=True)
    qualification_need = models.TextField(_("need"), blank=True)
    qualification_timing = models.TextField(_("timing"), blank=True)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            # The board: one pipeline's open deals per stage, for everyone or one owner.
            models.Index(
                fields=["pipeline", "stage", "expected_close_on"],
                name="deal_board",
                condition=ALIVE,
            ),
            models.Index(
                fields=["owner", "pipeline", "stage", "expected_close_on"],
                name="deal_owner_board",
                condition=ALIVE,
            ),
            models.Index(fields=["owner", "status"], name="deal_owner_status"),
            models.Index(fields=["-updated_at"], name="deal_updated", condition=ALIVE),
            models.Index(fields=["status", "won_at"], name="deal_won", condition=ALIVE),
            models.Index(fields=["status", "lost_at"], name="deal_lost", condition=ALIVE),
            models.Index(fields=["name", "id"], name="deal_name", condition=ALIVE),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("pipeline:deal-detail", args=[self.pk])


class DealContact(models.Model):
    """A person at the customer involved in a deal, with their role in its buying committee."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="deal_contacts")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="deal_roles")
    dmu_role = models.CharField(
        _("DMU role"), max_length=20, choices=Contact.DMURole.choices, blank=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deal", "contact"], name="deal_contact_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({self.get_dmu_role_display() or '—'})"


class StageChange(models.Model):
    """One move of a deal: from which stage to which, by whom, when. Creation is a move from
    nowhere."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["deal", "at"], name="stage_change_deal"),
            models.Index(fields=["to_stage", "at"], name="stage_change_entered"),
        ]

    def __str__(self) -> str:
        return f"{self.deal}: {self.from_stage} → {self.to_stage}"
