from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A personal access token: a program acts as its user, within the token's scopes.

    Only a SHA-256 hash of the secret is kept; the secret is shown once, when made.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    # The first characters of the token, to recognise it in the list.
    prefix = models.CharField(max_length=16)
    secret_hash = models.CharField(max_length=64, unique=True)
    # Such as ["contacts:read", "contacts:write"]; see koers.api.scopes.
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class IdempotentRequest(models.Model):
    """The first answer to a POST with an Idempotency-Key, returned again on a retry."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # Method, path and a hash of the body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="idempotent_request_key")
        ]

    def __str__(self) -> str:
        return self.key


class WebhookSubscription(models.Model):
    """A URL that Koers tells about events, signed with a secret its owner shares.

    It only ever receives events about records its owner may see. `is_active` is off when
    the owner paused it, or when Koers did (`paused_at`) because deliveries kept failing.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    url = models.URLField(_("URL"), max_length=500)
    # Such as ["contact.created", "deal.won"]; see koers.api.webhooks.EVENTS.
    events = models.JSONField(_("events"), default=list)
    # Kept readable: every delivery is signed with it, and the owner copies it to the receiver.
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    paused_at = models.DateTimeField(_("paused by Koers"), null=True, blank=True)
    # Failed attempts in a row, of any of its deliveries; a success starts again at 0.
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or self.url


class WebhookDelivery(models.Model):
    """One event sent to one subscription: tried until it succeeds or gives up."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        FAILED = "failed", _("retrying")
        SUCCEEDED = "succeeded", _("delivered")
        GIVEN_UP = "given_up", _("given up")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event = models.CharField(_("event"), max_length=50)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The delivery log of a subscription, newest first.
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_log"),
            # The worker's "what is due": only the few deliveries still to be tried.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=models.Q(status__in=["pending", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.FAILED)
