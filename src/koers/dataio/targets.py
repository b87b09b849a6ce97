"""What an import can write into: each kind of record is a target with a field map.

A target lists its fields (label, how a cell becomes a value, the column headers that
suggest it) and the keys an import may match existing records on. How its rows are
written is the target's `writer`; a later kind of record (orders, subscriptions, usage)
plugs in by registering one more target with its own field map and service.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from koers.crm import normalise
from koers.crm.models import Company, Contact, LifecycleStage
from koers.crm.sbi import DIVISIONS
from koers.dataio import cleaning

# A cleaner gets the cell's text and the row's values cleaned so far (a phone number is
# read in the country that came before it); it returns the value or raises ValidationError.
Cleaner = Callable[[str, dict[str, Any]], Any]


def plain(clean: Callable[[str], Any]) -> Cleaner:
    return lambda value, _row: clean(value)


@dataclass(frozen=True)
class Field:
    name: str
    label: Promise
    clean: Cleaner
    # Column headers that mean this field, in HubSpot, Pipedrive, Salesforce and Dutch
    # spreadsheets; compared case- and punctuation-blind (see cleaning.fold).
    aliases: tuple[str, ...] = ()
    required: bool = False


# A column mapped to a custom field of the record is mapped to "custom:<name>"; the name
# is the column's header unless a saved mapping says otherwise.
CUSTOM_PREFIX = "custom:"


def custom_target(name: str) -> str:
    """The mapping of a column onto the custom field `name`."""
    return CUSTOM_PREFIX + name


def custom_name(target_name: str) -> str | None:
    """The custom field a mapping names, or None when it names a field of the target."""
    if not target_name.startswith(CUSTOM_PREFIX):
        return None
    return target_name.removeprefix(CUSTOM_PREFIX)


@dataclass(frozen=True)
class Target:
    key: str
    label: Promise
    fields: tuple[Field, ...]
    match_keys: tuple[str, ...]
    # writer(job, actor, rows, write) → BatchOutcome; see services.imports.
    writer: Callable
    # Fields a row needs at least one of, and how to say so.
    needs_one_of: tuple[str, ...] = ()
    # Whether a column may go into a custom field of the record ("custom:<name>").
    takes_custom_fields: bool = False
    folded_aliases: dict[str, str] = field(init=False, repr=False, compare=False)
    required_fields: tuple[Field, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        folded = {}
        for target_field in self.fields:
            for spelling in (target_field.name, str(target_field.label), *target_field.aliases):
                folded.setdefault(cleaning.fold(spelling), target_field.name)
        object.__setattr__(self, "folded_aliases", folded)
        object.__setattr__(
            self,
            "required_fields",
            tuple(target_field for target_field in self.fields if target_field.required),
        )

    def field(self, name: str) -> Field:
        custom = custom_name(name) if self.takes_custom_fields else None
        if custom is not None:
            return Field(
                name,
                format_lazy(_("custom field “{name}”"), name=custom),
                plain(cleaning.custom_value),
            )
        return next(target_field for target_field in self.fields if target_field.name == name)

    def knows(self, name: str) -> bool:
        """Whether a column can be mapped to `name`: a field, or a valid custom field."""
        if any(target_field.name == name for target_field in self.fields):
            return True
        custom = custom_name(name) if self.takes_custom_fields else None
        if custom is None:
            return False
        try:
            return normalise.custom_field_name(custom) == custom
        except ValidationError:
            return False

    def custom_choice(self, header: str) -> str:
        """The custom field the mapping step offers for a column: one named as its header,
        "" when the header cannot be a name (empty, or longer than 100 characters)."""
        if not self.takes_custom_fields:
            return ""
        name = custom_target(header.strip())
        return name if self.knows(name) else ""

    def suggest(self, headers: list[str]) -> list[str]:
        """The field each column most likely holds, "" where none; no field twice."""
        taken: set[str] = set()
        suggested = []
        for header in headers:
            name = self.folded_aliases.get(cleaning.fold(header), "")
            if name in taken:
                name = ""
            taken.add(name)
            suggested.append(name)
        return suggested


_TARGETS: dict[str, Target] = {}


def register(target: Target) -> None:
    _TARGETS[target.key] = target


def get(key: str) -> Target | None:
    return _TARGETS.get(key)


def all_targets() -> list[Target]:
    return list(_TARGETS.values())


def _phone(value: str, row: dict[str, Any]) -> str:
    return normalise.normalise_phone(value, region=normalise.phone_region(row.get("country", "")))


def model_text(model, name: str) -> Cleaner:
    return plain(cleaning.text(model._meta.get_field(name).max_length))


def model_name(model, name: str) -> Cleaner:
    return plain(cleaning.name(model._meta.get_field(name).max_length))


def choices_of(model, name: str, synonyms: dict[str, str] | None = None) -> Cleaner:
    return plain(cleaning.choice(model._meta.get_field(name).choices, synonyms))


# HubSpot's lifecycle stages, written as its exports spell them.
LIFECYCLE_SYNONYMS = {
    "subscriber": LifecycleStage.SUSPECT,
    "marketingqualifiedlead": LifecycleStage.MQL,
    "salesqualifiedlead": LifecycleStage.SQL,
    "evangelist": LifecycleStage.CUSTOMER,
    "klant": LifecycleStage.CUSTOMER,
    "oudklant": LifecycleStage.FORMER_CUSTOMER,
}
EMPLOYEE_BANDS = [
    (1, "1"),
    (9, "2-9"),
    (49, "10-49"),
    (99, "50-99"),
    (249, "100-249"),
    (499, "250-499"),
    (999, "500-999"),
    (10**12, "1000+"),
]
REVENUE_BANDS = [
    (999_999, "<1m"),
    (9_999_999, "1m-10m"),
    (49_999_999, "10m-50m"),
    (249_999_999, "50m-250m"),
    (10**15, ">250m"),
]


def _industry(value: str) -> str:
    """An SBI division: "62", "6201" or "62.01" (the KvK's longer codes) or its label."""
    digits = value.replace(".", "").strip()
    if digits[:2] in DIVISIONS and digits.isdigit():
        return digits[:2]
    return cleaning.choice(DIVISIONS.items())(value)


# The owner column holds a username, an email address or a full name; the writer resolves it.
def owner_cell(value: str, _row: dict[str, Any]) -> str:
    return value.casefold()


OWNER_ALIASES = (
    "eigenaar",
    "contact owner",
    "company owner",
    "account owner",
    "record owner",
    "owner name",
    "accountmanager",
    "account manager",
    "verantwoordelijke",
)
EXTERNAL_ID_ALIASES = ("id", "record id", "external id", "extern id", "externe id", "source id")

COMPANY_FIELDS = (
    Field(
        "external_id",
        _("external ID"),
        model_text(Company, "external_id"),
        (
            *EXTERNAL_ID_ALIASES,
            "company id",
            "account id",
            "organization id",
            "organisation id",
            "organization - id",
            "bedrijfsnummer",
            "relatienummer",
            "klantnummer",
        ),
    ),
    Field(
        "name",
        _("name"),
        model_name(Company, "name"),
        (
            "company name",
            "company",
            "account name",
            "organization name",
            "organisation name",
            "organization",
            "organization - name",
            "bedrijfsnaam",
            "bedrijf",
            "naam",
            "organisatie",
            "handelsnaam",
            "statutaire naam",
        ),
        required=True,
    ),
    Field("legal_form", _("legal form"), choices_of(Company, "legal_form"), ("rechtsvorm",)),
    Field(
        "country",
        _("country"),
        plain(cleaning.country),
        ("land", "country/region", "billing country", "country code", "landcode"),
    ),
    Field(
        "domain",
        _("website domain"),
        plain(normalise.normalise_domain),
        (
            "website",
            "website url",
            "domain",
            "company domain name",
            "webadres",
            "url",
            "site",
            "organization - website",
        ),
    ),
    Field(
        "kvk_number",
        _("KvK number"),
        plain(normalise.normalise_kvk_number),
        (
            "kvk",
            "kvk-nummer",
            "kvk nummer",
            "kvknr",
            "chamber of commerce number",
            "coc number",
            "handelsregisternummer",
        ),
    ),
    Field(
        "establishment_number",
        _("establishment number"),
        plain(normalise.normalise_establishment_number),
        ("vestigingsnummer", "branch number"),
    ),
    Field(
        "vat_number",
        _("VAT number"),
        lambda value, row: normalise.normalise_vat_number(value, country=row.get("country", "NL")),
        (
            "vat",
            "btw",
            "btw-nummer",
            "btw nummer",
            "btw-id",
            "btw id",
            "tax id",
            "vat id",
            "omzetbelastingnummer",
        ),
    ),
    Field(
        "industry",
        _("industry (SBI)"),
        plain(_industry),
        ("sbi", "sbi code", "sbi-code", "industry", "branche", "sector", "hoofdactiviteit"),
    ),
    Field(
        "employee_band",
        _("employees"),
        plain(cleaning.band(EMPLOYEE_BANDS, Company.EmployeeBand.choices)),
        (
            "number of employees",
            "aantal medewerkers",
            "medewerkers",
            "werknemers",
            "aantal werkzame personen",
            "employee count",
        ),
    ),
    Field(
        "revenue_band",
        _("annual revenue"),
        plain(cleaning.band(REVENUE_BANDS, Company.RevenueBand.choices)),
        ("revenue", "omzet", "jaaromzet", "annual revenue"),
    ),
    Field(
        "phone",
        _("phone"),
        _phone,
        (
            "phone number",
            "telefoon",
            "telefoonnummer",
            "tel",
            "business phone",
            "organization - phone",
        ),
    ),
    Field(
        "street",
        _("street and number"),
        model_text(Company, "street"),
        (
            "street",
            "street address",
            "address",
            "adres",
            "straat",
            "billing street",
            "straat en huisnummer",
            "bezoekadres",
        ),
    ),
    Field(
        "postcode",
        _("postcode"),
        lambda value, row: normalise.normalise_postcode(value, country=row.get("country", "NL")),
        ("postal code", "zip", "zip code", "postcode", "billing postal code", "billing zip"),
    ),
    Field(
        "city",
        _("city"),
        model_text(Company, "city"),
        ("plaats", "woonplaats", "vestigingsplaats", "stad", "billing city", "town", "city"),
    ),
    Field(
        "lifecycle_stage",
        _("lifecycle stage"),
        choices_of(Company, "lifecycle_stage", LIFECYCLE_SYNONYMS),
        ("lifecyclestage", "levensfase", "fase", "type", "status"),
    ),
    Field(
        "technologies",
        _("technologies"),
        plain(cleaning.name_list),
        (
            "technology",
            "tech stack",
            "techstack",
            "technologieën",
            "technologie",
            "software stack",
        ),
    ),
    Field("owner", _("owner"), owner_cell, OWNER_ALIASES),
    Field(
        "description",
        _("notes"),
        model_text(Company, "description"),
        ("description", "notes", "notities", "opmerkingen", "omschrijving", "about"),
    ),
)

CONTACT_FIELDS = (
    Field(
        "external_id",
        _("external ID"),
        model_text(Contact, "external_id"),
        (
            *EXTERNAL_ID_ALIASES,
            "contact id",
            "person id",
            "person - id",
            "lead id",
            "relatienummer",
            "contactnummer",
        ),
    ),
    Field(
        "first_name",
        _("first name"),
        model_name(Contact, "first_name"),
        ("firstname", "first", "given name", "voornaam", "roepnaam", "person - first name"),
    ),
    Field(
        "name_prefix",
        _("name prefix"),
        model_text(Contact, "name_prefix"),
        ("tussenvoegsel", "tussenvoegsels", "voorvoegsel", "prefix"),
    ),
    Field(
        "last_name",
        _("last name"),
        model_name(Contact, "last_name"),
        ("lastname", "surname", "family name", "achternaam", "familienaam", "person - last name"),
    ),
    Field(
        "full_name",
        _("full name"),
        plain(cleaning.name(250)),
        (
            "name",
            "naam",
            "volledige naam",
            "contact name",
            "person name",
            "person - name",
            "contactpersoon",
        ),
    ),
    Field(
        "email",
        _("email"),
        plain(normalise.normalise_email),
        (
            "email address",
            "e-mail",
            "e-mailadres",
            "emailadres",
            "e-mail adres",
            "work email",
            "email - work",
            "person - email",
            "email 1",
            "primary email",
        ),
    ),
    Field(
        "phone",
        _("phone"),
        _phone,
        (
            "phone number",
            "telefoon",
            "telefoonnummer",
            "tel",
            "business phone",
            "phone - work",
            "person - phone",
            "work phone",
            "vast nummer",
        ),
    ),
    Field(
        "mobile",
        _("mobile"),
        _phone,
        (
            "mobile phone",
            "mobile phone number",
            "mobilephone",
            "mobiel",
            "mobiel nummer",
            "mobiele telefoon",
            "gsm",
            "phone - mobile",
            "cell phone",
        ),
    ),
    Field(
        "job_title",
        _("job title"),
        model_text(Contact, "job_title"),
        ("title", "jobtitle", "functie", "functietitel", "functienaam", "position"),
    ),
    Field("function", _("function"), choices_of(Contact, "function"), ("afdeling", "department")),
    Field(
        "dmu_role", _("DMU role"), choices_of(Contact, "dmu_role"), ("dmu", "buying role", "rol")
    ),
    Field(
        "linkedin_url",
        _("LinkedIn profile"),
        model_text(Contact, "linkedin_url"),
        ("linkedin", "linkedin url", "linkedin profile url"),
    ),
    Field(
        "lifecycle_stage",
        _("lifecycle stage"),
        choices_of(Contact, "lifecycle_stage", LIFECYCLE_SYNONYMS),
        ("lifecyclestage", "levensfase", "fase", "lead status", "status"),
    ),
    Field(
        "lead_source",
        _("lead source"),
        choices_of(Contact, "lead_source"),
        ("leadsource", "original source", "source", "bron", "herkomst", "leadbron"),
    ),
    Field("owner", _("owner"), owner_cell, OWNER_ALIASES),
    Field(
        "do_not_call",
        _("do not call"),
        plain(cleaning.parse_bool),
        ("donotcall", "niet bellen", "bel-me-niet", "bel me niet", "do not call"),
    ),
    Field(
        "phone_opt_in_on",
        _("consent to calls given on"),
        plain(cleaning.parse_date),
        ("phone opt-in", "opt-in date", "toestemming bellen", "opt-in"),
    ),
    Field(
        "company_name",
        _("company name"),
        plain(cleaning.name(Company._meta.get_field("name").max_length)),
        (
            "company",
            "company name",
            "account name",
            "organization",
            "organisation",
            "organization - name",
            "bedrijf",
            "bedrijfsnaam",
            "organisatie",
            "werkgever",
        ),
    ),
    Field(
        "company_kvk_number",
        _("company KvK number"),
        plain(normalise.normalise_kvk_number),
        ("kvk", "kvk-nummer", "kvk nummer", "kvknr", "chamber of commerce number"),
    ),
)
