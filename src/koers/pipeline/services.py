"""Writes of pipelines, stages and deals: validated, audited, every stage change recorded."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from koers.core import events
from koers.core.models import AuditEntry, User
from koers.core.services import (
    audit_diff,
    audit_record,
    audit_scrub,
    audit_snapshot,
    check_can_edit_records,
    notify,
)
from koers.crm.models import Company, Contact
from koers.crm.selectors import company_visible_to, contact_visible_to
from koers.pipeline.models import Deal, DealContact, Pipeline, Stage, StageChange
from koers.pipeline.templates_catalog import TEMPLATES

DEAL_FIELDS = [
    "name",
    "company",
    "amount_one_off",
    "amount_recurring",
    "currency",
    "expected_close_on",
    "probability",
    "owner",
    "source",
    "qualification_budget",
    "qualification_authority",
    "qualification_need",
    "qualification_timing",
]
# What an event (a webhook) tells about a deal.
DEAL_EVENT_FIELDS = [
    *DEAL_FIELDS,
    "pipeline",
    "stage",
    "status",
    "value",
    "lost_reason",
    "won_at",
    "lost_at",
    "created_at",
    "updated_at",
]
PIPELINE_FIELDS = ["name", "stall_days", "is_active"]
STAGE_FIELDS = ["name", "kind", "probability", "required"]


def check_can_manage_pipelines(user: User) -> None:
    if not user.can_manage_settings:
        raise PermissionDenied(_("Only managers and administrators may change pipelines."))


# Pipelines and stages


@transaction.atomic
def pipeline_create_from_template(*, actor: User, sales_model: str, name: str = "") -> Pipeline:
    """Create a pipeline with the stages of a sales model's template."""
    check_can_manage_pipelines(actor)
    template = TEMPLATES.get(sales_model)
    if template is None:
        raise ValidationError({"sales_model": _("Choose one of the sales models.")})
    pipeline = Pipeline.objects.create(
        name=name.strip() or str(template.name), sales_model=sales_model
    )
    Stage.objects.bulk_create(
        Stage(
            pipeline=pipeline,
            key=stage.key,
            position=position,
            kind=stage.kind,
            probability=stage.probability,
            required=list(stage.required),
        )
        for position, stage in enumerate(template.stages, start=1)
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATED,
        instance=pipeline,
        changes=audit_diff({}, audit_snapshot(pipeline, ["name", "sales_model"])),
    )
    return pipeline


@transaction.atomic
def pipeline_update(*, actor: User, pipeline: Pipeline, **fields: Any) -> Pipeline:
    """Rename a pipeline, change when its deals count as stalled, or retire it."""
    check_can_manage_pipelines(actor)
    before = audit_snapshot(pipeline, PIPELINE_FIELDS)
    for name, value in fields.items():
        if name not in PIPELINE_FIELDS:
            raise TypeError(f"pipeline_update() got an unexpected field {name!r}")
        setattr(pipeline, name, value.strip() if isinstance(value, str) else value)
    pipeline.full_clean()
    changes = audit_diff(before, audit_snapshot(pipeline, PIPELINE_FIELDS))
    if changes:
        pipeline.save(update_fields=list(changes))
        audit_record(
            actor=actor, action=AuditEntry.Action.UPDATED, instance=pipeline, changes=changes
        )
    return pipeline


def _check_stage_values(*, kind: str, probability: int, required: Iterable[str]) -> list[str]:
    errors = {}
    if kind not in Stage.Kind.values:
        errors["kind"] = _("Choose open, won, lost or after the sale.")
    if not 0 <= probability <= 100:
        errors["probability"] = _("A probability lies between 0 and 100%.")
    required = list(dict.fromkeys(required))
    if any(requirement not in Stage.Requirement.values for requirement in required):
        errors["required"] = _("Choose among the listed requirements.")
    if errors:
        raise ValidationError(errors)
    return required


@transaction.atomic
def stage_save(
    *,
    actor: User,
    pipeline: Pipeline,
    stage: Stage | None = None,
    name: str,
    kind: str,
    probability: int,
    required: Iterable[str],
) -> Stage:
    """Create a stage at the end of its kind's part of the pipeline, or change one."""
    check_can_manage_pipelines(actor)
    required = _check_stage_values(kind=kind, probability=probability, required=required)
    if stage is None:
        if not name.strip():
            raise ValidationError({"name": _("Give the stage a name.")})
        last = pipeline.stages.aggregate(last=Max("position"))["last"] or 0
        stage = Stage(pipeline=pipeline, position=last + 1)
        before = {}
    else:
        if stage.pipeline_id != pipeline.pk:
            raise ValidationError({"stage": _("This stage belongs to another pipeline.")})
        if stage.kind != kind and stage.deals.exists():
            raise ValidationError({"kind": _("Deals are in this stage: its kind cannot change.")})
        before = audit_snapshot(stage, STAGE_FIELDS)
    # An empty name keeps the template's name, in every language.
    stage.name, stage.kind, stage.probability, stage.required = (
        name.strip(),
        kind,
        probability,
        required,
    )
    stage.save()
    changes = audit_diff(before, audit_snapshot(stage, STAGE_FIELDS))
    if changes:
        action = AuditEntry.Action.UPDATED if before else AuditEntry.Action.CREATED
        audit_record(actor=actor, action=action, instance=stage, changes=changes)
    return stage


@transaction.atomic
def stage_reorder(*, actor: User, pipeline: Pipeline, stage_ids: list[int]) -> None:
    """Put the pipeline's stages in the given order."""
    check_can_manage_pipelines(actor)
    stages = {stage.pk: stage for stage in pipeline.stages.all()}
    if sorted(stage_ids) != sorted(stages):
        raise ValidationError({"stages": _("Give every stage of this pipeline exactly once.")})
    for position, stage_id in enumerate(stage_ids, start=1):
        stages[stage_id].position = position
    Stage.objects.bulk_update(stages.values(), ["position"])


@transaction.atomic
def stage_delete(*, actor: User, stage: Stage) -> None:
    check_can_manage_pipelines(actor)
    if stage.deals.exists() or StageChange.objects.filter(to_stage=stage).exists():
        raise ValidationError({"stage": _("Deals have been in this stage; it cannot be deleted.")})
    audit_record(actor=actor, action=AuditEntry.Action.DELETED, instance=stage)
    stage.delete()


# Deals


def _requirements_up_to(stage: Stage) -> list[str]:
    """What a deal needs to enter `stage`: its own requirements and those of the open stages
    before it, so skipping a stage does not skip its rules."""
    earlier = stage.pipeline.stages.filter(position__lte=stage.position).exclude(
        kind=Stage.Kind.LOST
    )
    needs: dict[str, None] = {}
    for required in earlier.values_list("required", flat=True):
        needs.update(dict.fromkeys(required))
    return list(needs)


def _missing(deal: Deal, requirements: list[str]) -> list[str]:
    labels = dict(Stage.Requirement.choices)
    missing = []
    for requirement in requirements:
        if (
            (requirement == Stage.Requirement.AMOUNT and not deal.value)
            or (requirement == Stage.Requirement.EXPECTED_CLOSE and deal.expected_close_on is None)
            or (
                requirement == Stage.Requirement.CONTACTS
                and not (deal.pk and deal.deal_contacts.exists())
            )
            or (
                requirement == Stage.Requirement.DECISION_MAKER
                and not (
                    deal.pk
                    and deal.deal_contacts.filter(dmu_role=Contact.DMURole.DECISION_MAKER).exists()
                )
            )
        ):
            missing.append(requirement)
    return [str(labels[requirement]) for requirement in missing]


def check_deal_may_enter(deal: Deal, stage: Stage) -> None:
    """Refuse a stage whose rules the deal does not meet, naming what it lacks."""
    missing = _missing(deal, _requirements_up_to(stage))
    if missing:
        raise ValidationError(
            {
                "stage": _("Before “%(stage)s” the deal needs %(missing)s.")
                % {"stage": stage.label, "missing": _(" and ").join(missing)}
            }
        )


def _value(deal: Deal) -> Decimal:
    return (deal.amount_one_off or Decimal(0)) + 12 * (deal.amount_recurring or Decimal(0))


def _check_deal_links(*, actor: User, deal: Deal, new_company: Company | None) -> None:
    """A company newly linked must be one the actor can see; the owner must be able to log in."""
    if (
        new_company is not None
        and not company_visible_to(user=actor).filter(pk=new_company.pk).exists()
    ):
        raise ValidationError({"company": _("Choose a company you can see.")})
    owner = deal.owner
    if owner is not None and not owner.is_active:
        raise ValidationError({"owner": _("Choose an owner who can still log in.")})


def _record_move(
    *, deal: Deal, from_stage: Stage | None, to_stage: Stage, actor: User, at: datetime
) -> None:
    StageChange.objects.create(
        deal=deal, from_stage=from_stage, to_stage=to_stage, actor=actor, at=at
    )


def _emit(name: str, deal: Deal, **extra: Any) -> None:
    events.emit(name, record=deal, payload=events.record_payload(deal, DEAL_EVENT_FIELDS, **extra))


def _stage_summary(stage: Stage | None) -> dict[str, Any] | None:
    if stage is None:
        return None
    # An event goes to programs, not people: the name in the site's language, not the actor's.
    with translation.override(settings.LANGUAGE_CODE):
        name = str(stage.label)
    return {"id": stage.pk, "key": stage.key, "name": name, "kind": stage.kind}


def _first_touch(company: Company | None, contacts: list[Contact], now: datetime) -> datetime:
    """The earliest moment the customer was known to us: lead-to-order starts there."""
    moments = [now]
    if company is not None:
        moments.append(company.created_at)
    moments += [contact.created_at for contact in contacts]
    return min(moments)


@transaction.atomic
def deal_create(
    *,
    actor: User,
    name: str,
    pipeline: Pipeline,
    stage: Stage | None = None,
    company: Company | None = None,
    contacts: Iterable[tuple[Contact, str]] = (),
    **fields: Any,
) -> Deal:
    """Create a deal in a pipeline's first open stage (or `stage`), with its contacts and their
    roles; the actor owns it unless `owner` says otherwise."""
    check_can_edit_records(actor)
    unknown = set(fields) - set(DEAL_FIELDS)
    if unknown:
        raise TypeError(f"deal_create() got unexpected fields {sorted(unknown)}")
    stage = stage or pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("position").first()
    if stage is None or stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": _("Choose a stage of this pipeline.")})
    if stage.kind != Stage.Kind.OPEN:
        raise ValidationError({"stage": _("A new deal starts in an open stage.")})
    fields.setdefault("owner", actor)
    now = timezone.now()
    deal = Deal(name=name.strip(), pipeline=pipeline, stage=stage, company=company, **fields)
    deal.value = _value(deal)
    _check_deal_links(actor=actor, deal=deal, new_company=company)
    contacts = list(contacts)
    _check_contacts_visible(actor, [contact for contact, _role in contacts])
    deal.first_touch_at = _first_touch(company, [contact for contact, _role in contacts], now)
    deal.last_activity_at = now
    deal.full_clean(exclude=["company", "owner", "pipeline", "stage", "handed_off_by"])
    deal.save()
    DealContact.objects.bulk_create(
        DealContact(deal=deal, contact=contact, dmu_role=role or contact.dmu_role)
        for contact, role in contacts
    )
    check_deal_may_enter(deal, stage)
    _record_move(deal=deal, from_stage=None, to_stage=stage, actor=actor, at=now)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATED,
        instance=deal,
        changes=audit_diff(
            {}, {k: v for k, v in audit_snapshot(deal, DEAL_FIELDS).items() if v not in (None, "")}
        ),
    )
    _emit("deal.created", deal)
    return deal


def _check_contacts_visible(actor: User, contacts: list[Contact]) -> None:
    ids = {contact.pk for contact in contacts}
    if ids and contact_visible_to(user=actor).filter(pk__in=ids).count() != len(ids):
        raise ValidationError({"contacts": _("Choose contacts you can see.")})


@transaction.atomic
def deal_update(*, actor: User, deal: Deal, **fields: Any) -> Deal:
    """Change the given fields of a deal; the stage's rules still hold afterwards."""
    check_can_edit_records(actor)
    unknown = set(fields) - set(DEAL_FIELDS)
    if unknown:
        raise TypeError(f"deal_update() got unexpected fields {sorted(unknown)}")
    before = audit_snapshot(deal, DEAL_FIELDS)
    company = fields.get("company")
    new_company = company if company is not None and company.pk != deal.company_id else None
    for name, value in fields.items():
        setattr(deal, name, value.strip() if isinstance(value, str) else value)
    deal.value = _value(deal)
    _check_deal_links(actor=actor, deal=deal, new_company=new_company)
    deal.full_clean(exclude=["company", "owner", "pipeline", "stage", "handed_off_by"])
    if deal.status == Deal.Status.OPEN:
        check_deal_may_enter(deal, deal.stage)
    changes = audit_diff(before, audit_snapshot(deal, DEAL_FIELDS))
    if changes:
        deal.last_activity_at = timezone.now()
        deal.save()
        audit_record(actor=actor, action=AuditEntry.Action.UPDATED, instance=deal, changes=changes)
        changed = sorted(Deal._meta.get_field(name).attname for name in changes)
        _emit("deal.updated", deal, changed=changed)
    return deal


@transaction.atomic
def deal_move(
    *, actor: User, deal: Deal, to_stage: Stage, lost_reason: str = "", lost_note: str = ""
) -> Deal:
    """Move a deal to another stage of its pipeline, if it meets that stage's rules.

    Into a won stage it is won, into a lost stage lost (with a reason), from either back
    into an open stage it is reopened; a won deal may go on to the stages after the sale.
    """
    check_can_edit_records(actor)
    if to_stage.pipeline_id != deal.pipeline_id:
        raise ValidationError({"stage": _("Choose a stage of the deal's own pipeline.")})
    if to_stage.pk == deal.stage_id:
        return deal
    if to_stage.kind == Stage.Kind.POST_SALE and deal.status != Deal.Status.WON:
        raise ValidationError({"stage": _("Only a won deal goes on to the stages after the sale.")})
    now = timezone.now()
    from_stage = deal.stage
    before_status = deal.status
    before = audit_snapshot(deal, ["stage", "status", "lost_reason"])
    if to_stage.kind == Stage.Kind.LOST:
        if lost_reason not in Deal.LostReason.values:
            raise ValidationError({"lost_reason": _("Say why the deal was lost.")})
        deal.status, deal.lost_reason, deal.lost_note = (
            Deal.Status.LOST,
            lost_reason,
            lost_note.strip(),
        )
        deal.lost_at, deal.won_at = now, None
    else:
        check_deal_may_enter(deal, to_stage)
        if to_stage.kind == Stage.Kind.WON:
            deal.status, deal.won_at, deal.lost_at = Deal.Status.WON, now, None
        elif to_stage.kind == Stage.Kind.OPEN:
            deal.status, deal.won_at, deal.lost_at = Deal.Status.OPEN, None, None
        deal.lost_reason = deal.lost_note = ""
    deal.stage = to_stage
    deal.last_activity_at = now
    deal.save()
    _record_move(deal=deal, from_stage=from_stage, to_stage=to_stage, actor=actor, at=now)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATED,
        instance=deal,
        changes=audit_diff(before, audit_snapshot(deal, ["stage", "status", "lost_reason"])),
    )
    stages = {"from_stage": _stage_summary(from_stage), "to_stage": _stage_summary(to_stage)}
    _emit("deal.stage_changed", deal, **stages)
    if deal.status != before_status and deal.status == Deal.Status.WON:
        _emit("deal.won", deal, **stages)
    elif deal.status != before_status and deal.status == Deal.Status.LOST:
        _emit("deal.lost", deal, **stages)
    return deal


def _stage_of_kind(deal: Deal, kind: str) -> Stage:
    stage = deal.pipeline.stages.filter(kind=kind).order_by("position").first()
    if stage is None:
        raise ValidationError({"stage": _("This pipeline has no stage for that.")})
    return stage


def deal_mark_won(*, actor: User, deal: Deal) -> Deal:
    return deal_move(actor=actor, deal=deal, to_stage=_stage_of_kind(deal, Stage.Kind.WON))


def deal_mark_lost(*, actor: User, deal: Deal, reason: str, note: str = "") -> Deal:
    lost = _stage_of_kind(deal, Stage.Kind.LOST)
    return deal_move(actor=actor, deal=deal, to_stage=lost, lost_reason=reason, lost_note=note)


def deal_reopen(*, actor: User, deal: Deal) -> Deal:
    """Put a won or lost deal back in the last open stage it was in."""
    last_open = (
        StageChange.objects.filter(deal=deal, to_stage__kind=Stage.Kind.OPEN)
        .select_related("to_stage")
        .order_by("-at", "-id")
        .first()
    )
    to_stage = last_open.to_stage if last_open else _stage_of_kind(deal, Stage.Kind.OPEN)
    return deal_move(actor=actor, deal=deal, to_stage=to_stage)


@transaction.atomic
def deal_contact_set(*, actor: User, deal: Deal, contact: Contact, dmu_role: str) -> DealContact:
    """Add a contact to a deal's buying committee, or change their role in it."""
    check_can_edit_records(actor)
    if dmu_role and dmu_role not in Contact.DMURole.values:
        raise ValidationError({"dmu_role": _("Choose one of the roles.")})
    _check_contacts_visible(actor, [contact])
    existing = DealContact.objects.filter(deal=deal, contact=contact).first()
    before = str(existing) if existing else None
    link, _created = DealContact.objects.update_or_create(
        deal=deal, contact=contact, defaults={"dmu_role": dmu_role}
    )
    if str(link) != before:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.UPDATED,
            instance=deal,
            changes={"contacts": [before, str(link)]},
        )
    Deal.objects.filter(pk=deal.pk).update(last_activity_at=timezone.now())
    return link


@transaction.atomic
def deal_contact_remove(*, actor: User, deal: Deal, contact: Contact) -> None:
    check_can_edit_records(actor)
    removed, _count = DealContact.objects.filter(deal=deal, contact=contact).delete()
    if removed:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.UPDATED,
            instance=deal,
            changes={"contacts": [str(contact), None]},
        )


@transaction.atomic
def deal_hand_off(
    *,
    actor: User,
    contact: Contact,
    owner: User,
    pipeline: Pipeline,
    name: str,
    amount_one_off: Decimal = Decimal(0),
    amount_recurring: Decimal = Decimal(0),
    expected_close_on=None,
    qualification_budget: str = "",
    qualification_authority: str = "",
    qualification_need: str = "",
    qualification_timing: str = "",
) -> Deal:
    """Turn a qualified contact into a deal for an account executive, with what the SDR
    learnt (budget, authority, need, timing), and tell the AE."""
    if not any(
        part.strip()
        for part in (
            qualification_budget,
            qualification_authority,
            qualification_need,
            qualification_timing,
        )
    ):
        raise ValidationError(
            {"qualification_need": _("Write down what you learnt while qualifying.")}
        )
    deal = deal_create(
        actor=actor,
        name=name,
        pipeline=pipeline,
        company=contact.company,
        contacts=[(contact, contact.dmu_role)],
        owner=owner,
        amount_one_off=amount_one_off,
        amount_recurring=amount_recurring,
        expected_close_on=expected_close_on,
        source=contact.lead_source,
        qualification_budget=qualification_budget.strip(),
        qualification_authority=qualification_authority.strip(),
        qualification_need=qualification_need.strip(),
        qualification_timing=qualification_timing.strip(),
    )
    deal.handed_off_by = actor
    deal.save(update_fields=["handed_off_by"])
    if owner != actor:
        notify(
            recipient=owner,
            actor=actor,
            message=lambda: (
                _("%(sdr)s handed a deal to you: %(deal)s") % {"sdr": actor, "deal": deal}
            ),
            url=reverse("pipeline:deal-detail", args=[deal.pk]),
        )
    return deal


@transaction.atomic
def deal_trash_purge(*, older_than_days: int) -> int:
    """Erase deals that have been in the trash longer than the given days; their audit
    entries keep who did what and when, without the values. Safe to run twice."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    expired = Deal.objects.filter(deleted_at__lt=cutoff)
    ids = list(expired.values_list("id", flat=True))
    if not ids:
        return 0
    audit_scrub(model=Deal, object_ids=ids)
    return expired.filter(id__in=ids).delete()[1].get("pipeline.Deal", 0)
