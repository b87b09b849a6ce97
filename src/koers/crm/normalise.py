"""Normalise and validate the identifiers a CRM record carries.

Each function takes what a person or a file gave, returns the one form Koers stores,
and raises ValidationError with a message in the user's language when the value is
not valid. An empty value stays empty. Nothing here calls the network.
"""

import hashlib
import math
import operator
import re
import unicodedata
from decimal import Decimal

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email
from stdnum import exceptions as stdnum_exceptions
from stdnum.eu import vat as eu_vat
from stdnum.nl import btw
from stdnum.nl import postcode as nl_postcode

DEFAULT_PHONE_REGION = "NL"
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def _digits(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value)


# The plain addresses nearly every row holds, accepted without the full validator (which
# takes ~40 µs each and would dominate an import); anything else goes through it.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
# Top-level names email_validator refuses as special-use (RFC 6761 and friends).
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def normalise_email(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    plain = value.lower()
    if (
        len(plain) <= 254
        and _PLAIN_EMAIL.fullmatch(plain)
        and len(plain.partition("@")[0]) <= 64
        and plain.rpartition(".")[2] not in _SPECIAL_USE_TLDS
        # "xn--" (punycode) and other labels with "--" need the full validator's IDNA rules.
        and "--" not in plain.partition("@")[2]
    ):
        return plain
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError(
            _("Enter a valid email address, such as name@company.nl."), code="invalid_email"
        ) from None
    return result.normalized.lower()


def phone_region(country: str) -> str:
    """The region whose numbering a phone number without a country code follows."""
    code = str(country or "").upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else DEFAULT_PHONE_REGION


def _valid_dutch_number_pattern():
    """Whether a 9-digit Dutch national number is valid, by phonenumbers' own metadata:
    the general description and one of the number types must match (pattern and length)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("NL")
    general = metadata.general_desc

    def matcher(desc):
        lengths = desc.possible_length or general.possible_length
        if desc.national_number_pattern is None or -1 in lengths or 9 not in lengths:
            return None
        return desc.national_number_pattern

    types = [
        matcher(getattr(metadata, name))
        for name in (
            "fixed_line",
            "mobile",
            "toll_free",
            "premium_rate",
            "shared_cost",
            "personal_number",
            "voip",
            "pager",
            "uan",
            "voicemail",
        )
        if getattr(metadata, name) is not None
    ]
    return re.compile(matcher(general)), re.compile("|".join(f"(?:{t})" for t in types if t))


_DUTCH_GENERAL, _DUTCH_TYPES = _valid_dutch_number_pattern()
_DUTCH_WRITTEN = re.compile(r"(\+31|0031|0)([1-9]\d{8})")
_PHONE_NOISE = re.compile(r"[\s.\-()/]")


def normalise_phone(value: str, *, region: str = DEFAULT_PHONE_REGION) -> str:
    """Return the number in E.164 (+31201234567); a number without a country code is read
    as one of `region` (the company's country; the Netherlands by default)."""
    value = value.strip()
    if not value:
        return ""
    # Dutch numbers as people write them are checked against the same metadata directly:
    # parsing each one with phonenumbers would dominate an import of a million rows.
    written = _DUTCH_WRITTEN.fullmatch(_PHONE_NOISE.sub("", value))
    if written and (region == "NL" or written.group(1) == "+31"):
        national = written.group(2)
        if _DUTCH_GENERAL.fullmatch(national) and _DUTCH_TYPES.fullmatch(national):
            return "+31" + national
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter a valid phone number, such as 020 123 4567 or +32 2 123 45 67."),
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_kvk_number(value: str) -> str:
    """Return the 8-digit KvK number as text, so leading zeros survive."""
    value = _digits(value.strip())
    if not value:
        return ""
    if not re.fullmatch(r"\d{8}", value):
        raise ValidationError(_("A KvK number has exactly 8 digits."), code="invalid_kvk")
    return value


def normalise_establishment_number(value: str) -> str:
    value = _digits(value.strip())
    if not value:
        return ""
    if not re.fullmatch(r"\d{12}", value):
        raise ValidationError(
            _("An establishment number (vestigingsnummer) has exactly 12 digits."),
            code="invalid_establishment_number",
        )
    return value


def normalise_vat_number(value: str, *, country: str = "NL") -> str:
    """Return a Dutch btw number as NL…B.. and other EU VAT numbers with their country prefix.

    A number without a country prefix is read as one of `country` (the company's).
    """
    value = re.sub(r"[\s.\-/]", "", value).upper()
    if not value:
        return ""
    if not value[:2].isalpha():
        country = str(country or "NL").upper()
        value = ("EL" if country == "GR" else country) + value
    try:
        if not value.startswith("NL"):
            return eu_vat.validate(value)
        return "NL" + btw.validate(value)
    except stdnum_exceptions.ValidationError:
        raise ValidationError(
            _("Enter a valid VAT number, such as NL123456789B01."), code="invalid_vat"
        ) from None


def normalise_postcode(value: str, *, country: str) -> str:
    value = " ".join(value.split()).upper()
    if not value:
        return ""
    if country == "NL":
        try:
            return nl_postcode.validate(value)
        except stdnum_exceptions.ValidationError:
            raise ValidationError(
                _("Enter a Dutch postcode: four digits and two letters, such as 1012 AB."),
                code="invalid_postcode",
            ) from None
    return value


def normalise_domain(value: str) -> str:
    """Return the bare host name of a website: 'https://www.Example.nl/contact' → 'example.nl'."""
    value = value.strip().lower()
    if not value:
        return ""
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value)
    value = value.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].rstrip(".")
    value = value.removeprefix("www.")
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        value = ""
    if not _DOMAIN.match(value):
        raise ValidationError(
            _("Enter a website domain, such as example.nl."), code="invalid_domain"
        )
    return value


# Legal forms and their spellings, ignored when names are compared: "Bakkerij Jansen B.V."
# and "bakkerij jansen" are the same company.
_LEGAL_FORM_WORDS = frozenset(
    [
        "bv",
        "nv",
        "vof",
        "cv",
        "cva",
        "bvba",
        "sprl",
        "srl",
        "sa",
        "sarl",
        "gmbh",
        "ag",
        "kg",
        "ltd",
        "limited",
        "llc",
        "inc",
        "plc",
        "eenmanszaak",
        "maatschap",
        "io",
    ]
)
_NOT_WORD = re.compile(r"[^\w]+")
_INITIAL_DOT = re.compile(r"\b(\w)\.(?=\w\.)")
# What replaces a match of _INITIAL_DOT; quicker than the template r"\1" on Python 3.11.
_first_group = operator.itemgetter(1)


def company_name_key(name: str) -> str:
    """Return the form of a company name that matching compares: case-folded, without
    accents, punctuation or legal form (B.V., N.V., VOF, GmbH …). Display names keep theirs."""
    folded = name.casefold()
    # ASCII has no accents to take off (NFKD leaves it as it is): most names, in an import.
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(char for char in folded if not unicodedata.combining(char))
    # "B.V." and "v.o.f." become one word before the legal forms are dropped.
    folded = _INITIAL_DOT.sub(_first_group, folded)
    words = [word for word in _NOT_WORD.split(folded) if word]
    kept = [word for word in words if word not in _LEGAL_FORM_WORDS]
    return " ".join(kept or words)[:200]


def suppression_key(kind: str, value: str) -> str:
    """The hash a suppression entry keeps of a normalised email address or phone number."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def suppression_keys(values) -> list[str]:
    """The hashes under which a person's (normalised) email, phone and mobile are suppressed;
    `values` maps those field names to values, such as a row or a contact's fields."""
    return [
        suppression_key(kind, values[name])
        for kind, name in (("email", "email"), ("phone", "phone"), ("phone", "mobile"))
        if values.get(name)
    ]


# The lists a company or contact keeps beside its columns: what the team knows about it
# (custom fields) and the software it runs (technologies). Imports, the API and forms all
# go through these two functions, so a record holds the same shapes whatever wrote it.
MAX_CUSTOM_FIELDS = 50
MAX_CUSTOM_FIELD_NAME = 100
MAX_CUSTOM_FIELD_TEXT = 500
# Larger numbers lose digits in JavaScript and in the float arithmetic of the models.
MAX_CUSTOM_FIELD_NUMBER = 10**15
MAX_TECHNOLOGIES = 50
MAX_TECHNOLOGY_NAME = 100
# PostgreSQL's JSON cannot hold NUL; no name or text holds the other C0 controls either.
_JSON_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# Lone surrogates: a str may hold them (JSON's "\ud800" gives one) but UTF-8 cannot, so
# no database stores them (PostgreSQL refuses the JSON).
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def shown_text(value: str) -> str:
    """A value as a message quotes it: a long one cut short, so the message stays readable,
    and a character UTF-8 cannot hold shown as �, so the message can be sent and stored."""
    value = _SURROGATE.sub("\ufffd", value)
    return value if len(value) <= 40 else value[:40] + "…"


def _plain_text(value: str, *, max_length: int) -> str:
    """Trimmed text without control characters or lone surrogates, at most `max_length`
    characters."""
    value = value.strip()
    if _JSON_CONTROL.search(value):
        raise ValidationError(_("This text holds control characters."), code="control")
    if _SURROGATE.search(value):
        raise ValidationError(
            _("This text holds characters that are not valid Unicode."), code="invalid_unicode"
        )
    if len(value) > max_length:
        raise ValidationError(
            _("Use at most %(count)d characters (this has %(length)d).")
            % {"count": max_length, "length": len(value)},
            code="max_length",
        )
    return value


def normalise_technologies(value) -> list[str]:
    """Return the technology names trimmed, each once: names that differ only in case are
    one technology, spelt as it came first."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValidationError(_("Give the technologies as a list of names."), code="invalid")
    kept: list[str] = []
    seen: set[str] = set()
    errors = []
    for item in value:
        if not isinstance(item, str):
            errors.append(_("Each technology is a name, not %(value)s.") % {"value": item})
            continue
        name = " ".join(item.split())
        try:
            name = _plain_text(name, max_length=MAX_TECHNOLOGY_NAME)
        except ValidationError as error:
            errors.append(f"“{shown_text(name)}”: {' '.join(error.messages)}")
            continue
        if not name:
            errors.append(_("A technology needs a name."))
        elif name.casefold() not in seen:
            seen.add(name.casefold())
            kept.append(name)
    if len(kept) > MAX_TECHNOLOGIES:
        errors.append(
            _("At most %(count)d technologies (this has %(given)d).")
            % {"count": MAX_TECHNOLOGIES, "given": len(kept)}
        )
    if errors:
        raise ValidationError(errors, code="invalid_technologies")
    return kept


def custom_field_name(value: str) -> str:
    """A custom field's name: trimmed text of 1 to 100 characters."""
    name = _plain_text(value if isinstance(value, str) else "", max_length=MAX_CUSTOM_FIELD_NAME)
    if not name:
        raise ValidationError(_("A custom field needs a name."), code="required")
    return name


def custom_field_value(value) -> str | int | float:
    """A custom field's value: trimmed text of at most 500 characters, or a finite number."""
    if isinstance(value, bool):  # a bool is an int to Python; to a person it is neither
        raise ValidationError(_("Use a text or a number, not yes/no."), code="invalid")
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > MAX_CUSTOM_FIELD_NUMBER:
            raise ValidationError(
                _("Use a number between -10¹⁵ and 10¹⁵."), code="number_out_of_range"
            )
        return value
    if isinstance(value, str):
        return _plain_text(value, max_length=MAX_CUSTOM_FIELD_TEXT)
    raise ValidationError(_("Use a text or a number."), code="invalid")


def normalise_custom_fields(value) -> dict[str, str | int | float]:
    """Return the custom fields (name → text or number) checked and trimmed; a field whose
    text is empty has no value and is left out."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(
            _("Give the custom fields as names, each with a text or a number."), code="invalid"
        )
    kept: dict[str, str | int | float] = {}
    errors = []
    for raw_name, raw_value in value.items():
        try:
            name = custom_field_name(raw_name)
        except ValidationError as error:
            shown = shown_text(raw_name if isinstance(raw_name, str) else str(raw_name))
            errors.append(
                _("Custom field name “%(name)s”: %(problem)s")
                % {"name": shown, "problem": " ".join(error.messages)}
            )
            continue
        if name in kept:
            errors.append(_("The custom field “%(name)s” is given twice.") % {"name": name})
            continue
        try:
            field_value = custom_field_value(raw_value)
        except ValidationError as error:
            errors.append(
                _("Custom field “%(name)s”: %(problem)s")
                % {"name": name, "problem": " ".join(error.messages)}
            )
            continue
        if field_value != "":
            kept[name] = field_value
    if len(kept) > MAX_CUSTOM_FIELDS:
        errors.append(
            _("At most %(count)d custom fields (this has %(given)d).")
            % {"count": MAX_CUSTOM_FIELDS, "given": len(kept)}
        )
    if errors:
        raise ValidationError(errors, code="invalid_custom_fields")
    return kept
