"""Writes of the marketing set-up: websites, their lead forms, and campaigns."""

import re
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from koers.core.models import AuditEntry, User
from koers.core.services import audit_diff, audit_record, audit_snapshot
from koers.tracking.models import Campaign, LeadForm, Site
from koers.tracking.selectors import check_may_manage_marketing

SITE_FIELDS = ["name", "allowed_domains", "consent_mode", "active"]
LEAD_FORM_FIELDS = [
    "site",
    "name",
    "ask_phone",
    "ask_company",
    "ask_message",
    "thanks",
    "owner",
    "campaign",
    "active",
]
CENT = Decimal("0.01")
CAMPAIGN_FIELDS = ["name", "channel", "starts_on", "ends_on", "spend", "utm_campaign", "owner"]

# Labels of letters, digits and inner hyphens, joined by dots, the last one not all digits.
HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?|xn--[a-z0-9-]{1,59})$"
)


def domains_clean(text: str) -> list[str]:
    """Return the hostnames of a one-per-line list, lower-cased, or name the bad lines.

    People paste addresses from the browser, so a scheme, path or port is dropped first.
    """
    domains: list[str] = []
    wrong: list[str] = []
    for line in text.split():
        host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", line.strip().lower())
        host = host.split("/", 1)[0].split(":", 1)[0].rstrip(".")
        if host != "localhost" and not HOSTNAME.match(host):
            wrong.append(line)
        elif host not in domains:
            domains.append(host)
    if wrong:
        raise ValidationError(
            {
                "allowed_domains": _("Not a domain name such as example.nl: %(lines)s")
                % {"lines": ", ".join(wrong)}
            }
        )
    if not domains:
        raise ValidationError({"allowed_domains": _("Give at least one domain.")})
    return domains


def _save_audited(
    *, actor: User, instance, fields: list[str], before: dict, creating: bool
) -> None:
    instance.full_clean()
    instance.save()
    changes = audit_diff(before, audit_snapshot(instance, fields))
    if creating or changes:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATED if creating else AuditEntry.Action.UPDATED,
            instance=instance,
            changes=changes,
        )


def _site_apply(
    site: Site, *, name: str, allowed_domains: str, consent_mode: str, active: bool
) -> None:
    site.name = name.strip()
    site.allowed_domains = "\n".join(domains_clean(allowed_domains))
    site.consent_mode = consent_mode
    site.active = active


@transaction.atomic
def site_create(
    *,
    actor: User,
    name: str,
    allowed_domains: str,
    consent_mode: str = Site.ConsentMode.REQUIRED,
    active: bool = True,
) -> Site:
    """Add a website that may send events; `allowed_domains` is one domain per line."""
    check_may_manage_marketing(actor)
    site = Site(created_by=actor)
    _site_apply(
        site,
        name=name,
        allowed_domains=allowed_domains,
        consent_mode=consent_mode,
        active=active,
    )
    _save_audited(actor=actor, instance=site, fields=SITE_FIELDS, before={}, creating=True)
    return site


@transaction.atomic
def site_update(
    *,
    actor: User,
    site: Site,
    name: str,
    allowed_domains: str,
    consent_mode: str,
    active: bool,
) -> Site:
    """Change a website's name, domains, consent mode or whether it is in use."""
    check_may_manage_marketing(actor)
    before = audit_snapshot(site, SITE_FIELDS)
    _site_apply(
        site,
        name=name,
        allowed_domains=allowed_domains,
        consent_mode=consent_mode,
        active=active,
    )
    _save_audited(actor=actor, instance=site, fields=SITE_FIELDS, before=before, creating=False)
    return site


def _check_owner(owner: User) -> None:
    # New contacts need someone who can follow them up.
    if not owner.is_active or not owner.can_edit_records:
        raise ValidationError({"owner": _("Choose an active user who may change records.")})


def _lead_form_apply(form: LeadForm, fields: dict) -> None:
    unknown = set(fields) - set(LEAD_FORM_FIELDS)
    if unknown:
        raise TypeError(f"not lead form fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(form, name, value.strip() if isinstance(value, str) else value)
    _check_owner(form.owner)


@transaction.atomic
def lead_form_create(
    *,
    actor: User,
    site: Site,
    name: str,
    owner: User,
    ask_phone: bool = True,
    ask_company: bool = True,
    ask_message: bool = True,
    thanks: str = "",
    campaign: Campaign | None = None,
    active: bool = True,
) -> LeadForm:
    """Add a lead form to a website; the people who fill it in become `owner`'s contacts."""
    check_may_manage_marketing(actor)
    form = LeadForm(site=site)
    _lead_form_apply(
        form,
        {
            "name": name,
            "owner": owner,
            "ask_phone": ask_phone,
            "ask_company": ask_company,
            "ask_message": ask_message,
            "thanks": thanks,
            "campaign": campaign,
            "active": active,
        },
    )
    _save_audited(actor=actor, instance=form, fields=LEAD_FORM_FIELDS, before={}, creating=True)
    return form


@transaction.atomic
def lead_form_update(*, actor: User, lead_form: LeadForm, **fields) -> LeadForm:
    """Change a lead form's questions, thank-you text, owner, campaign or whether it is used."""
    check_may_manage_marketing(actor)
    before = audit_snapshot(lead_form, LEAD_FORM_FIELDS)
    fields.pop("site", None)  # a form stays on the site whose snippet carries its key
    _lead_form_apply(lead_form, fields)
    _save_audited(
        actor=actor, instance=lead_form, fields=LEAD_FORM_FIELDS, before=before, creating=False
    )
    return lead_form


def _campaign_apply(
    campaign: Campaign,
    *,
    name: str,
    channel: str,
    starts_on: date | None,
    ends_on: date | None,
    spend: Decimal,
    utm_campaign: str,
    owner: User | None,
) -> None:
    # Every bad field at once, so a form or an API call can name them all.
    errors = {}
    if not name.strip():
        errors["name"] = _("Give the campaign a name.")
    if channel not in Campaign.Channel.values:
        errors["channel"] = _("Choose one of the channels.")
    utm_campaign = utm_campaign.strip().lower()
    if utm_campaign:
        taken = Campaign.objects.filter(utm_campaign=utm_campaign).exclude(pk=campaign.pk)
        if taken.exists():
            errors["utm_campaign"] = _("Another campaign already uses this UTM campaign value.")
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _("The campaign cannot end before it starts.")
    if spend < 0:
        errors["spend"] = _("Spend cannot be negative.")
    if errors:
        raise ValidationError(errors)
    campaign.name = name.strip()
    campaign.channel = channel
    campaign.starts_on, campaign.ends_on = starts_on, ends_on
    campaign.spend = Decimal(spend).quantize(CENT)  # as stored, so the audit sees no false change
    campaign.utm_campaign = utm_campaign
    campaign.owner = owner


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    name: str,
    channel: str,
    spend: Decimal = Decimal("0"),
    utm_campaign: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
    owner: User | None = None,
) -> Campaign:
    """Add a campaign; visits whose utm_campaign equals `utm_campaign` count for it."""
    check_may_manage_marketing(actor)
    campaign = Campaign()
    _campaign_apply(
        campaign,
        name=name,
        channel=channel,
        starts_on=starts_on,
        ends_on=ends_on,
        spend=spend,
        utm_campaign=utm_campaign,
        owner=owner,
    )
    _save_audited(actor=actor, instance=campaign, fields=CAMPAIGN_FIELDS, before={}, creating=True)
    return campaign


@transaction.atomic
def campaign_update(
    *,
    actor: User,
    campaign: Campaign,
    name: str,
    channel: str,
    spend: Decimal,
    utm_campaign: str,
    starts_on: date | None,
    ends_on: date | None,
    owner: User | None,
) -> Campaign:
    """Change a campaign's name, channel, dates, spend, UTM value or owner."""
    check_may_manage_marketing(actor)
    before = audit_snapshot(campaign, CAMPAIGN_FIELDS)
    _campaign_apply(
        campaign,
        name=name,
        channel=channel,
        starts_on=starts_on,
        ends_on=ends_on,
        spend=spend,
        utm_campaign=utm_campaign,
        owner=owner,
    )
    _save_audited(
        actor=actor, instance=campaign, fields=CAMPAIGN_FIELDS, before=before, creating=False
    )
    return campaign


@transaction.atomic
def campaign_delete(*, actor: User, campaign: Campaign) -> None:
    """Delete a campaign; its touchpoints and lead forms stay, without the campaign."""
    check_may_manage_marketing(actor)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.DELETED,
        instance=campaign,
        changes={
            name: [value, None] for name, value in audit_snapshot(campaign, CAMPAIGN_FIELDS).items()
        },
    )
    campaign.delete()
