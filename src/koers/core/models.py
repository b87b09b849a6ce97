from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class KoersUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # `koers manage createsuperuser` makes someone who can use the admin screens.
        extra_fields.setdefault("role", User.Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        MANAGER = "manager", _("Manager")
        MARKETING = "marketing", _("Marketing")
        SALES = "sales", _("Sales")
        SUCCESS = "success", _("Customer success")
        READ_ONLY = "read_only", _("Read-only")

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALES)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty: the language of this Koers installation."),
    )

    objects = KoersUserManager()

    class Meta:
        ordering = ["first_name", "last_name", "username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def can_edit_records(self) -> bool:
        return self.role != self.Role.READ_ONLY

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def can_manage_settings(self) -> bool:
        """Managers and admins set up what the whole team works with (pipelines, rules)."""
        return self.role in (self.Role.ADMIN, self.Role.MANAGER)


class RoleVisibility(models.Model):
    """Which records the users of a role see: their own, their team's, or all."""

    class Scope(models.TextChoices):
        OWN = "own", _("Own records")
        TEAM = "team", _("Team records")
        ALL = "all", _("All records")

    role = models.CharField(_("role"), max_length=20, choices=User.Role.choices, unique=True)
    scope = models.CharField(_("visibility"), max_length=10, choices=Scope.choices)

    class Meta:
        ordering = ["role"]
        verbose_name = _("role visibility")
        verbose_name_plural = _("role visibility")

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.get_scope_display()}"


class AuditEntry(models.Model):
    """One write to a record: who did what, when, and which fields changed."""

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("changed")
        DELETED = "deleted", _("deleted")
        RESTORED = "restored", _("restored")

    at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    object_repr = models.CharField(max_length=200)
    # {field name: [old value, new value]} as shown to people, not raw database values.
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="audit_record_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
        ]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")

    def __str__(self) -> str:
        return f"{self.object_repr} {self.get_action_display()}"


class SavedView(models.Model):
    """A named filter, search and sort of a list, kept for one user or shared."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    # Which list the view belongs to, named by the app that shows it ("crm.contacts").
    list_name = models.CharField(max_length=40)
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(max_length=1000)
    is_shared = models.BooleanField(_("share with everyone"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "list_name", "name"], name="saved_view_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """Something a colleague or Koers wants one user to see: a hand-off, a mention."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Written in the recipient's language when it is sent.
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox")
        ]

    def __str__(self) -> str:
        return self.message
