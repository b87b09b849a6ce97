import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from koers.crm import normalise


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [
        ("020-123 4567", "+31201234567"),
        ("06 12345678", "+31612345678"),
        ("+31 (0)20 123 45 67", "+31201234567"),
        ("0031 10 414 1234", "+31104141234"),
        ("+32 2 555 12 12", "+3225551212"),
        ("", ""),
    ],
)
def test_phone_numbers_become_e164_with_dutch_as_default(given_value, stored):
    assert normalise.normalise_phone(given_value) == stored


@pytest.mark.parametrize("bad", ["12345", "020-12", "bel me", "+31 0000 000000"])
def test_invalid_phone_numbers_are_refused(bad):
    with pytest.raises(ValidationError) as raised:
        normalise.normalise_phone(bad)
    assert raised.value.code == "invalid_phone"


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [("01234567", "01234567"), ("1234 5678", "12345678"), ("12.34.56.78", "12345678")],
)
def test_kvk_numbers_keep_eight_digits_as_text(given_value, stored):
    assert normalise.normalise_kvk_number(given_value) == stored


@pytest.mark.parametrize("bad", ["1234567", "123456789", "1234567a"])
def test_kvk_numbers_without_eight_digits_are_refused(bad):
    with pytest.raises(ValidationError):
        normalise.normalise_kvk_number(bad)


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [
        ("NL004495445B01", "NL004495445B01"),
        ("nl 0044.95.445.B.01", "NL004495445B01"),
        ("004495445B01", "NL004495445B01"),
        ("NL002455799B11", "NL002455799B11"),  # a sole proprietor's btw-id (since 2020)
        ("BE 0403.170.701", "BE0403170701"),
        ("DE136695976", "DE136695976"),
    ],
)
def test_vat_numbers_are_checked_and_stored_compact(given_value, stored):
    assert normalise.normalise_vat_number(given_value) == stored


@pytest.mark.parametrize("bad", ["NL123456789B90", "NL12345678B01", "DE123", "XX123456789"])
def test_invalid_vat_numbers_are_refused(bad):
    with pytest.raises(ValidationError) as raised:
        normalise.normalise_vat_number(bad)
    assert raised.value.code == "invalid_vat"


def test_dutch_postcodes_get_their_standard_form():
    assert normalise.normalise_postcode("1012ab", country="NL") == "1012 AB"
    with pytest.raises(ValidationError):
        normalise.normalise_postcode("1012", country="NL")
    assert normalise.normalise_postcode("  b-1000 ", country="BE") == "B-1000"


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [
        ("https://www.Stroomlijn.nl/contact?x=1", "stroomlijn.nl"),
        ("stroomlijn.nl", "stroomlijn.nl"),
        ("http://bakker-bouw.nl:8080", "bakker-bouw.nl"),
    ],
)
def test_domains_keep_only_the_host_name(given_value, stored):
    assert normalise.normalise_domain(given_value) == stored


def test_emails_are_validated_and_lower_cased():
    assert normalise.normalise_email(" Jan.Jansen@Bakker.NL ") == "jan.jansen@bakker.nl"
    with pytest.raises(ValidationError):
        normalise.normalise_email("jan@@bakker")


@given(st.text(max_size=30))
def test_normalising_never_raises_anything_but_validation_errors(text):
    for normaliser in (
        normalise.normalise_phone,
        normalise.normalise_kvk_number,
        normalise.normalise_vat_number,
        normalise.normalise_email,
        normalise.normalise_domain,
    ):
        try:
            result = normaliser(text)
        except ValidationError:
            continue
        assert normaliser(result) == result  # a stored value stays as it is


def _by_the_libraries(kind: str, value: str, region: str = "NL") -> str | None:
    """What phonenumbers and email_validator themselves make of a value (None: invalid)."""
    import phonenumbers
    from email_validator import EmailNotValidError, validate_email

    if kind == "email":
        try:
            return validate_email(value, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            return None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _by_koers(kind: str, value: str, region: str = "NL") -> str | None:
    try:
        if kind == "email":
            return normalise.normalise_email(value)
        return normalise.normalise_phone(value, region=region)
    except ValidationError:
        return None


@given(
    prefix=st.sampled_from(["0", "+31", "0031", "+31 ", "0"]),
    digits=st.text(alphabet="0123456789", min_size=8, max_size=10),
    dash=st.integers(min_value=0, max_value=8),
    region=st.sampled_from(["NL", "BE", "DE"]),
)
def test_the_fast_path_for_dutch_numbers_agrees_with_phonenumbers(prefix, digits, dash, region):
    value = prefix + digits[:dash] + "-" + digits[dash:] if dash else prefix + digits
    assert _by_koers("phone", value, region) == _by_the_libraries("phone", value, region)


@given(
    local=st.from_regex(r"[A-Za-z0-9._%+-]{1,20}", fullmatch=True),
    domain=st.from_regex(r"[A-Za-z0-9-]{1,12}(\.[A-Za-z0-9-]{1,8}){0,2}", fullmatch=True),
    tld=st.sampled_from(["nl", "com", "be", "NL", "test", "local", "x", "museum"]),
)
def test_the_fast_path_for_plain_emails_agrees_with_email_validator(local, domain, tld):
    value = f"{local}@{domain}.{tld}"
    assert _by_koers("email", value) == _by_the_libraries("email", value)


@pytest.mark.parametrize(
    "value", ["jan@xn--mnchen-3ya.de", "a@ab--cd.nl", "a@xn--abc.nl", "Jan@Example.NL"]
)
def test_emails_with_punycode_or_double_hyphens_agree_with_email_validator(value):
    assert _by_koers("email", value) == _by_the_libraries("email", value)
