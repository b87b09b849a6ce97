"""Turn the text of one import cell into the value a field stores, or say why it cannot.

Every function takes the stripped cell text (never empty: empty cells are skipped before)
and returns the value, or raises ValidationError with a message that names what is
expected. Dutch and English spellings are both understood.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django_countries import countries

from koers.crm import normalise

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "januari", "january"),
            ("feb", "februari", "february"),
            ("mrt", "maart", "mar", "march"),
            ("apr", "april"),
            ("mei", "may"),
            ("jun", "juni", "june"),
            ("jul", "juli", "july"),
            ("aug", "augustus", "august"),
            ("sep", "sept", "september"),
            ("okt", "oktober", "oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_NUMERIC_DATE = re.compile(r"(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})")
_WRITTEN_DATE = re.compile(r"(\d{1,2})\.?\s+([a-z]+)\.?\s+(\d{4})")
_EXCEL_EPOCH = date(1899, 12, 30)
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "ja", "j", "waar", "x", "✓"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "nee", "onwaar"})
# A name that starts like a spreadsheet formula or holds markup is not a name.
_FORMULA_START = ("=", "@", "+", "-")
_MARKUP = re.compile(r"<\s*[a-z/!]", re.IGNORECASE)
# Spellings of choices a cleaner remembers; a file with more still gets each one checked.
MAX_SPELLINGS_KEPT = 1000


def fold(text: str) -> str:
    """The form in which headers and choice labels are compared: no case, accents or
    punctuation ("E-mailadres" → "emailadres")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if char.isalnum())


def text(max_length: int) -> Callable[[str], str]:
    def clean(value: str) -> str:
        if len(value) > max_length:
            raise ValidationError(
                _("Use at most %(count)d characters (this has %(length)d).")
                % {"count": max_length, "length": len(value)}
            )
        return value

    return clean


def name(max_length: int) -> Callable[[str], str]:
    """A person's or company's name: plain text, no formulas or HTML."""
    as_text = text(max_length)

    def clean(value: str) -> str:
        if value.startswith(_FORMULA_START) or _MARKUP.search(value):
            raise ValidationError(_("A name cannot be a formula or contain HTML."))
        return as_text(" ".join(value.split()))

    return clean


def parse_date(value: str) -> date:
    """Read a date as people write it: 2024-03-31, 31-03-2024, 31/03/2024, 31.03.2024,
    31 maart 2024, 20240331 or an Excel day number. Day before month, as in the
    Netherlands, unless the year comes first."""
    value = value.strip().casefold()
    try:
        if re.fullmatch(r"\d{8}", value):
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        if re.fullmatch(r"\d{5}(\.0+)?", value):  # Excel's serial day number
            return _EXCEL_EPOCH + timedelta(days=int(float(value)))
        numeric = _NUMERIC_DATE.match(value)
        if numeric:
            first, month, last = (int(part) for part in numeric.groups())
            if len(numeric.group(1)) == 4:
                return date(first, month, last)
            year = last + 2000 if last < 100 else last
            return date(year, month, first)
        written = _WRITTEN_DATE.fullmatch(value)
        if written and written.group(2) in MONTHS:
            return date(int(written.group(3)), MONTHS[written.group(2)], int(written.group(1)))
        return datetime.fromisoformat(value.upper()).date()
    except ValueError:
        pass
    raise ValidationError(_("Enter a date such as 2024-03-31, 31-03-2024 or 31 maart 2024."))


def parse_bool(value: str) -> bool:
    folded = value.strip().casefold()
    if folded in TRUE_WORDS:
        return True
    if folded in FALSE_WORDS:
        return False
    raise ValidationError(_("Enter yes or no (ja/nee, true/false, 1/0)."))


def choice(
    choices: Iterable[tuple[str, object]], synonyms: dict[str, str] | None = None
) -> Callable[[str], str]:
    """A value of a choice field, given as its code or its label in English or Dutch."""
    choices = list(choices)
    known: dict[str, str] = {fold(spelling): code for spelling, code in (synonyms or {}).items()}
    for language in ("en", "nl"):
        with override(language):
            for code, label in choices:
                known.setdefault(fold(str(label)), code)
    for code, _label in choices:
        known[fold(code)] = code
    allowed = ", ".join(code for code, _label in choices)
    # The code of each spelling met, as an import meets the same few spellings over and over.
    met: dict[str, str] = {}

    def clean(value: str) -> str:
        code = met.get(value)
        if code is not None:
            return code
        code = known.get(fold(value))
        if code is None:
            raise ValidationError(
                _("“%(value)s” is not one of the choices: %(choices)s.")
                % {"value": value[:50], "choices": allowed}
            )
        if len(met) < MAX_SPELLINGS_KEPT:
            met[value] = code
        return code

    return clean


def band(bands: list[tuple[int, str]], choices: Iterable[tuple[str, object]]) -> Callable:
    """A band field (employees, revenue) given as a band or as a plain number."""
    as_choice = choice(choices)

    def clean(value: str) -> str:
        digits = re.sub(r"[\s.,€]", "", value)
        if digits.isdigit():
            number = int(digits)
            for upper, code in bands:
                if number <= upper:
                    return code
            return bands[-1][1]
        return as_choice(value)

    return clean


def country(value: str) -> str:
    """A country as its ISO code (NL) or its name in English or Dutch."""
    if len(value) == 2 and value.upper() in countries:
        return value.upper()
    for language in ("en", "nl"):
        code = countries.by_name(value, language=language)
        if code:
            return code
    raise ValidationError(_("Enter a country as a code such as NL or BE, or its name."))


def parse_datetime(value: str) -> datetime:
    """A moment: a date as parse_date reads it, optionally followed by a time (14:30)."""
    found = re.fullmatch(
        r"(.+?)(?:[ T](\d{1,2})[:.](\d{2})(?::(\d{2}))?(?:\.\d+)?Z?)?", value.strip()
    )
    day = parse_date(found.group(1))
    hour, minute, second = (int(part or 0) for part in found.group(2, 3, 4))
    try:
        # In the installation's time zone, as people in it wrote the file.
        return datetime(
            day.year,
            day.month,
            day.day,
            hour,
            minute,
            second,
            tzinfo=timezone.get_current_timezone(),
        )
    except ValueError:
        raise ValidationError(_("Enter a time such as 14:30.")) from None


def decimal_amount(value: str) -> Decimal:
    """An amount as people write it: 1500, 1.500,50 (Dutch), 1,500.50 (English), € 1.500."""
    text = re.sub(r"[\s€$£]|EUR", "", value)
    if "," in text and "." in text:
        # Whichever comes last separates the decimals.
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        text = text.replace(thousands, "").replace(decimal_mark, ".")
    elif "," in text:
        whole, _sep, fraction = text.rpartition(",")
        text = (
            f"{whole.replace(',', '')}.{fraction}" if len(fraction) != 3 else text.replace(",", "")
        )
    elif text.count(".") > 1 or re.fullmatch(r"\d{1,3}\.\d{3}", text):
        text = text.replace(".", "")  # 1.500 is fifteen hundred in Dutch
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationError(_("Enter an amount such as 1500 or 1.500,50.")) from None
    if not amount.is_finite() or amount < 0 or amount >= 10**12:
        raise ValidationError(_("Enter an amount such as 1500 or 1.500,50."))
    return amount.quantize(Decimal("0.01"))


# A number as files write it: "5191", "-36.4", "1.5" or "1,5" (one mark, the decimal one).
# Not "+31…" or "0612…": a leading + or 0 is a phone number or a code, and stays text, as
# do numbers of more than 15 digits, which a float cannot keep.
_CUSTOM_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:[.,](\d{1,15}))?")


def custom_value(value: str) -> str | int | float:
    """The value of a custom field: a number when the cell is one, else its text."""
    value = value.strip()
    number = _CUSTOM_NUMBER.fullmatch(value)
    if number:
        if number.group(1) is None:
            return int(value)
        return float(value.replace(",", "."))
    return normalise.custom_field_value(value)


def name_list(value: str) -> list[str]:
    """Names in one cell, separated by commas or semicolons: "Exact Online; Salesforce"."""
    return normalise.normalise_technologies(
        [name for name in re.split(r"[,;]", value) if name.strip()]
    )
