"""Writes of outreach: set up call campaigns, build their lists, record each call's outcome."""

from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from koers.activities import services as activity_services
from koers.activities.models import Activity
from koers.core.models import AuditEntry, User
from koers.core.services import audit_record, check_can_edit_records, notify
from koers.crm.models import Contact, Suppression
from koers.crm.selectors import contact_list_for_user
from koers.crm.services import contact_create, suppression_add
from koers.outreach import tasks
from koers.outreach.models import CallCampaign, CallListEntry, CampaignCall
from koers.outreach.rules import UNREACHED, exclusions
from koers.outreach.selectors import CLAIM, may_run_campaigns, window_of

FILTER_KEYS = ("q", "owner", "lifecycle_stage", "city", "dmu_role", "function")
CAMPAIGN_FIELDS = ("name", "goal", "script", "cool_off_days", "recent_call_days", "max_attempts")
MAX_BUILD = 5000  # people added to a list at once
CALL_BACK_HOUR = time(9)
Outcome = Activity.Outcome
# Outcomes after which the person leaves the list.
FINAL = {
    Outcome.CONVERSATION,
    Outcome.WRONG_PERSON,
    Outcome.NOT_INTERESTED,
    Outcome.SEND_INFORMATION,
    Outcome.MEETING_BOOKED,
    Outcome.OBJECTED,
}
CALL_OUTCOMES = [*UNREACHED, Outcome.CALL_BACK, *FINAL]


def check_may_run(actor: User) -> None:
    if not may_run_campaigns(actor):
        raise PermissionDenied(_("Only managers, marketing and admins may set up campaigns."))


def _check_agents(agents: list[User]) -> None:
    if not agents:
        raise ValidationError({"agents": _("Choose at least one agent.")})
    if any(not agent.can_edit_records for agent in agents):
        raise ValidationError({"agents": _("Read-only users cannot make calls.")})


@transaction.atomic
def campaign_save(
    *,
    actor: User,
    agents: list[User],
    contact_filter: dict[str, str],
    campaign: CallCampaign | None = None,
    **fields: Any,
) -> CallCampaign:
    """Create or change a campaign: its goal, script, agents, who to call and its rules."""
    check_may_run(actor)
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"not campaign fields: {sorted(unknown)}")
    _check_agents(agents)
    creating = campaign is None
    campaign = campaign or CallCampaign(owner=actor)
    for name, value in fields.items():
        setattr(campaign, name, value.strip() if isinstance(value, str) else value)
    campaign.contact_filter = {
        key: str(value) for key, value in contact_filter.items() if key in FILTER_KEYS and value
    }
    campaign.full_clean(exclude=["owner"])
    campaign.save()
    campaign.agents.set(agents)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATED if creating else AuditEntry.Action.UPDATED,
        instance=campaign,
    )
    return campaign


def campaign_set_status(*, actor: User, campaign: CallCampaign, status: str) -> CallCampaign:
    check_may_run(actor)
    if status not in CallCampaign.Status.values:
        raise ValidationError({"status": _("Choose one of the statuses.")})
    before = campaign.status
    campaign.status = status
    campaign.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATED,
        instance=campaign,
        changes={"status": [before, status]},
    )
    return campaign


@transaction.atomic
def campaign_build_list(
    *, actor: User, campaign: CallCampaign, today: date | None = None
) -> dict[str, Any]:
    """Add the people the campaign's filter finds and no rule excludes to its call list.

    Returns how many were added, and how many each rule kept off, so the person building
    the list sees why it is shorter than the filter.
    """
    check_may_run(actor)
    today = today or timezone.localdate()
    found = contact_list_for_user(user=actor, **campaign.contact_filter).order_by()
    candidates = found.exclude(call_entries__campaign=campaign)
    rules = exclusions(window_of(campaign, today), campaign_id=campaign.pk)
    excluded = {name: candidates.filter(rule).count() for name, rule in rules.items()}
    allowed = candidates
    for rule in rules.values():
        allowed = allowed.exclude(rule)
    ids = list(allowed.order_by("id").values_list("id", flat=True)[: MAX_BUILD + 1])
    CallListEntry.objects.bulk_create(
        [CallListEntry(campaign=campaign, contact_id=pk) for pk in ids[:MAX_BUILD]],
        ignore_conflicts=True,
    )
    return {
        "matched": found.count(),
        "added": min(len(ids), MAX_BUILD),
        "more": len(ids) > MAX_BUILD,
        "excluded": {name: count for name, count in excluded.items() if count},
    }


def _check_agent(actor: User, campaign: CallCampaign) -> None:
    check_can_edit_records(actor)
    if not (campaign.agents.filter(pk=actor.pk).exists() or may_run_campaigns(actor)):
        raise PermissionDenied(_("You are not an agent of this campaign."))
    if campaign.status != CallCampaign.Status.ACTIVE:
        raise ValidationError(_("This campaign is not active."))


def entry_claim(*, actor: User, entry: CallListEntry, now: datetime | None = None) -> None:
    """Keep the person on this agent's screen for a while: nobody else calls them meanwhile."""
    now = now or timezone.now()
    CallListEntry.objects.filter(pk=entry.pk).update(claimed_by=actor, claimed_until=now + CLAIM)


def _plain(value: Any) -> Any:
    """A value as the audit trail stores it (JSON)."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def _split_name(name: str) -> tuple[str, str]:
    first, _space, last = " ".join(name.split()).partition(" ")
    return (first, last) if last else ("", first)


@transaction.atomic
def call_record(
    *,
    actor: User,
    entry: CallListEntry,
    outcome: str,
    note: str = "",
    call_back_on: date | None = None,
    reason: str = "",
    right_person: str = "",
    meeting_at: datetime | None = None,
    account_executive: User | None = None,
    qualification: str = "",
    now: datetime | None = None,
) -> CampaignCall:
    """Record one call of a campaign and do what its outcome asks.

    Every call is an activity on the person's timeline. A call-back plans a call for the
    agent on that date; "send information" plans the email; a booked meeting goes on the
    account executive's calendar and tells them; an objection means never again.
    """
    campaign = entry.campaign
    _check_agent(actor, campaign)
    now = now or timezone.now()
    today = timezone.localdate(now)
    contact = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("company")
        .get(pk=entry.contact_id)
    )
    entry = CallListEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.state != CallListEntry.State.OPEN:
        raise ValidationError(_("This person has already been dealt with."))
    errors = {}
    if outcome not in CALL_OUTCOMES:
        errors["outcome"] = _("Choose what came of the call.")
    elif outcome == Outcome.CALL_BACK and (call_back_on is None or call_back_on <= today):
        errors["call_back_on"] = _("Choose a date after today to call back.")
    elif outcome == Outcome.NOT_INTERESTED and not reason.strip():
        errors["reason"] = _("Write down why they are not interested.")
    elif outcome == Outcome.MEETING_BOOKED:
        if meeting_at is None or meeting_at <= now:
            errors["meeting_at"] = _("Choose a moment in the future for the meeting.")
        if account_executive is None or not account_executive.can_edit_records:
            errors["account_executive"] = _("Choose the account executive who will meet them.")
        if not qualification.strip():
            errors["qualification"] = _("Write down what you learnt: budget, need, timing.")
    if errors:
        raise ValidationError(errors)

    details = "\n".join(
        part
        for part in (
            reason.strip() and _("Reason: %(reason)s") % {"reason": reason.strip()},
            right_person.strip()
            and _("The right person: %(name)s") % {"name": right_person.strip()},
            note.strip(),
        )
        if part
    )
    call = activity_services.activity_log(
        actor=actor,
        kind=Activity.Kind.CALL,
        direction=Activity.Direction.OUTBOUND,
        outcome=outcome,
        subject=f"{campaign.name}: {Outcome(outcome).label}",
        body=details,
        contact=contact,
        occurred_at=now,
        visibility_checked=True,
    )
    meeting = None
    entry.attempts += 1
    entry.last_attempt_at = now
    entry.claimed_by = entry.claimed_until = None
    if outcome in FINAL or entry.attempts >= campaign.max_attempts:
        entry.state = CallListEntry.State.DONE
    entry.save()

    contact_changes = {}
    if outcome not in UNREACHED:
        contact_changes["call_back_on"] = call_back_on if outcome == Outcome.CALL_BACK else None
    if outcome == Outcome.OBJECTED:
        contact_changes |= {"objected_at": now, "do_not_call": True}
        CallListEntry.objects.filter(contact=contact, state=CallListEntry.State.OPEN).update(
            state=CallListEntry.State.DONE
        )
    changed = {
        name: [getattr(contact, name), value]
        for name, value in contact_changes.items()
        if getattr(contact, name) != value
    }
    if changed:
        Contact.objects.filter(pk=contact.pk).update(**contact_changes)
        if outcome == Outcome.OBJECTED:
            suppression_add(contact=contact, reason=Suppression.Reason.OBJECTED)
        audit_record(
            actor=actor,
            action=AuditEntry.Action.UPDATED,
            instance=contact,
            changes={name: [_plain(a), _plain(b)] for name, (a, b) in changed.items()},
        )

    if outcome == Outcome.CALL_BACK:
        activity_services.activity_log(
            actor=actor,
            kind=Activity.Kind.CALL,
            subject=_("Call %(name)s back (%(campaign)s)")
            % {"name": contact.full_name, "campaign": campaign.name},
            body=note.strip(),
            contact=contact,
            due_at=timezone.make_aware(datetime.combine(call_back_on, CALL_BACK_HOUR)),
            done=False,
            visibility_checked=True,
        )
    elif outcome == Outcome.SEND_INFORMATION:
        activity_services.activity_log(
            actor=actor,
            kind=Activity.Kind.EMAIL,
            subject=_("Send information to %(name)s") % {"name": contact.full_name},
            body=note.strip(),
            contact=contact,
            due_at=now,
            done=False,
            visibility_checked=True,
        )
    elif outcome == Outcome.WRONG_PERSON and right_person.strip() and contact.company_id:
        first, last = _split_name(right_person)
        colleague = contact_create(
            actor=actor, first_name=first, last_name=last, company=contact.company
        )
        CallListEntry.objects.get_or_create(campaign=campaign, contact=colleague)
    elif outcome == Outcome.MEETING_BOOKED:
        meeting = activity_services.activity_log(
            actor=actor,
            kind=Activity.Kind.MEETING,
            subject=_("Meeting with %(name)s") % {"name": contact.full_name}
            + (f" ({contact.company})" if contact.company_id else ""),
            body=qualification.strip(),
            contact=contact,
            owner=account_executive,
            due_at=meeting_at,
            done=False,
            visibility_checked=True,
            tell_owner=False,  # told below, with the agent's words
        )
        notify(
            recipient=account_executive,
            actor=actor,
            message=lambda: (
                _("%(agent)s booked a meeting for you with %(name)s on %(when)s")
                % {
                    "agent": actor,
                    "name": contact.full_name,
                    "when": date_format(timezone.localtime(meeting_at), "DATETIME_FORMAT"),
                }
            ),
            url=contact.get_absolute_url(),
        )
        transaction.on_commit(lambda: tasks.meeting_invite_send(meeting.pk))
    return CampaignCall.objects.create(
        campaign=campaign,
        entry=entry,
        agent=actor,
        outcome=outcome,
        at=now,
        activity=call,
        meeting=meeting,
    )
