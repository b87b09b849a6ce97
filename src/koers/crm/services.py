"""Writes of companies and contacts: validated, normalised, audited, in one transaction."""

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from koers.core import events
from koers.core.models import AuditEntry, User
from koers.core.services import (
    audit_diff,
    audit_record,
    audit_record_many,
    audit_scrub,
    audit_snapshot,
    check_can_edit_records,
)
from koers.crm import normalise
from koers.crm.models import Company, Contact, Suppression, TrashableModel, fold_city
from koers.crm.selectors import company_visible_to

COMPANY_FIELDS = [
    "name",
    "external_id",
    "legal_form",
    "domain",
    "kvk_number",
    "establishment_number",
    "vat_number",
    "industry",
    "employee_band",
    "revenue_band",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
    "parent",
    "lifecycle_stage",
    "owner",
    "description",
    "customer_until",
    "technologies",
    "custom_fields",
]
CONTACT_FIELDS = [
    "first_name",
    "external_id",
    "name_prefix",
    "last_name",
    "email",
    "phone",
    "mobile",
    "job_title",
    "function",
    "dmu_role",
    "linkedin_url",
    "company",
    "lifecycle_stage",
    "lead_source",
    "owner",
    "do_not_call",
    "phone_opt_in_on",
    "customer_until",
    "call_back_on",
    "custom_fields",
]
# Kept as JSON: a list of names, a dict of name → text or number.
LIST_FIELDS = frozenset({"technologies", "custom_fields"})
# What an event (a webhook) tells about a record.
EVENT_FIELDS = {
    "company": [*COMPANY_FIELDS, "created_at", "updated_at"],
    "contact": [*CONTACT_FIELDS, "created_at", "updated_at"],
}


def record_value_text(value: Any) -> str:
    """A list or dict field as people read it, in the audit trail and on the merge page:
    "Exact Online, Salesforce"; "age: 56; job: housemaid" (names in order, so that the same
    fields read the same whichever order the database keeps them in)."""
    if isinstance(value, dict):
        return "; ".join(
            f"{name}: {value[name]}" for name in sorted(value, key=lambda name: name.casefold())
        )
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def record_snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """audit_snapshot, with the list fields as readable text rather than Python's repr."""
    values = audit_snapshot(instance, fields)
    for name in LIST_FIELDS & set(values):
        values[name] = record_value_text(getattr(instance, name))
    return values


def _emit(action: str, record: models.Model, **extra: Any) -> None:
    kind = record._meta.model_name
    events.emit(
        f"{kind}.{action}",
        record=record,
        payload=events.record_payload(record, EVENT_FIELDS[kind], **extra),
    )


def _normalise(
    values: dict[str, Any], normalisers: dict[str, Callable[[Any], Any]]
) -> dict[str, Any]:
    """Normalise the given fields; raise one ValidationError naming every field in error."""
    errors: dict[str, ValidationError] = {}
    for name, normaliser in normalisers.items():
        if name in values:
            try:
                values[name] = normaliser(values[name] or "")
            except ValidationError as error:
                errors[name] = error
    for name, value in values.items():
        if isinstance(value, str) and name not in normalisers:
            values[name] = value.strip()
    if errors:
        raise ValidationError(errors)
    return values


def _check_fields(given: dict[str, Any], allowed: list[str]) -> None:
    unknown = set(given) - set(allowed)
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")


def _check_owner(owner: User | None) -> None:
    if owner is not None and not owner.is_active:
        raise ValidationError({"owner": _("Choose an owner who can still log in.")})


def _company_normalisers(country: str) -> dict[str, Callable[[Any], Any]]:
    region = normalise.phone_region(country)
    return {
        "domain": normalise.normalise_domain,
        "kvk_number": normalise.normalise_kvk_number,
        "establishment_number": normalise.normalise_establishment_number,
        "vat_number": lambda value: normalise.normalise_vat_number(value, country=country),
        "phone": lambda value: normalise.normalise_phone(value, region=region),
        "postcode": lambda value: normalise.normalise_postcode(value, country=country),
        **LIST_NORMALISERS,
    }


# `_normalise` hands an empty value over as "": none, as much as an empty list.
LIST_NORMALISERS: dict[str, Callable[[Any], Any]] = {
    "technologies": lambda value: normalise.normalise_technologies(value or None),
    "custom_fields": lambda value: normalise.normalise_custom_fields(value or None),
}


def _changed_to(values: dict[str, Any], instance: models.Model, field: str) -> Any:
    """The related record `values` sets `field` to, or None when it sets none or the same."""
    related = values.get(field)
    if related is None or related.pk == getattr(instance, f"{field}_id"):
        return None
    return related


def _check_visible(actor: User, company: Company | None, field: str) -> None:
    if company is not None and not company_visible_to(user=actor).filter(pk=company.pk).exists():
        raise ValidationError({field: _("Choose a company you can see.")})


def _check_no_parent_cycle(company: Company, parent: Company) -> None:
    """Refuse a parent that is the company itself or one of its subsidiaries, however deep."""
    ancestor_id, depth = parent.pk, 0
    while ancestor_id is not None and depth < 100:
        if ancestor_id == company.pk:
            raise ValidationError(
                {"parent": _("A company cannot be its own parent, directly or through others.")}
            )
        ancestor_id = (
            Company.objects.filter(pk=ancestor_id).values_list("parent_id", flat=True).first()
        )
        depth += 1


def _company_validate(*, actor: User, company: Company, values: dict[str, Any]) -> None:
    country = str(values.get("country", company.country) or "")
    _normalise(values, _company_normalisers(country))
    if "city" in values:
        values["city_key"] = fold_city(values["city"])
    if "name" in values:
        values["name_key"] = normalise.company_name_key(values["name"])
    _check_owner(values.get("owner"))
    # A parent it already has may stay, even one the actor cannot see; a new one must be visible.
    parent = _changed_to(values, company, "parent")
    if parent is not None:
        if company.pk:
            _check_no_parent_cycle(company, parent)
        _check_visible(actor, parent, "parent")


@transaction.atomic
def company_create(*, actor: User, **fields: Any) -> Company:
    """Create a company from the given fields, normalised and validated; the actor owns it
    unless `owner` says otherwise."""
    check_can_edit_records(actor)
    _check_fields(fields, COMPANY_FIELDS)
    fields.setdefault("owner", actor)  # unless told otherwise: a record nobody owns is hidden
    company = Company()
    _set_and_check(
        company,
        fields,
        lambda: _company_validate(actor=actor, company=company, values=fields),
        exclude=["parent", "owner"],
    )
    company.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATED,
        instance=company,
        changes=audit_diff({}, _non_empty(record_snapshot(company, COMPANY_FIELDS))),
    )
    _emit("created", company)
    return company


@transaction.atomic
def company_update(*, actor: User, company: Company, **fields: Any) -> Company:
    """Change the given fields of a company; record what changed."""
    check_can_edit_records(actor)
    _check_fields(fields, COMPANY_FIELDS)
    return _apply_update(
        actor=actor,
        instance=company,
        fields=fields,
        audited=COMPANY_FIELDS,
        validate=lambda: _company_validate(actor=actor, company=company, values=fields),
    )


@transaction.atomic
def contact_create(*, actor: User, **fields: Any) -> Contact:
    """Create a contact from the given fields, normalised and validated."""
    check_can_edit_records(actor)
    _check_fields(fields, CONTACT_FIELDS)
    fields.setdefault("owner", actor)
    contact = Contact()
    _set_and_check(
        contact,
        fields,
        lambda: _contact_validate(actor=actor, contact=contact, values=fields),
        exclude=["company", "owner"],
    )
    # Someone who objected (or was erased) before is never made callable by a new record.
    if Suppression.objects.filter(key_hash__in=contact_suppression_keys(contact)).exists():
        contact.do_not_call = True
    contact.save()
    if contact.do_not_call:
        suppression_add(contact=contact, reason=Suppression.Reason.OBJECTED)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATED,
        instance=contact,
        changes=audit_diff({}, _non_empty(record_snapshot(contact, CONTACT_FIELDS))),
    )
    _emit("created", contact)
    return contact


@transaction.atomic
def contact_update(*, actor: User, contact: Contact, **fields: Any) -> Contact:
    """Change the given fields of a contact; record what changed."""
    check_can_edit_records(actor)
    _check_fields(fields, CONTACT_FIELDS)
    contact = _apply_update(
        actor=actor,
        instance=contact,
        fields=fields,
        audited=CONTACT_FIELDS,
        validate=lambda: _contact_validate(actor=actor, contact=contact, values=fields),
    )
    if contact.do_not_call:
        suppression_add(contact=contact, reason=Suppression.Reason.OBJECTED)
    return contact


def contact_suppression_keys(contact: Contact) -> list[str]:
    """The hashes under which a contact's email address and phone numbers are suppressed."""
    return normalise.suppression_keys(
        {"email": contact.email, "phone": contact.phone, "mobile": contact.mobile}
    )


def suppression_add(*, contact: Contact, reason: str) -> None:
    """Keep a contact who objected or is erased on the suppression list, as hashes only."""
    suppression_add_keys(keys=contact_suppression_keys(contact), reason=reason)


def suppression_add_keys(*, keys: list[str], reason: str) -> None:
    """Put these hashes on the suppression list.

    Erasure outranks an objection: an erased person is never imported again at all.
    """
    Suppression.objects.bulk_create(
        [Suppression(key_hash=key, reason=reason) for key in keys], ignore_conflicts=True
    )
    if reason == Suppression.Reason.ERASED:
        Suppression.objects.filter(key_hash__in=keys).update(reason=reason)


def _contact_validate(*, actor: User, contact: Contact, values: dict[str, Any]) -> None:
    company = values.get("company", contact.company if contact.company_id else None)
    region = normalise.phone_region(str(company.country) if company else "")
    phone = functools.partial(normalise.normalise_phone, region=region)
    _normalise(
        values,
        {
            "email": normalise.normalise_email,
            "phone": phone,
            "mobile": phone,
            "custom_fields": LIST_NORMALISERS["custom_fields"],
        },
    )
    _check_owner(values.get("owner"))
    # The company a contact already has may stay; a new one must be one the actor can see.
    _check_visible(actor, _changed_to(values, contact, "company"), "company")


def _non_empty(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in snapshot.items() if value not in (None, "")}


def _set_and_check(
    instance: models.Model, values: dict[str, Any], validate: Callable[[], None], exclude: list
) -> None:
    """Normalise `values` (validate), set them and check the record, naming every field in
    error at once: a form or an API call learns all of its mistakes in one answer."""
    errors: dict = {}
    try:
        validate()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    for name, value in values.items():
        setattr(instance, name, value)
    try:
        instance.full_clean(exclude=[*exclude, *errors])
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _apply_update(
    *,
    actor: User,
    instance: models.Model,
    fields: dict[str, Any],
    audited: list[str],
    validate: Callable[[], None],
) -> models.Model:
    before = record_snapshot(instance, audited)
    # Compared as values too: {"size": 5} and {"size": "5"} read alike but differ.
    before_lists = {name: getattr(instance, name) for name in LIST_FIELDS & set(audited)}
    _set_and_check(instance, fields, validate, exclude=["parent", "owner", "company"])
    after = record_snapshot(instance, audited)
    changes = audit_diff(before, after)
    for name, value in before_lists.items():
        if name not in changes and getattr(instance, name) != value:
            changes[name] = [before[name], after[name]]
    if changes:
        derived = [name for name in fields if name not in audited]  # such as city_key
        instance.save(update_fields=[*changes, *derived, "updated_at"])
        audit_record(
            actor=actor, action=AuditEntry.Action.UPDATED, instance=instance, changes=changes
        )
        # Named as in the payload and the API: `company_id`, not `company`.
        changed = sorted(instance._meta.get_field(name).attname for name in changes)
        _emit("updated", instance, changed=changed)
    return instance


@transaction.atomic
def record_delete(*, actor: User, record: TrashableModel) -> None:
    """Move a record (a company, contact, deal …) to the trash; it can be restored until the
    trash is emptied."""
    check_can_edit_records(actor)
    if record.is_deleted:
        return
    record.deleted_at = timezone.now()
    record.deleted_by = actor
    record.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.DELETED, instance=record)
    _emit_trash("deleted", record)


@transaction.atomic
def record_restore(*, actor: User, record: TrashableModel) -> None:
    """Take a record out of the trash."""
    check_can_edit_records(actor)
    if not record.is_deleted:
        return
    record.deleted_at = None
    record.deleted_by = None
    record.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.RESTORED, instance=record)
    _emit_trash("restored", record)


def _emit_trash(action: str, record: TrashableModel) -> None:
    # Any trashable record (a deal too): its id, type and name; the rest is for the API.
    events.emit(
        f"{record._meta.model_name}.{action}",
        record=record,
        payload=events.record_payload(record, ["deleted_at"], name=str(record)),
    )


def _unlinked_by_erasing(model: type[models.Model], erased: dict[int, dict], expired: Q) -> list:
    """(record, audit changes) for every record that stays and points at an erased one.

    Found through the model's relations, so a later app's records (a deal's company) are
    covered without crm knowing them.
    """
    unlinked = []
    for relation in model._meta.related_objects:
        if relation.on_delete is not models.SET_NULL:
            continue
        field = relation.field
        records = relation.related_model._default_manager.filter(**{f"{field.attname}__in": erased})
        if relation.related_model in (Company, Contact):
            records = records.exclude(expired)  # erased themselves in this same run
        unlinked += [
            (record, {field.name: [erased[getattr(record, field.attname)], None]})
            for record in records
        ]
    return unlinked


@transaction.atomic
def trash_purge(*, older_than_days: int) -> int:
    """Erase companies and contacts that have been in the trash longer than the given days.

    Their audit entries keep who did what and when, but lose the values, so nothing
    personal outlives the record. Records that stay and pointed at an erased one lose
    that link, and their history says so. Safe to run twice.
    """
    cutoff = timezone.now() - timedelta(days=older_than_days)
    expired = Q(deleted_at__lt=cutoff)
    erased = 0
    for model in (Contact, Company):
        records = {
            record.pk: {"id": record.pk, "name": str(record)}
            for record in model.objects.filter(expired)
        }
        if not records:
            continue
        audit_record_many(
            actor=None,
            action=AuditEntry.Action.UPDATED,
            changes_by_record=_unlinked_by_erasing(model, records, expired),
        )
        audit_scrub(model=model, object_ids=list(records))
        # Again with the cutoff: a record restored meanwhile is not erased.
        erased += model.objects.filter(expired, id__in=list(records)).delete()[0]
    return erased
