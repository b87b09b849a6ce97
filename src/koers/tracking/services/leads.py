"""Lead forms: a visitor tells who they are, and becomes (or meets) a contact."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from koers.activities.models import Activity
from koers.activities.services import activity_log
from koers.core.services import notify
from koers.crm.models import Company, Contact, LifecycleStage
from koers.crm.normalise import company_name_key
from koers.crm.services import company_create, contact_create
from koers.tracking.models import Event, LeadForm, Visitor
from koers.tracking.services.events import _announce, _campaign_ids, utm_of, visitor_identify


def _company(*, form: LeadForm, name: str) -> Company | None:
    if not name:
        return None
    key = company_name_key(name)
    found = Company.objects.filter(name_key=key, deleted_at__isnull=True).order_by("pk").first()
    return found or company_create(actor=form.owner, name=name)


@transaction.atomic
def lead_form_submit(
    *, form: LeadForm, values: dict[str, Any], visitor_uid: str | None, page_url: str
) -> Contact:
    """Record a submission (checked and normalised by leadform.Submission): a new contact,
    or a note on the one who has this email address.

    Anyone can type anyone's address, so a submission for a known contact changes nothing
    about them: no details, no visitor tied to them, no points. It only tells the owner,
    in a note marked unverified. A tracked email click identifies known people instead.
    """
    now = timezone.now()
    contact = (
        Contact.objects.filter(email=values["email"], deleted_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if contact is not None:
        _note_unverified(form=form, contact=contact, values=values)
        return contact
    contact = contact_create(
        actor=form.owner,
        first_name=values.get("first_name", ""),
        last_name=values["last_name"],
        email=values["email"],
        phone=values.get("phone", ""),
        company=_company(form=form, name=values.get("company", "")),
        lifecycle_stage=LifecycleStage.LEAD,
        lead_source=Contact.LeadSource.WEB_FORM,
        owner=form.owner,
    )
    if values.get("message"):
        activity_log(
            actor=form.owner,
            kind=Activity.Kind.NOTE,
            subject=_("Web form: %(form)s") % {"form": form.name},
            body=values["message"],
            contact=contact,
            company=contact.company,
            visibility_checked=True,
            tell_owner=False,
        )
    visitor = None
    if visitor_uid:
        visitor, _created = Visitor.objects.get_or_create(
            site=form.site, uid=visitor_uid, defaults={"first_seen": now, "last_seen": now}
        )
        visitor_identify(visitor=visitor, contact_id=contact.pk)
    utm = utm_of(page_url)
    Event.objects.create(
        kind=Event.Kind.FORM_SUBMIT,
        occurred_at=now,
        site=form.site,
        visitor=visitor,
        contact=contact,
        url=page_url,
        title=form.name,
        campaign_id=form.campaign_id or _campaign_ids().get(utm.get("utm_campaign", "").lower()),
        properties={"form": form.pk, **({"utm": utm} if utm else {})},
    )
    notify(
        recipient=form.owner,
        actor=None,
        message=lambda: (
            _("New lead %(name)s filled in %(form)s")
            % {"name": contact.full_name, "form": form.name}
        ),
        url=contact.get_absolute_url(),
    )
    _announce([contact.pk])
    return contact


def _note_unverified(*, form: LeadForm, contact: Contact, values: dict[str, Any]) -> None:
    typed = " ".join(
        part for part in (values.get("first_name", ""), values.get("last_name", "")) if part
    )
    activity_log(
        actor=form.owner,
        kind=Activity.Kind.NOTE,
        subject=_("Web form %(form)s filled in with this email address (not verified)")
        % {"form": form.name},
        body="\n\n".join(part for part in (typed, values.get("message", "")) if part),
        contact=contact,
        company=contact.company,
        visibility_checked=True,
        tell_owner=False,
    )
    recipient = contact.owner or form.owner
    notify(
        recipient=recipient,
        actor=None,
        message=lambda: (
            _("%(form)s was filled in with the email address of %(name)s")
            % {"name": contact.full_name, "form": form.name}
        ),
        url=contact.get_absolute_url(),
    )
