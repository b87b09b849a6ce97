"""Writes of core: users, teams, visibility rules, the audit trail, saved views."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from koers.core import events
from koers.core.models import AuditEntry, Notification, RoleVisibility, SavedView, Team, User
from koers.core.selectors import DEFAULT_SCOPES


def check_can_edit_records(user: User) -> None:
    """Refuse writes to CRM records by read-only users."""
    if not user.can_edit_records:
        raise PermissionDenied(_("Your role may read records but not change them."))


def check_is_admin(user: User) -> None:
    if not user.is_admin:
        raise PermissionDenied(_("Only administrators may do this."))


def audit_snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """Return the audited values of a record: raw values, and a related record as its id and
    name (the id tells two companies of the same name apart; the name is what people read).
    """
    values: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if field.is_relation:
            related = getattr(instance, name)
            values[name] = {"id": related.pk, "name": str(related)} if related is not None else None
        else:
            value = field.value_from_object(instance)
            values[name] = (
                value if value is None or isinstance(value, str | int | bool) else str(value)
            )
    return values


def audit_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def audit_record(
    *,
    actor: User | None,
    action: str,
    instance: models.Model,
    changes: dict[str, list[Any]] | None = None,
) -> AuditEntry:
    """Record one write to a record in the audit trail."""
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        content_type=ContentType.objects.get_for_model(instance),
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        changes=changes or {},
    )


def audit_record_many(
    *, actor: User | None, action: str, changes_by_record: list[tuple[models.Model, dict]]
) -> None:
    """Record the same kind of write to many records at once."""
    AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=actor,
            action=action,
            content_type=ContentType.objects.get_for_model(record),
            object_id=record.pk,
            object_repr=str(record)[:200],
            changes=changes,
        )
        for record, changes in changes_by_record
    )


def audit_scrub(*, model: type[models.Model], object_ids: list[int]) -> int:
    """Remove the recorded values of erased records, keeping who did what and when."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=object_ids
    ).update(changes={}, object_repr="")


USER_FIELDS = ["username", "first_name", "last_name", "email", "role", "team", "is_active"]


def _apply_role_flags(user: User) -> None:
    # The Django admin back office is for the admin role only.
    user.is_staff = user.is_superuser = user.role == User.Role.ADMIN


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    team: Team | None = None,
    language: str = "",
    validate: bool = True,
) -> User:
    """Create a user; `actor` None is the system (set-up, demo data)."""
    if actor is not None:
        check_is_admin(actor)
    user = User(
        username=username.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip().lower(),
        role=role,
        team=team,
        language=language,
    )
    _apply_role_flags(user)
    if validate:
        user.full_clean(exclude=["password"])
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
    user.set_password(password)
    user.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATED,
        instance=user,
        changes=audit_diff({}, audit_snapshot(user, USER_FIELDS)),
    )
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, **fields: Any) -> User:
    """Change a user's name, email, role, team or whether they may log in."""
    check_is_admin(actor)
    if user == actor and (
        fields.get("role", user.role) != User.Role.ADMIN or not fields.get("is_active", True)
    ):
        raise ValidationError({"role": _("You cannot take away your own administrator rights.")})
    before = audit_snapshot(user, USER_FIELDS)
    for name, value in fields.items():
        if name not in USER_FIELDS:
            raise TypeError(f"user_update() got an unexpected field {name!r}")
        setattr(user, name, value)
    user.email = user.email.strip().lower()
    _apply_role_flags(user)
    user.full_clean(exclude=["password"])
    user.save()
    changes = audit_diff(before, audit_snapshot(user, USER_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditEntry.Action.UPDATED, instance=user, changes=changes)
    _user_changed(user)
    return user


def _user_changed(user: User) -> None:
    # Whoever keeps a copy of the user (the API's token cache) drops it once this commits.
    events.emit("user.updated", record=user, payload={"id": user.pk, "type": "user"})


def user_set_language(*, user: User, language: str) -> User:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose Dutch or English.")})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
        _user_changed(user)
    return user


PROFILE_FIELDS = ["first_name", "last_name", "email", "language"]


@transaction.atomic
def user_update_profile(
    *, user: User, first_name: str, last_name: str, email: str, language: str
) -> User:
    """Change the acting user's own name, email and language."""
    before = audit_snapshot(user, PROFILE_FIELDS)
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.email = email.strip().lower()
    user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=PROFILE_FIELDS)
    changes = audit_diff(before, audit_snapshot(user, PROFILE_FIELDS))
    if changes:
        audit_record(actor=user, action=AuditEntry.Action.UPDATED, instance=user, changes=changes)
        _user_changed(user)
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str) -> User:
    """Give the acting user a new password (already validated); record that, not the value."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        actor=user,
        action=AuditEntry.Action.UPDATED,
        instance=user,
        changes={"password": ["••••••", "••••••"]},
    )
    return user


@transaction.atomic
def team_save(*, actor: User, name: str, team: Team | None = None) -> Team:
    """Create a team, or rename `team`."""
    check_is_admin(actor)
    team = team or Team()
    action = AuditEntry.Action.UPDATED if team.pk else AuditEntry.Action.CREATED
    before = audit_snapshot(team, ["name"]) if team.pk else {}
    team.name = name.strip()
    team.full_clean()
    team.save()
    audit_record(
        actor=actor,
        action=action,
        instance=team,
        changes=audit_diff(before, audit_snapshot(team, ["name"])),
    )
    return team


@transaction.atomic
def role_visibility_set(*, actor: User, scopes: dict[str, str]) -> None:
    """Set which records each role sees."""
    check_is_admin(actor)
    for role, scope in scopes.items():
        if role not in User.Role.values or scope not in RoleVisibility.Scope.values:
            raise ValidationError({role: _("Choose own, team or all records.")})
        rule = RoleVisibility.objects.filter(role=role).first()
        # Before the first rule of a role, the role follows its default.
        current = rule.scope if rule else DEFAULT_SCOPES[role]
        if rule is None:
            rule = RoleVisibility.objects.create(role=role, scope=scope)
        elif rule.scope != scope:
            rule.scope = scope
            rule.save(update_fields=["scope"])
        if current != scope:
            audit_record(
                actor=actor,
                action=AuditEntry.Action.UPDATED,
                instance=rule,
                changes={"scope": [current, scope]},
            )
            events.emit("role_visibility.updated", record=rule, payload={"role": role})


def saved_view_save(
    *, owner: User, list_name: str, name: str, query: str, is_shared: bool
) -> SavedView:
    """Save the filters of a list under a name; the same name again replaces the view."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    if not list_name or len(list_name) > 40:
        raise ValidationError({"list_name": _("This list cannot have saved views.")})
    view, _created = SavedView.objects.update_or_create(
        owner=owner,
        list_name=list_name,
        name=name[:80],
        defaults={"query": query[:1000], "is_shared": is_shared},
    )
    return view


def saved_view_delete(*, owner: User, saved_view_id: int) -> None:
    """Delete one of the user's own saved views."""
    SavedView.objects.filter(owner=owner, pk=saved_view_id).delete()


def notify(
    *, recipient: User, actor: User | None, message: Callable[[], str], url: str = ""
) -> Notification:
    """Tell one user something; `message` is called in the recipient's language."""
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        text = str(message())
    return Notification.objects.create(
        recipient=recipient, actor=actor, message=text[:300], url=url
    )


def notifications_mark_read(*, user: User, notification_id: int | None = None) -> None:
    """Mark one of the user's notifications read, or all of them."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    unread.update(read_at=timezone.now())
