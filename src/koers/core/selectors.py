"""Reads of core: who sees which records, the audit trail, saved views."""

from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone

from koers.core.models import AuditEntry, Notification, RoleVisibility, SavedView, Team, User

# Until an admin sets a rule: sales, success and read-only users see their team's records;
# managers, marketing (who work across the whole database) and admins see all.
DEFAULT_SCOPES = {
    User.Role.ADMIN: RoleVisibility.Scope.ALL,
    User.Role.MANAGER: RoleVisibility.Scope.ALL,
    User.Role.MARKETING: RoleVisibility.Scope.ALL,
    User.Role.SALES: RoleVisibility.Scope.TEAM,
    User.Role.SUCCESS: RoleVisibility.Scope.TEAM,
    User.Role.READ_ONLY: RoleVisibility.Scope.TEAM,
}


def visibility_scope(*, user: User) -> str:
    """Return the visibility scope of the user's role: the admin's rule, else the default."""
    if not hasattr(user, "_visibility_scope"):
        user._visibility_scope = RoleVisibility.objects.filter(role=user.role).values_list(
            "scope", flat=True
        ).first() or DEFAULT_SCOPES.get(user.role, RoleVisibility.Scope.OWN)
    return user._visibility_scope


def visible_q(*, user: User, owner_field: str = "owner") -> Q:
    """Return the filter for the records the user may see, by the owner of each record.

    A record without an owner is visible only to roles that see all records.
    """
    scope = visibility_scope(user=user)
    if scope == RoleVisibility.Scope.ALL:
        return Q()
    if scope == RoleVisibility.Scope.TEAM and user.team_id:
        teammates = User.objects.filter(team_id=user.team_id).values("id")
        return Q(**{f"{owner_field}__among": teammates})
    return Q(**{owner_field: user.pk})


def login_failures_from(*, ip_address: str | None) -> int:
    """Failed logins from one address, for all usernames together, within the lock-out time."""
    if not ip_address:
        return 0
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    attempts = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since)
    return attempts.aggregate(failures=Sum("failures_since_start"))["failures"] or 0


def user_list_active() -> models.QuerySet[User]:
    return User.objects.filter(is_active=True).select_related("team")


def user_list() -> models.QuerySet[User]:
    return User.objects.select_related("team").order_by("-is_active", "first_name", "last_name")


def team_list() -> models.QuerySet[Team]:
    return Team.objects.annotate(member_count=models.Count("members"))


def role_visibility_list() -> list[tuple[str, str, str]]:
    """Return (role, role label, scope) for every role, in the order of User.Role."""
    scopes = dict(RoleVisibility.objects.values_list("role", "scope"))
    return [
        (role, label, scopes.get(role, DEFAULT_SCOPES[role])) for role, label in User.Role.choices
    ]


@dataclass(frozen=True)
class AuditChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str
    action: str
    action_label: str
    changes: list[AuditChange]


def _display(field: models.Field | None, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):  # a related record: {"id": …, "name": …}
        return str(value.get("name", ""))
    if field is not None and field.flatchoices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


# Labels of audit keys that are not a field of the record, such as "merged_with"; apps
# higher up add theirs (see koers.dataio.apps).
AUDIT_LABELS: dict[str, str] = {}


def audit_trail_for(*, instance: models.Model, limit: int = 100) -> list[AuditRow]:
    """Return the latest audit entries of one record with readable field names and values."""
    entries = (
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(instance), object_id=instance.pk
        )
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )
    fields = {field.name: field for field in instance._meta.get_fields() if field.concrete}
    fields |= {field.attname: field for field in fields.values()}  # "owner_id" from bulk writes
    rows = []
    for entry in entries:
        changes = []
        for name, (old, new) in entry.changes.items():
            field = fields.get(name)
            label = (
                str(field.verbose_name) if field is not None else str(AUDIT_LABELS.get(name, name))
            )
            changes.append(AuditChange(label, _display(field, old), _display(field, new)))
        rows.append(
            AuditRow(
                at=entry.at,
                actor=str(entry.actor) if entry.actor else "",
                action=entry.action,
                action_label=entry.get_action_display(),
                changes=changes,
            )
        )
    return rows


def saved_view_list_for_user(*, user: User, list_name: str) -> models.QuerySet[SavedView]:
    """Return the user's own saved views of a list and those others shared."""
    return (
        SavedView.objects.filter(list_name=list_name)
        .filter(Q(owner=user) | Q(is_shared=True))
        .select_related("owner")
        .order_by("name", "id")
    )


def notification_list_for_user(*, user: User) -> models.QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("actor")


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
