"""Merge two companies or two contacts that are one, and undo a merge.

What points at a record is found through the model's relations, so the deals,
activities, call list entries, account team members … of later apps move along without
dataio knowing them. A row that cannot move because the survivor already has its twin
(the same person twice on one call list, twice in one deal) stays with the merged
record in the trash, where it was; undoing the merge needs nothing back for it.
"""

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from koers.core.models import AuditEntry, User
from koers.core.services import audit_diff, audit_record, check_can_edit_records
from koers.crm import normalise
from koers.crm.models import Company, Contact, TrashableModel
from koers.crm.selectors import company_visible_to, contact_visible_to
from koers.crm.services import (
    COMPANY_FIELDS,
    CONTACT_FIELDS,
    company_update,
    contact_update,
    record_delete,
    record_restore,
    record_snapshot,
)
from koers.dataio.models import Merge
from koers.dataio.selectors import related_foreign_keys

MOVE_BATCH = 5_000


class _Kind:
    """What differs between merging companies and merging contacts."""

    def __init__(
        self,
        model: type[TrashableModel],
        fields: list[str],
        derived: list[str],
        visible: Callable[..., QuerySet],
        update: Callable[..., Any],
        argument: str,
    ):
        self.model, self.fields, self.derived = model, fields, derived
        self.visible, self.update, self.argument = visible, update, argument


KINDS = {
    # Derived fields are kept with the survivor's values before the merge: the name key
    # and city key follow the name and the city; an objection date is carried over.
    Merge.Kind.COMPANY: _Kind(
        Company,
        COMPANY_FIELDS,
        ["name_key", "city_key"],
        company_visible_to,
        company_update,
        "company",
    ),
    Merge.Kind.CONTACT: _Kind(
        Contact, CONTACT_FIELDS, ["objected_at"], contact_visible_to, contact_update, "contact"
    ),
}


def _technologies_of_both(survivor: list[str], merged: list[str]) -> list[str]:
    known = {name.casefold() for name in survivor}
    return [*survivor, *(name for name in merged if name.casefold() not in known)]


# Fields whose values from both records are kept, rather than one picked, with the most
# one record may hold.
COMBINED: dict[str, tuple[Callable[[Any, Any], Any], int]] = {
    "technologies": (_technologies_of_both, normalise.MAX_TECHNOLOGIES),
    "custom_fields": (lambda survivor, merged: {**merged, **survivor}, normalise.MAX_CUSTOM_FIELDS),
}


def fits_combined(name: str, first: Any, second: Any) -> bool:
    """Whether one record can keep the values of a combined field from both, whichever
    survives: when together they hold more than one record may, a person picks one
    record's instead."""
    combine, limit = COMBINED[name]
    return max(len(combine(first, second)), len(combine(second, first))) <= limit


def _stored(instance: models.Model, name: str) -> Any:
    """A field's value as the database keeps it, in a form JSON holds (a related record
    as its id, a date as ISO text)."""
    value = getattr(instance, instance._meta.get_field(name).attname)
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def _restore(instance: models.Model, name: str, value: Any) -> None:
    field = instance._meta.get_field(name)
    setattr(instance, field.attname, None if value is None else field.to_python(value))


def _unique_with(model: type[models.Model], key: models.Field) -> list[tuple[list[str], Q | None]]:
    """The other fields of each uniqueness rule that includes `key`, with its condition."""
    names = {key.name, key.attname}
    rules: list[tuple[list[str], Q | None]] = [([], None)] if key.unique else []
    for together in model._meta.unique_together:
        if names & set(together):
            rules.append(([name for name in together if name not in names], None))
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and names & set(constraint.fields):
            others = [name for name in constraint.fields if name not in names]
            rules.append((others, constraint.condition))
    return rules


def _rows_to_move(
    related: type[models.Model], key: models.Field, *, from_id: int, to_id: int
) -> list[int]:
    """The ids of the rows pointing at `from_id` that may point at `to_id` instead."""
    rows = related._base_manager.filter(**{key.attname: from_id})
    if issubclass(related, key.related_model):
        rows = rows.exclude(pk=to_id)  # a company whose parent was the merged one
    for others, condition in _unique_with(related, key):
        twin = related._base_manager.filter(
            **{key.attname: to_id}, **{name: OuterRef(name) for name in others}
        )
        if condition is None:
            rows = rows.exclude(Exists(twin))
        else:
            rows = rows.exclude(condition & Exists(twin.filter(condition)))
    return list(rows.order_by("pk").values_list("pk", flat=True))


def _repoint(
    related: type[models.Model], key: models.Field, ids: list[int], *, to_id: int, **where
) -> None:
    for start in range(0, len(ids), MOVE_BATCH):
        related._base_manager.filter(pk__in=ids[start : start + MOVE_BATCH], **where).update(
            **{key.attname: to_id}
        )


def _move_related(model: type[models.Model], *, from_id: int, to_id: int) -> dict[str, list[int]]:
    moved = {}
    for related, key in related_foreign_keys(model):
        ids = _rows_to_move(related, key, from_id=from_id, to_id=to_id)
        if ids:
            _repoint(related, key, ids, to_id=to_id)
            moved[f"{related._meta.label_lower}.{key.name}"] = ids
    return moved


def _link(record: models.Model) -> dict[str, Any]:
    return {"id": record.pk, "name": str(record)}


@transaction.atomic
def _merge(
    *, actor: User, kind: str, survivor: TrashableModel, merged: TrashableModel, values: dict
) -> Merge:
    check_can_edit_records(actor)
    spec = KINDS[kind]
    if survivor.pk == merged.pk:
        raise ValidationError(_("Choose two different records to merge."))
    # Locked, so that two people merging the same records cannot both succeed.
    found = list(
        spec.visible(user=actor)
        .select_for_update()
        .filter(pk__in=[survivor.pk, merged.pk])
        .values_list("pk", flat=True)
    )
    if len(found) != 2:
        raise PermissionDenied(
            _("You can only merge records you can see that are not in the trash.")
        )
    survivor.refresh_from_db()
    merged.refresh_from_db()
    values = dict(values)
    if kind == Merge.Kind.COMPANY:
        parent = values.get("parent", survivor.parent)
        if parent is not None and parent.pk in (survivor.pk, merged.pk):
            values["parent"] = None  # it would become its own parent
    elif merged.do_not_call:
        values["do_not_call"] = True  # an objection outlives the merge
    # What either record knew stays known: the survivor's technologies and custom fields,
    # with those only the merged record has added (unless the values say otherwise).
    for name, (combine, limit) in COMBINED.items():
        if name in spec.fields and name not in values:
            combined = combine(getattr(survivor, name), getattr(merged, name))
            if len(combined) > limit:
                raise ValidationError(
                    {
                        name: _(
                            "Together the two records have %(given)d %(field)s, more than "
                            "the %(count)d one record may have: choose one record's."
                        )
                        % {
                            "given": len(combined),
                            "field": spec.model._meta.get_field(name).verbose_name,
                            "count": limit,
                        }
                    }
                )
            if combined != getattr(survivor, name):
                values[name] = combined

    before = {name: _stored(survivor, name) for name in [*spec.fields, *spec.derived]}
    survivor = spec.update(actor=actor, **{spec.argument: survivor}, **values)
    if kind == Merge.Kind.CONTACT and merged.objected_at and not survivor.objected_at:
        survivor.objected_at = merged.objected_at
        survivor.save(update_fields=["objected_at", "updated_at"])
    changed = {name: value for name, value in before.items() if _stored(survivor, name) != value}
    moved = _move_related(spec.model, from_id=merged.pk, to_id=survivor.pk)
    record_delete(actor=actor, record=merged)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATED,
        instance=survivor,
        changes={"merged_with": [None, _link(merged)]},
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATED,
        instance=merged,
        changes={"merged_into": [None, _link(survivor)]},
    )
    return Merge.objects.create(
        kind=kind,
        survivor_id=survivor.pk,
        merged_id=merged.pk,
        actor=actor,
        survivor_before=changed,
        moved=moved,
    )


def contact_merge(
    *, actor: User, survivor: Contact, merged: Contact, values: dict[str, Any]
) -> Merge:
    """Make two contacts one: give the survivor the chosen values ({field: value}, as for
    contact_update), move everything that points at the merged contact to it, and put
    the merged contact in the trash. Both must be visible to the actor and alive.

    A "do not call" of either stays on the survivor.
    """
    return _merge(
        actor=actor, kind=Merge.Kind.CONTACT, survivor=survivor, merged=merged, values=values
    )


def company_merge(
    *, actor: User, survivor: Company, merged: Company, values: dict[str, Any]
) -> Merge:
    """Make two companies one: give the survivor the chosen values ({field: value}, as for
    company_update), move the merged company's contacts, deals, activities, subsidiaries …
    to it, and put the merged company in the trash. Both must be visible to the actor
    and alive."""
    return _merge(
        actor=actor, kind=Merge.Kind.COMPANY, survivor=survivor, merged=merged, values=values
    )


def check_can_undo(*, actor: User, merge: Merge) -> tuple[TrashableModel, TrashableModel]:
    """Return (survivor, merged) when the actor may undo the merge now; raise otherwise."""
    check_can_edit_records(actor)
    if merge.undone_at is not None:
        raise ValidationError(_("This merge has already been undone."))
    spec = KINDS[merge.kind]
    records = spec.model._base_manager.in_bulk([merge.survivor_id, merge.merged_id])
    if len(records) != 2:
        raise ValidationError(
            _("This merge can no longer be undone: a record in it has been erased for good.")
        )
    survivor, merged = records[merge.survivor_id], records[merge.merged_id]
    visible = spec.visible(user=actor).filter(pk=survivor.pk).exists() or (
        spec.visible(user=actor, trash=True).filter(pk=survivor.pk).exists()
    )
    if not visible:
        raise PermissionDenied(_("You can only undo merges of records you can see."))
    # A later merge that took one of these records away must be undone first.
    later = Merge.objects.filter(
        Q(merged_id__in=[survivor.pk, merged.pk]) | Q(survivor_id=merged.pk),
        kind=merge.kind,
        undone_at__isnull=True,
        pk__gt=merge.pk,
    )
    if later.exists():
        raise ValidationError(
            _("%(record)s was merged again later; undo that merge first.") % {"record": survivor}
        )
    return survivor, merged


@transaction.atomic
def merge_undo(*, actor: User, merge: Merge) -> Merge:
    """Make the two records of a merge two again: move back what moved, give the survivor
    the values it had before, and take the merged record out of the trash.

    Changes made to the survivor's merged fields since the merge are replaced by the
    values from before it. A merge is undone once.
    """
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    survivor, merged = check_can_undo(actor=actor, merge=merge)
    spec = KINDS[merge.kind]
    for label, ids in merge.moved.items():
        app_label, model_name, field_name = label.split(".")
        try:
            related = apps.get_model(app_label, model_name)
        except LookupError:
            continue  # an app that is gone took its rows with it
        key = related._meta.get_field(field_name)
        # Only rows that still point at the survivor: one moved on since stays where it is.
        _repoint(related, key, ids, to_id=merged.pk, **{key.attname: survivor.pk})

    before = record_snapshot(survivor, spec.fields)
    for name, value in merge.survivor_before.items():
        _restore(survivor, name, value)
    changes = audit_diff(before, record_snapshot(survivor, spec.fields))
    if merge.survivor_before:
        survivor.save(update_fields=[*merge.survivor_before, "updated_at"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATED,
        instance=survivor,
        changes={**changes, "merged_with": [_link(merged), None]},
    )
    record_restore(actor=actor, record=merged)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATED,
        instance=merged,
        changes={"merged_into": [_link(survivor), None]},
    )
    merge.undone_at = timezone.now()
    merge.save(update_fields=["undone_at"])
    return merge
