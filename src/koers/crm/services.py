"""Writes of companies and contacts: validated, normalised, audited, in one transaction."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from koers.core.models import AuditEntry, User
from koers.core.services import (
    audit_diff,
    audit_record,
    audit_scrub,
    audit_snapshot,
    check_can_edit_records,
)
from koers.crm import normalise
from koers.crm.models import Company, Contact
from koers.crm.selectors import company_visible_to

COMPANY_FIELDS = [
    "name",
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
]
CONTACT_FIELDS = [
    "first_name",
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
]


def _normalise(
    values: dict[str, Any], normalisers: dict[str, Callable[[str], str]]
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


def _company_normalisers(country: str) -> dict[str, Callable[[str], str]]:
    return {
        "domain": normalise.normalise_domain,
        "kvk_number": normalise.normalise_kvk_number,
        "establishment_number": normalise.normalise_establishment_number,
        "vat_number": normalise.normalise_vat_number,
        "phone": normalise.normalise_phone,
        "postcode": lambda value: normalise.normalise_postcode(value, country=country),
    }


def _company_validate(*, actor: User, company: Company, values: dict[str, Any]) -> None:
    country = str(values.get("country", company.country) or "")
    _normalise(values, _company_normalisers(country))
    _check_owner(values.get("owner"))
    parent = values.get("parent")
    if parent is not None:
        if company.pk and parent.pk == company.pk:
            raise ValidationError({"parent": _("A company cannot be its own parent.")})
        if not company_visible_to(user=actor).filter(pk=parent.pk).exists():
            raise ValidationError({"parent": _("Choose a company you can see.")})


@transaction.atomic
def company_create(*, actor: User, **fields: Any) -> Company:
    """Create a company from the given fields, normalised and validated."""
    check_can_edit_records(actor)
    _check_fields(fields, COMPANY_FIELDS)
    company = Company()
    _company_validate(actor=actor, company=company, values=fields)
    for name, value in fields.items():
        setattr(company, name, value)
    company.full_clean(exclude=["parent", "owner"])
    company.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATED,
        instance=company,
        changes=audit_diff({}, _non_empty(audit_snapshot(company, COMPANY_FIELDS))),
    )
    return company


@transaction.atomic
def company_update(*, actor: User, company: Company, **fields: Any) -> Company:
    """Change the given fields of a company; record what changed."""
    check_can_edit_records(actor)
    _check_fields(fields, COMPANY_FIELDS)
    _company_validate(actor=actor, company=company, values=fields)
    return _apply_update(actor=actor, instance=company, fields=fields, audited=COMPANY_FIELDS)


@transaction.atomic
def contact_create(*, actor: User, **fields: Any) -> Contact:
    """Create a contact from the given fields, normalised and validated."""
    check_can_edit_records(actor)
    _check_fields(fields, CONTACT_FIELDS)
    contact = Contact()
    _contact_validate(actor=actor, values=fields)
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.full_clean(exclude=["company", "owner"])
    contact.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATED,
        instance=contact,
        changes=audit_diff({}, _non_empty(audit_snapshot(contact, CONTACT_FIELDS))),
    )
    return contact


@transaction.atomic
def contact_update(*, actor: User, contact: Contact, **fields: Any) -> Contact:
    """Change the given fields of a contact; record what changed."""
    check_can_edit_records(actor)
    _check_fields(fields, CONTACT_FIELDS)
    _contact_validate(actor=actor, values=fields)
    return _apply_update(actor=actor, instance=contact, fields=fields, audited=CONTACT_FIELDS)


def _contact_validate(*, actor: User, values: dict[str, Any]) -> None:
    _normalise(
        values,
        {
            "email": normalise.normalise_email,
            "phone": normalise.normalise_phone,
            "mobile": normalise.normalise_phone,
        },
    )
    _check_owner(values.get("owner"))
    company = values.get("company")
    if company is not None and not company_visible_to(user=actor).filter(pk=company.pk).exists():
        raise ValidationError({"company": _("Choose a company you can see.")})


def _non_empty(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in snapshot.items() if value not in (None, "")}


def _apply_update(
    *, actor: User, instance: models.Model, fields: dict[str, Any], audited: list[str]
) -> models.Model:
    before = audit_snapshot(instance, audited)
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean(exclude=["parent", "owner", "company"])
    changes = audit_diff(before, audit_snapshot(instance, audited))
    if changes:
        instance.save(update_fields=[*changes, "updated_at"])
        audit_record(
            actor=actor, action=AuditEntry.Action.UPDATED, instance=instance, changes=changes
        )
    return instance


@transaction.atomic
def record_delete(*, actor: User, record: Company | Contact) -> None:
    """Move a company or contact to the trash; it can be restored until the trash is emptied."""
    check_can_edit_records(actor)
    if record.is_deleted:
        return
    record.deleted_at = timezone.now()
    record.deleted_by = actor
    record.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.DELETED, instance=record)


@transaction.atomic
def record_restore(*, actor: User, record: Company | Contact) -> None:
    """Take a company or contact out of the trash."""
    check_can_edit_records(actor)
    if not record.is_deleted:
        return
    record.deleted_at = None
    record.deleted_by = None
    record.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.RESTORED, instance=record)


@transaction.atomic
def trash_purge(*, older_than_days: int) -> int:
    """Erase companies and contacts that have been in the trash longer than the given days.

    Their audit entries keep who did what and when, but lose the values, so nothing
    personal outlives the record. Safe to run twice.
    """
    cutoff = timezone.now() - timedelta(days=older_than_days)
    erased = 0
    for model in (Contact, Company):
        ids = list(model.objects.filter(deleted_at__lt=cutoff).values_list("id", flat=True))
        if ids:
            audit_scrub(model=model, object_ids=ids)
            erased += model.objects.filter(id__in=ids).delete()[0]
    return erased
