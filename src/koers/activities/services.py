"""Writes of activities: log and plan activities, complete them, mentions, account teams."""

import re
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from koers.activities.models import AccountTeamMember, Activity
from koers.core import events
from koers.core.models import AuditEntry, User
from koers.core.selectors import user_list_active
from koers.core.services import audit_record, check_can_edit_records, notify
from koers.crm.models import Company, Contact
from koers.crm.selectors import company_visible_to, contact_visible_to
from koers.pipeline.models import Deal
from koers.pipeline.selectors import deal_visible_to

# What an event (a webhook) tells about an activity.
ACTIVITY_EVENT_FIELDS = [
    "kind",
    "direction",
    "outcome",
    "subject",
    "body",
    "contact",
    "company",
    "deal",
    "owner",
    "created_by",
    "occurred_at",
    "due_at",
    "done_at",
]

# "@yara" or "@yara.de-vries"; not the middle of an email address.
MENTION = re.compile(r"(?<![\w.@])@([\w][\w.\-]*[\w]|[\w])")


def _check_visible(actor: User, *, contact, company, deal) -> None:
    """An activity may only be written on records the actor may see."""
    for record, visible in (
        (contact, contact_visible_to),
        (company, company_visible_to),
        (deal, deal_visible_to),
    ):
        if record is not None and not visible(user=actor).filter(pk=record.pk).exists():
            raise PermissionDenied(_("You may not see this record."))


def mentioned_users(text: str) -> list[User]:
    """The active users named with @username in a text."""
    names = {name.casefold() for name in MENTION.findall(text)}
    if not names:
        return []
    query = Q()
    for name in names:
        query |= Q(username__iexact=name)
    return list(user_list_active().filter(query))


def _url_of(activity: Activity) -> str:
    record = activity.record
    return record.get_absolute_url() if record is not None else ""


@transaction.atomic
def activity_log(
    *,
    actor: User,
    kind: str,
    subject: str,
    body: str = "",
    contact: Contact | None = None,
    company: Company | None = None,
    deal: Deal | None = None,
    direction: str = "",
    outcome: str = "",
    owner: User | None = None,
    occurred_at: datetime | None = None,
    due_at: datetime | None = None,
    done: bool = True,
    visibility_checked: bool = False,
    tell_owner: bool = True,
) -> Activity:
    """Write down an activity, done or planned (done=False with a due time).

    The company comes from the contact or the deal when not given, so that the activity
    is on the account's timeline. People mentioned with @username are told, and so is
    the person a planned activity is for. `visibility_checked`: the caller has made sure
    the actor may write here (a campaign's agent calls people outside their own team).
    """
    check_can_edit_records(actor)
    subject = " ".join(subject.split())
    errors = {}
    if kind not in Activity.Kind.values:
        errors["kind"] = _("Choose a kind of activity.")
    if not subject:
        errors["subject"] = _("Write one line about it.")
    if contact is None and company is None and deal is None:
        errors["subject"] = _("An activity belongs to a contact, a company or a deal.")
    if not done and due_at is None:
        errors["due_at"] = _("A planned activity needs a due date.")
    if errors:
        raise ValidationError(errors)
    if not visibility_checked:
        _check_visible(actor, contact=contact, company=company, deal=deal)
    if company is None:
        company = (contact.company if contact else None) or (deal.company if deal else None)
    if len(subject) > 200:  # a long line is kept whole in the details
        body = f"{subject}\n\n{body}"
    now = timezone.now()
    activity = Activity(
        kind=kind,
        subject=Truncator(subject).chars(200),
        body=body.strip(),
        contact=contact,
        company=company,
        deal=deal,
        direction=direction,
        outcome=outcome,
        owner=owner or actor,
        created_by=actor,
        occurred_at=occurred_at or now,
        due_at=due_at,
        done_at=(occurred_at or now) if done else None,
    )
    activity.full_clean(exclude=["owner", "contact", "company", "deal"])
    activity.save()
    if deal is not None and done:
        Deal.objects.filter(pk=deal.pk, last_activity_at__lt=activity.occurred_at).update(
            last_activity_at=activity.occurred_at
        )
    _tell_mentioned(actor=actor, activity=activity)
    events.emit(
        "activity.created",
        record=activity,
        payload=events.record_payload(activity, ACTIVITY_EVENT_FIELDS),
    )
    if tell_owner and not done and activity.owner != actor:
        notify(
            recipient=activity.owner,
            actor=actor,
            message=lambda: (
                _("%(actor)s gave you a task: %(subject)s")
                % {"actor": actor, "subject": activity.subject}
            ),
            url=_url_of(activity),
        )
    return activity


def _tell_mentioned(*, actor: User, activity: Activity) -> None:
    mentioned = [
        user
        for user in mentioned_users(f"{activity.subject}\n{activity.body}")
        if user.pk != actor.pk
    ]
    if not mentioned:
        return
    activity.mentions.add(*mentioned)
    record = activity.record
    for user in mentioned:
        notify(
            recipient=user,
            actor=actor,
            message=lambda: (
                _("%(actor)s mentioned you on %(record)s: %(subject)s")
                % {"actor": actor, "record": record, "subject": activity.subject}
            ),
            url=_url_of(activity),
        )


def check_can_change(actor: User, activity: Activity) -> None:
    """Whoever wrote or holds an activity may change it; so may managers and admins."""
    check_can_edit_records(actor)
    if actor.pk not in (activity.owner_id, activity.created_by_id) and actor.role not in (
        User.Role.ADMIN,
        User.Role.MANAGER,
    ):
        raise PermissionDenied(_("Only its author, the person it is for, or a manager may."))


def activity_complete(*, actor: User, activity: Activity, outcome: str = "") -> Activity:
    """Mark a planned activity done; it moves to now on the timeline."""
    check_can_change(actor, activity)
    if outcome and outcome not in Activity.Outcome.values:
        raise ValidationError({"outcome": _("Choose one of the outcomes.")})
    if activity.done_at is None:
        activity.done_at = activity.occurred_at = timezone.now()
    if outcome:
        activity.outcome = outcome
    activity.save(update_fields=["done_at", "occurred_at", "outcome"])
    if activity.deal_id:
        Deal.objects.filter(pk=activity.deal_id).update(last_activity_at=activity.done_at)
    return activity


def activity_delete(*, actor: User, activity: Activity) -> None:
    check_can_change(actor, activity)
    audit_record(actor=actor, action=AuditEntry.Action.DELETED, instance=activity)
    activity.delete()


def reminders_send(*, now: datetime | None = None) -> int:
    """Tell each person about their planned activities that have come due, once."""
    now = now or timezone.now()
    due = Activity.objects.filter(
        done_at__isnull=True, reminded_at__isnull=True, due_at__lte=now, owner__isnull=False
    ).select_related("owner", "contact", "company", "deal")
    sent = 0
    for activity in due:
        notify(
            recipient=activity.owner,
            actor=None,
            message=lambda activity=activity: (
                _("Due now: %(subject)s") % {"subject": activity.subject}
            ),
            url=_url_of(activity),
        )
        sent += 1
    Activity.objects.filter(pk__in=[activity.pk for activity in due]).update(reminded_at=now)
    return sent


def account_team_add(*, actor: User, company: Company, user: User, role: str) -> AccountTeamMember:
    check_can_edit_records(actor)
    _check_visible(actor, contact=None, company=company, deal=None)
    if role not in AccountTeamMember.Role.values:
        raise ValidationError({"role": _("Choose one of the roles.")})
    if not user.is_active:
        raise ValidationError({"user": _("This colleague can no longer log in.")})
    member, created = AccountTeamMember.objects.get_or_create(company=company, user=user, role=role)
    if created:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.UPDATED,
            instance=company,
            changes={"account_team": [None, f"{user} ({member.get_role_display()})"]},
        )
        if user != actor:
            notify(
                recipient=user,
                actor=actor,
                message=lambda: (
                    _("%(actor)s added you to the account team of %(company)s")
                    % {"actor": actor, "company": company}
                ),
                url=company.get_absolute_url(),
            )
    return member


def account_team_remove(*, actor: User, member: AccountTeamMember) -> None:
    check_can_edit_records(actor)
    _check_visible(actor, contact=None, company=member.company, deal=None)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATED,
        instance=member.company,
        changes={"account_team": [f"{member.user} ({member.get_role_display()})", None]},
    )
    member.delete()
