"""Deals and activities: imported row by row through their own app's service.

They are fewer than contacts and their services do more (a deal's first stage and value,
an activity's company from its contact), so each row goes through that service in its own
savepoint. This is how a later kind of record plugs in: a field map and a service.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from koers.activities import services as activity_services
from koers.activities.models import Activity
from koers.core.models import User
from koers.crm import normalise
from koers.crm.models import Contact
from koers.crm.selectors import company_visible_to, contact_visible_to
from koers.dataio import bulk, cleaning, targets
from koers.dataio.targets import Field, choices_of, model_name, model_text, owner_cell, plain
from koers.dataio.writers import BatchOutcome, CleanRow, resolve_owners
from koers.pipeline import services as pipeline_services
from koers.pipeline.models import Deal, Pipeline

LINK_FIELDS = (
    Field(
        "company_name",
        gettext_lazy("company name"),
        plain(cleaning.name(200)),
        (
            "company",
            "company name",
            "account name",
            "organization",
            "organization - name",
            "bedrijf",
            "bedrijfsnaam",
            "organisatie",
            "associated company",
        ),
    ),
    Field(
        "company_kvk_number",
        gettext_lazy("company KvK number"),
        plain(normalise.normalise_kvk_number),
        ("kvk", "kvk-nummer", "kvk nummer", "chamber of commerce number"),
    ),
    Field(
        "contact_email",
        gettext_lazy("contact email"),
        plain(normalise.normalise_email),
        (
            "email",
            "e-mail",
            "contact email",
            "person - email",
            "e-mailadres",
            "contact e-mail",
            "associated contact",
        ),
    ),
    Field(
        "contact_external_id",
        gettext_lazy("contact external ID"),
        plain(cleaning.text(100)),
        (
            "contact external id",
            "contact id",
            "person id",
            "person - id",
            "associated contact id",
            "contactnummer",
        ),
    ),
    Field("owner", gettext_lazy("owner"), owner_cell, ("eigenaar", "deal owner", "activity owner")),
)


# How a row names its contact: the field of the row, the contact's field it matches.
CONTACT_KEYS = (("contact_external_id", "external_id"), ("contact_email", "email"))


def _contacts_named(actor: User, rows: list[CleanRow]) -> dict[str, dict[str, Contact]]:
    """The contacts the rows of a batch name, by external ID and by email, among those
    the importer can see: looked up once per batch, not once per row."""
    found: dict[str, dict[str, Contact]] = {}
    visible = contact_visible_to(user=actor).select_related("company").order_by("id")
    for row_field, contact_field in CONTACT_KEYS:
        wanted = {row.values[row_field] for row in rows if row.values.get(row_field)}
        by_key: dict[str, Contact] = {}
        if wanted:
            for contact in bulk.among(visible, contact_field, wanted):
                by_key.setdefault(getattr(contact, contact_field), contact)
        found[row_field] = by_key
    return found


def _linked(
    actor: User, values: dict[str, Any], contacts: dict[str, dict[str, Contact]]
) -> dict[str, Any]:
    """The company and contact a row names, among those the importer can see."""
    linked = {}
    kvk, name = values.pop("company_kvk_number", ""), values.pop("company_name", "")
    if kvk or name:
        companies = company_visible_to(user=actor).order_by("id")
        company = companies.filter(kvk_number=kvk).first() if kvk else None
        if company is None and name:
            company = companies.filter(name_key=normalise.company_name_key(name)).first()
        if company is None:
            raise ValidationError(
                _("Company: none you can see matches “%(name)s”.") % {"name": name or kvk}
            )
        linked["company"] = company
    external_id = values.pop("contact_external_id", "")
    email = values.pop("contact_email", "")
    if external_id:  # the more exact of the two, when a row gives both
        contact = contacts["contact_external_id"].get(external_id)
        if contact is None:
            raise ValidationError(
                _("Contact external ID: none you can see has the external ID %(id)s.")
                % {"id": external_id}
            )
        linked["contact"] = contact
    elif email:
        contact = contacts["contact_email"].get(email)
        if contact is None:
            raise ValidationError(
                _("Contact: none you can see has the address %(email)s.") % {"email": email}
            )
        linked["contact"] = contact
    return linked


class ServiceWriter:
    """Write each row through `create(actor, values)`; a refused row is rejected alone."""

    def __init__(self, create: Callable[[User, dict[str, Any]], object]):
        self.create = create

    def __call__(self, job, actor: User, rows: list[CleanRow], *, write: bool, state: dict):
        outcome = BatchOutcome()
        rows = resolve_owners(rows, outcome)
        contacts = _contacts_named(actor, rows)
        owners: dict[int, User] = {}
        for row in rows:
            try:
                with transaction.atomic():
                    values = dict(row.values)
                    owner = values.pop("owner_id", None)
                    if owner is not None:
                        if owner not in owners:
                            owners[owner] = User.objects.get(pk=owner)
                        values["owner"] = owners[owner]
                    values |= _linked(actor, values, contacts)
                    self.create(actor, values)
                    if not write:  # a dry run goes through the same checks, then undoes
                        transaction.set_rollback(True)
            except ValidationError as error:
                messages = (
                    [f"{name}: {' '.join(errors)}" for name, errors in error.message_dict.items()]
                    if hasattr(error, "error_dict")
                    else error.messages
                )
                outcome.rejected.append((row.number, "; ".join(messages)))
            else:
                outcome.created += 1
        return outcome


def _deal_create(actor: User, values: dict[str, Any]) -> Deal:
    pipeline_name = values.pop("pipeline", "")
    stage_name = values.pop("stage", "")
    contact = values.pop("contact", None)
    pipelines = Pipeline.objects.filter(is_active=True).order_by("id")
    pipeline = (
        pipelines.filter(name__iexact=pipeline_name).first() if pipeline_name else pipelines.first()
    )
    if pipeline is None:
        raise ValidationError(
            _("Pipeline: there is no active pipeline called “%(name)s”.") % {"name": pipeline_name}
        )
    stage = None
    if stage_name:
        stage = pipeline.stages.filter(name__iexact=stage_name).first()
        if stage is None:
            raise ValidationError(
                _("Stage: %(pipeline)s has no stage called “%(name)s”.")
                % {"pipeline": pipeline.name, "name": stage_name}
            )
    return pipeline_services.deal_create(
        actor=actor,
        pipeline=pipeline,
        stage=stage,
        contacts=[(contact, "")] if contact else [],
        **values,
    )


def _activity_create(actor: User, values: dict[str, Any]) -> Activity:
    values.setdefault("kind", Activity.Kind.NOTE)
    return activity_services.activity_log(actor=actor, **values)


targets.register(
    targets.Target(
        key="deals",
        label=gettext_lazy("Deals"),
        fields=(
            Field(
                "name",
                gettext_lazy("name"),
                model_name(Deal, "name"),
                (
                    "deal name",
                    "dealnaam",
                    "naam",
                    "opportunity name",
                    "deal - title",
                    "title",
                    "onderwerp",
                ),
                required=True,
            ),
            Field(
                "pipeline", gettext_lazy("pipeline"), plain(cleaning.text(100)), ("verkoopproces",)
            ),
            Field(
                "stage",
                gettext_lazy("stage"),
                plain(cleaning.text(100)),
                ("deal stage", "fase", "stage name", "deal - stage"),
            ),
            Field(
                "amount_one_off",
                gettext_lazy("one-off amount"),
                plain(cleaning.decimal_amount),
                ("amount", "bedrag", "waarde", "deal value", "deal - value", "eenmalig"),
            ),
            Field(
                "amount_recurring",
                gettext_lazy("recurring amount"),
                plain(cleaning.decimal_amount),
                ("mrr", "recurring", "terugkerend", "per maand", "annual recurring revenue"),
            ),
            Field(
                "expected_close_on",
                gettext_lazy("expected close date"),
                plain(cleaning.parse_date),
                (
                    "close date",
                    "closedate",
                    "verwachte sluitdatum",
                    "sluitdatum",
                    "expected close date",
                    "deal - expected close date",
                ),
            ),
            *LINK_FIELDS,
        ),
        match_keys=(),
        writer=ServiceWriter(_deal_create),
    )
)
targets.register(
    targets.Target(
        key="activities",
        label=gettext_lazy("Activities"),
        fields=(
            Field(
                "kind",
                gettext_lazy("kind"),
                choices_of(
                    Activity, "kind", {"gesprek": "call", "bezoek": "visit", "notitie": "note"}
                ),
                ("type", "activity type", "soort", "activiteit"),
            ),
            Field(
                "subject",
                gettext_lazy("subject"),
                model_text(Activity, "subject"),
                ("onderwerp", "title", "titel", "activity subject"),
                required=True,
            ),
            Field(
                "body",
                gettext_lazy("notes"),
                plain(cleaning.text(10_000)),
                ("notes", "note", "description", "notitie", "omschrijving", "verslag", "body"),
            ),
            Field(
                "occurred_at",
                gettext_lazy("when"),
                plain(cleaning.parse_datetime),
                ("date", "datum", "activity date", "when", "wanneer", "tijdstip", "due date"),
            ),
            Field(
                "direction",
                gettext_lazy("direction"),
                choices_of(Activity, "direction"),
                ("richting",),
            ),
            Field(
                "outcome",
                gettext_lazy("outcome"),
                choices_of(Activity, "outcome"),
                ("uitkomst", "resultaat"),
            ),
            *LINK_FIELDS,
        ),
        match_keys=(),
        writer=ServiceWriter(_activity_create),
    )
)
