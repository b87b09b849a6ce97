"""Factories for realistic Dutch companies and contacts, shared by the tests and the demo.

Every identifier they make is valid: KvK numbers of 8 digits (some with a leading zero),
btw numbers that pass python-stdnum's check, postcodes and phone numbers of the
company's city, email addresses at the company's domain.
"""

import re
import unicodedata

import factory
import phonenumbers
from factory.random import randgen
from faker import Faker
from stdnum import exceptions as stdnum_exceptions
from stdnum.nl import btw
from stdnum.nl import postcode as nl_postcode

from koers.crm.models import Company, Contact, LifecycleStage, fold_city
from koers.crm.normalise import company_name_key

fake = Faker("nl_NL")

# City, postcode area (first two digits), phone area code, weight
CITIES = [
    ("Amsterdam", "10", "20", 14),
    ("Rotterdam", "30", "10", 10),
    ("Utrecht", "35", "30", 9),
    ("Den Haag", "25", "70", 7),
    ("Eindhoven", "56", "40", 6),
    ("Groningen", "97", "50", 4),
    ("Zwolle", "80", "38", 3),
    ("Arnhem", "68", "26", 3),
    ("Nijmegen", "65", "24", 3),
    ("Breda", "48", "76", 3),
    ("Tilburg", "50", "13", 3),
    ("'s-Hertogenbosch", "52", "73", 3),
    ("Amersfoort", "38", "33", 3),
    ("Apeldoorn", "73", "55", 2),
    ("Enschede", "75", "53", 2),
    ("Haarlem", "20", "23", 2),
    ("Leiden", "23", "71", 2),
    ("Delft", "26", "15", 2),
    ("Maastricht", "62", "43", 2),
    ("Almere", "13", "36", 2),
    ("Deventer", "74", "570", 1),
    ("Alkmaar", "18", "72", 1),
    ("Leeuwarden", "89", "58", 1),
    ("Dordrecht", "33", "78", 1),
    ("Hilversum", "12", "35", 1),
    ("Venlo", "59", "77", 1),
    ("Helmond", "57", "492", 1),
    ("Houten", "39", "30", 1),
    ("Veenendaal", "39", "318", 1),
    ("Heerenveen", "84", "513", 1),
]

PHONE_AREAS = {city: phone_area for city, _postcode, phone_area, _weight in CITIES}

# SBI division → words a Dutch company in it puts in its name
INDUSTRY_WORDS = {
    "62": ["Software", "IT", "Digital", "Cloud Solutions", "Automatisering"],
    "46": ["Groothandel", "Trading", "Handelsonderneming", "Import"],
    "69": ["Accountants", "Advocaten", "Belastingadviseurs", "Administratiekantoor"],
    "70": ["Consultancy", "Advies", "Management Partners"],
    "71": ["Ingenieursbureau", "Architecten", "Engineering"],
    "41": ["Bouw", "Bouwbedrijf", "Projectontwikkeling"],
    "43": ["Installatietechniek", "Elektrotechniek", "Dakwerken", "Klimaattechniek"],
    "25": ["Metaalbewerking", "Staalbouw", "Constructiewerken"],
    "28": ["Machinebouw", "Machinefabriek", "Industrial Systems"],
    "49": ["Transport", "Logistiek", "Expeditie"],
    "52": ["Warehousing", "Distributie", "Logistics"],
    "86": ["Zorggroep", "Fysiotherapie", "Medisch Centrum"],
    "85": ["Opleidingen", "Academy", "Trainingen"],
    "73": ["Marketing", "Reclamebureau", "Communicatie"],
    "78": ["Uitzendbureau", "Detachering", "Recruitment"],
    "10": ["Bakkerij", "Foods", "Vleeswaren"],
    "47": ["Retail", "Winkels", "Webwinkel"],
    "64": ["Financieringen", "Capital", "Investments"],
    "68": ["Vastgoed", "Makelaardij", "Vastgoedbeheer"],
    "82": ["Services", "Office Support", "Klantcontact"],
}
REGION_WORDS = [
    "Noord",
    "Zuid",
    "Delta",
    "Rijn",
    "Maas",
    "Polder",
    "Veluwe",
    "Kempen",
    "Twente",
    "Gooi",
    "Duin",
    "Eem",
]

LEGAL_FORMS = [
    (Company.LegalForm.BV, 70),
    (Company.LegalForm.SOLE_PROPRIETOR, 8),
    (Company.LegalForm.VOF, 6),
    (Company.LegalForm.FOUNDATION, 6),
    (Company.LegalForm.NV, 2),
    (Company.LegalForm.COOPERATIVE, 2),
    (Company.LegalForm.ASSOCIATION, 2),
    (Company.LegalForm.PARTNERSHIP, 4),
]
NAME_SUFFIX = {
    Company.LegalForm.BV: "B.V.",
    Company.LegalForm.NV: "N.V.",
    Company.LegalForm.VOF: "V.O.F.",
}
EMPLOYEE_BANDS = [
    (Company.EmployeeBand.ONE, 6),
    (Company.EmployeeBand.TWO_TO_NINE, 22),
    (Company.EmployeeBand.TEN_TO_49, 30),
    (Company.EmployeeBand.FIFTY_TO_99, 16),
    (Company.EmployeeBand.HUNDRED_TO_249, 13),
    (Company.EmployeeBand.TWO_FIFTY_TO_499, 7),
    (Company.EmployeeBand.FIVE_HUNDRED_TO_999, 4),
    (Company.EmployeeBand.THOUSAND_PLUS, 2),
]
# Revenue follows size: the index into RevenueBand by employee band.
REVENUE_BY_SIZE = {
    "1": 0,
    "2-9": 0,
    "10-49": 1,
    "50-99": 1,
    "100-249": 2,
    "250-499": 3,
    "500-999": 3,
    "1000+": 4,
}
COMPANY_STAGES = [
    (LifecycleStage.SUSPECT, 14),
    (LifecycleStage.PROSPECT, 30),
    (LifecycleStage.LEAD, 14),
    (LifecycleStage.MQL, 7),
    (LifecycleStage.SQL, 6),
    (LifecycleStage.OPPORTUNITY, 8),
    (LifecycleStage.CUSTOMER, 17),
    (LifecycleStage.FORMER_CUSTOMER, 4),
]

# Function → (job titles, likely DMU roles)
FUNCTIONS = {
    Contact.Function.CEO: (
        ["Algemeen directeur", "Directeur-eigenaar", "CEO", "Managing director"],
        [Contact.DMURole.DECISION_MAKER],
    ),
    Contact.Function.CFO: (
        ["Financieel directeur", "Controller", "CFO", "Hoofd financiën"],
        [Contact.DMURole.ECONOMIC_BUYER, Contact.DMURole.DECISION_MAKER],
    ),
    Contact.Function.CMO: (
        ["Marketingmanager", "Hoofd marketing", "CMO", "Commercieel directeur"],
        [Contact.DMURole.CHAMPION, Contact.DMURole.INFLUENCER],
    ),
    Contact.Function.CIO: (
        ["IT-manager", "CIO", "Hoofd ICT", "Informatiemanager"],
        [Contact.DMURole.INFLUENCER, Contact.DMURole.CHAMPION, Contact.DMURole.BLOCKER],
    ),
    Contact.Function.PROCUREMENT: (
        ["Inkoper", "Hoofd inkoop", "Category manager"],
        [Contact.DMURole.GATEKEEPER, Contact.DMURole.ECONOMIC_BUYER],
    ),
    Contact.Function.BOARD_ADVISER: (
        ["Lid raad van advies", "Commissaris", "Adviseur directie"],
        [Contact.DMURole.INFLUENCER],
    ),
    Contact.Function.OTHER: (
        [
            "Operationeel manager",
            "Office manager",
            "Projectleider",
            "Salesmanager",
            "HR-manager",
            "Planner",
        ],
        [Contact.DMURole.USER, Contact.DMURole.INFLUENCER, Contact.DMURole.CHAMPION, ""],
    ),
}
FUNCTION_WEIGHTS = [
    (Contact.Function.CEO, 18),
    (Contact.Function.CFO, 12),
    (Contact.Function.CMO, 10),
    (Contact.Function.CIO, 12),
    (Contact.Function.PROCUREMENT, 8),
    (Contact.Function.BOARD_ADVISER, 3),
    (Contact.Function.OTHER, 37),
]
NAME_PREFIXES = (
    "van der",
    "van den",
    "van de",
    "van 't",
    "in 't",
    "van",
    "de",
    "den",
    "der",
    "ter",
    "te",
    "'t",
    "'s",
)


def weighted(choices: list[tuple]) -> object:
    values, weights = zip(*choices, strict=True)
    return randgen.choices(values, weights=weights)[0]


def split_prefix(last_name: str) -> tuple[str, str]:
    """Split a Dutch surname into its prefix (tussenvoegsel) and the name: 'van Dijk' → ('van', 'Dijk')."""
    lowered = last_name.lower()
    for prefix in NAME_PREFIXES:
        if lowered.startswith(prefix + " "):
            return last_name[: len(prefix)], last_name[len(prefix) + 1 :]
    return "", last_name


def ascii_slug(text: str, separator: str = "") -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", separator, text.lower()).strip(separator)


def kvk_number() -> str:
    # About one in ten older registrations starts with a zero; text keeps it.
    first = "0" if randgen.random() < 0.1 else str(randgen.randint(1, 9))
    return first + "".join(str(randgen.randint(0, 9)) for _ in range(7))


def vat_number() -> str:
    """A Dutch btw number built on an RSIN that passes the eleven test."""
    while True:
        digits = [randgen.randint(0, 9) for _ in range(8)]
        check = sum(d * (9 - i) for i, d in enumerate(digits)) % 11
        if check < 10:
            number = "NL" + "".join(map(str, digits)) + str(check) + "B01"
            if btw.is_valid(number):
                return number


def city_with_codes() -> tuple[str, str, str]:
    city, postcode_area, phone_area, _weight = randgen.choices(
        CITIES, weights=[row[3] for row in CITIES]
    )[0]
    return city, postcode_area, phone_area


def postcode(area: str) -> str:
    while True:
        candidate = f"{area}{randgen.randint(0, 99):02d} {''.join(randgen.choices('ABCEGHJKLMNPRTVWXZ', k=2))}"
        try:
            return nl_postcode.validate(candidate)
        except stdnum_exceptions.ValidationError:
            continue


def landline(area: str) -> str:
    """An E.164 Dutch landline in the given area code."""
    while True:
        local = "".join(str(randgen.randint(0, 9)) for _ in range(9 - len(area)))
        number = phonenumbers.parse(f"0{area}{randgen.randint(2, 9)}{local[1:]}", "NL")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mobile() -> str:
    return "+316" + "".join(str(randgen.randint(0, 9)) for _ in range(8))


def company_name(industry: str, legal_form: str) -> str:
    word = randgen.choice(INDUSTRY_WORDS.get(industry, ["Groep"]))
    base = randgen.choice(
        [
            split_prefix(fake.last_name())[1],
            randgen.choice(REGION_WORDS),
            f"{split_prefix(fake.last_name())[1]} & {split_prefix(fake.last_name())[1]}",
        ]
    )
    name = f"{base} {word}"
    suffix = NAME_SUFFIX.get(legal_form)
    return f"{name} {suffix}" if suffix and randgen.random() < 0.7 else name


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        exclude = ["place"]

    place = factory.LazyFunction(city_with_codes)
    legal_form = factory.LazyFunction(lambda: weighted(LEGAL_FORMS))
    industry = factory.LazyFunction(lambda: randgen.choice(list(INDUSTRY_WORDS)))
    name = factory.LazyAttribute(lambda company: company_name(company.industry, company.legal_form))
    domain = factory.LazyAttribute(
        lambda company: ascii_slug(re.sub(r"\b(B\.V\.|N\.V\.|V\.O\.F\.)", "", company.name)) + ".nl"
    )
    kvk_number = factory.LazyFunction(kvk_number)
    vat_number = factory.LazyFunction(vat_number)
    employee_band = factory.LazyFunction(lambda: weighted(EMPLOYEE_BANDS))
    revenue_band = factory.LazyAttribute(
        lambda company: Company.RevenueBand.values[REVENUE_BY_SIZE[company.employee_band]]
    )
    street = factory.LazyFunction(lambda: f"{fake.street_name()} {randgen.randint(1, 250)}")
    city = factory.LazyAttribute(lambda company: company.place[0])
    city_key = factory.LazyAttribute(lambda company: fold_city(company.city))
    name_key = factory.LazyAttribute(lambda company: company_name_key(company.name))
    postcode = factory.LazyAttribute(lambda company: postcode(company.place[1]))
    phone = factory.LazyAttribute(lambda company: landline(company.place[2]))
    country = "NL"
    lifecycle_stage = factory.LazyFunction(lambda: weighted(COMPANY_STAGES))


def _contact_stage(company: Company | None) -> str:
    if company is None:
        return LifecycleStage.LEAD
    if company.lifecycle_stage in (LifecycleStage.CUSTOMER, LifecycleStage.FORMER_CUSTOMER):
        return company.lifecycle_stage
    if company.lifecycle_stage == LifecycleStage.OPPORTUNITY:
        return randgen.choice([LifecycleStage.OPPORTUNITY, LifecycleStage.SQL])
    return randgen.choice(
        [
            company.lifecycle_stage,
            LifecycleStage.SUSPECT,
            LifecycleStage.PROSPECT,
            LifecycleStage.LEAD,
        ]
    )


def _email(contact) -> str:
    prefix = contact.name_prefix.replace(" ", "").replace("'", "")
    local = ascii_slug(f"{contact.first_name}.{prefix}{contact.last_name}", ".")
    domain = (
        contact.company.domain if contact.company else randgen.choice(["gmail.com", "outlook.com"])
    )
    return f"{local}@{domain}"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        exclude = ["full_last_name"]

    company = factory.SubFactory(CompanyFactory)
    first_name = factory.Faker("first_name", locale="nl_NL")
    full_last_name = factory.Faker("last_name", locale="nl_NL")
    name_prefix = factory.LazyAttribute(lambda contact: split_prefix(contact.full_last_name)[0])
    last_name = factory.LazyAttribute(lambda contact: split_prefix(contact.full_last_name)[1])
    email = factory.LazyAttribute(_email)
    function = factory.LazyFunction(lambda: weighted(FUNCTION_WEIGHTS))
    job_title = factory.LazyAttribute(
        lambda contact: randgen.choice(FUNCTIONS[contact.function][0])
    )
    dmu_role = factory.LazyAttribute(lambda contact: randgen.choice(FUNCTIONS[contact.function][1]))
    phone = factory.LazyAttribute(
        lambda contact: (
            landline(PHONE_AREAS[contact.company.city])
            if contact.company and contact.company.city in PHONE_AREAS
            else ""
        )
    )
    mobile = factory.LazyFunction(lambda: mobile() if randgen.random() < 0.6 else "")
    lifecycle_stage = factory.LazyAttribute(lambda contact: _contact_stage(contact.company))
    lead_source = factory.LazyFunction(lambda: randgen.choice(Contact.LeadSource.values))
    owner = factory.LazyAttribute(
        lambda contact: contact.company.owner if contact.company else None
    )
