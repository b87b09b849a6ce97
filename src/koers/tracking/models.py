import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from koers.crm.models import Contact


def new_key() -> str:
    return secrets.token_urlsafe(12)


class Site(models.Model):
    """A website of the team that carries the tracking script."""

    class ConsentMode(models.TextChoices):
        REQUIRED = "required", _("Send nothing until the visitor consents")
        ANONYMOUS = "anonymous", _("Count anonymous page views until the visitor consents")

    name = models.CharField(_("name"), max_length=150)
    key = models.CharField(max_length=20, unique=True, default=new_key, editable=False)
    allowed_domains = models.TextField(
        _("allowed domains"),
        help_text=_(
            "One per line, such as example.nl. Subdomains are allowed too. "
            "Events from pages elsewhere are refused."
        ),
    )
    consent_mode = models.CharField(
        _("before consent"),
        max_length=10,
        choices=ConsentMode.choices,
        default=ConsentMode.REQUIRED,
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("website")
        verbose_name_plural = _("websites")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tracking:site-detail", args=[self.pk])

    @property
    def domains(self) -> list[str]:
        return [line.strip().lower() for line in self.allowed_domains.split() if line.strip()]


class Campaign(models.Model):
    """A marketing effort with a spend; UTM values on visits tie touchpoints to it."""

    class Channel(models.TextChoices):
        SEARCH_ADS = "search_ads", _("Search ads")
        SOCIAL = "social", _("Social media")
        EMAIL = "email", _("Email marketing")
        EVENT = "event", _("Event or fair")
        WEBINAR = "webinar", _("Webinar")
        CONTENT = "content", _("Content")
        REFERRAL = "referral", _("Referral")
        CALL = "call", _("Call campaign")
        PARTNER = "partner", _("Partner")

    name = models.CharField(_("name"), max_length=150)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    spend = models.DecimalField(_("spend (EUR)"), max_digits=12, decimal_places=2, default=0)
    utm_campaign = models.CharField(
        _("UTM campaign"),
        max_length=100,
        blank=True,
        help_text=_("Visits whose utm_campaign equals this value count for the campaign."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["utm_campaign"],
                condition=~models.Q(utm_campaign=""),
                name="campaign_utm_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tracking:campaign-detail", args=[self.pk])


class Visitor(models.Model):
    """A browser that consented on one site, known by the id the script keeps there."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="visitors")
    uid = models.CharField(max_length=32)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="visitors"
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    identified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "uid"], name="visitor_site_uid_unique")
        ]
        indexes = [models.Index(fields=["contact"], name="visitor_contact")]

    def __str__(self) -> str:
        return self.uid


class Event(models.Model):
    """Something a person did that tells about their interest. Append-only and large."""

    class Kind(models.TextChoices):
        PAGE_VIEW = "page_view", _("Page view")
        FORM_SUBMIT = "form_submit", _("Form submitted")
        DOWNLOAD = "download", _("Download")
        EMAIL_OPEN = "email_open", _("Email opened")
        EMAIL_CLICK = "email_click", _("Email link clicked")
        QUOTE_VIEW = "quote_view", _("Quote viewed")
        STAGE_REACHED = "stage_reached", _("Deal stage reached")

    kind = models.CharField(max_length=14, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # No index of their own on visitor, contact and campaign: the composite indexes
    # below start with them, and each index is one more write per stored event.
    visitor = models.ForeignKey(
        Visitor,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
    )
    url = models.CharField(max_length=2000, blank=True)
    title = models.CharField(max_length=300, blank=True)
    referrer = models.CharField(max_length=2000, blank=True)
    # The script's id of one page view; its engaged time arrives later under the same id.
    page_id = models.CharField(max_length=22, blank=True)
    engaged_seconds = models.PositiveIntegerField(null=True, blank=True)
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        db_index=False,
    )
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            # A person's history, newest first; a visitor's page views; time ranges.
            models.Index(fields=["contact", "occurred_at"], name="event_contact_time"),
            models.Index(fields=["visitor", "occurred_at"], name="event_visitor_time"),
            models.Index(fields=["occurred_at"], name="event_time"),
            models.Index(
                fields=["campaign", "occurred_at"],
                name="event_campaign_time",
                condition=models.Q(campaign__isnull=False),
            ),
            # An anonymous page view that consent, given on that page, makes a visitor's.
            models.Index(
                fields=["site", "page_id"],
                name="event_anonymous_page",
                condition=models.Q(visitor__isnull=True) & ~models.Q(page_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"


class LeadForm(models.Model):
    """A form on the team's website that turns a visitor into a contact."""

    site = models.ForeignKey(
        Site, verbose_name=_("website"), on_delete=models.CASCADE, related_name="forms"
    )
    key = models.CharField(max_length=20, unique=True, default=new_key, editable=False)
    name = models.CharField(_("name"), max_length=150)
    ask_phone = models.BooleanField(_("ask for a phone number"), default=True)
    ask_company = models.BooleanField(_("ask for the company"), default=True)
    ask_message = models.BooleanField(_("ask for a message"), default=True)
    thanks = models.CharField(_("thank-you text"), max_length=300, default="", blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner of new contacts"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="forms",
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("lead form")
        verbose_name_plural = _("lead forms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Inbox(models.Model):
    """Accepted events waiting to be stored, when there is no Redis to queue them in."""

    payload = models.TextField()

    def __str__(self) -> str:
        return f"inbox {self.pk}"
