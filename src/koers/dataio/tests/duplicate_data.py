"""Contacts with known duplicates, generated the same for the same seed, for the duplicate
finder's acceptance test and its benchmark (bench/duplicates.py).

The people are Dutch: common surnames by rank (Zipf) and many rare ones, so there are
plenty of different people with the same name (hard for a finder: they must not be
matched). Colleagues share their company's switchboard number and its mail domain.

Each duplicate copies one original person (no original is copied twice) and changes it
the way records drift apart when two people enter them or two lists are imported:
a typo in a name, first and last name swapped, the first name as an initial; the phone
number in another format ("06-12345678" against "+31612345678") or in the other phone
field; the email address missing, in capitals, with a typo or a private one instead; the
company missing. Values are written as a careless import would: not normalised.
"""

import itertools
import random
import unicodedata
from dataclasses import dataclass, field

FIRST_NAMES = [
    "Jan", "Piet", "Kees", "Henk", "Gerrit", "Willem", "Johan", "Hans", "Peter", "Marco",
    "Jeroen", "Martijn", "Bas", "Tim", "Daan", "Sem", "Lucas", "Bram", "Thijs", "Ruben",
    "Niels", "Joost", "Wouter", "Erik", "Frank", "Rob", "Sander", "Mark", "Dennis", "Stefan",
    "Mohamed", "Ahmed", "Mehmet", "Emre", "Rajesh", "Maria", "Anna", "Johanna", "Cornelia",
    "Anja", "Monique", "Sandra", "Linda", "Marieke", "Esther", "Ingrid", "Petra", "Karin",
    "Femke", "Lotte", "Sanne", "Anouk", "Eva", "Sophie", "Emma", "Julia", "Lisa", "Fleur",
    "Iris", "Noor", "Saskia", "Els", "Ilse", "Marloes", "Renske", "Yara", "Fatima", "Aylin",
    "Zoë", "Chantal", "Nicole", "Bianca", "Wendy", "Kim", "Lieke", "Roos", "Floor", "Maud",
]  # fmt: skip
COMMON_SURNAMES = [
    ("de", "Jong"), ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"),
    ("", "Bakker"), ("", "Janssen"), ("", "Visser"), ("", "Smit"), ("", "Meijer"),
    ("de", "Boer"), ("", "Mulder"), ("de", "Groot"), ("", "Bos"), ("", "Vos"),
    ("", "Peters"), ("", "Hendriks"), ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"),
    ("de", "Wit"), ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"),
    ("van der", "Linden"), ("", "Kok"), ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"),
    ("van den", "Heuvel"), ("van der", "Veen"), ("van den", "Broek"), ("de", "Bruijn"),
    ("de", "Bruin"), ("van der", "Heijden"), ("", "Schouten"), ("van", "Beek"),
    ("", "Willems"), ("van", "Vliet"), ("van de", "Ven"), ("", "Hoekstra"), ("", "Maas"),
    ("", "Verhoeven"), ("", "Koster"), ("van", "Dam"), ("van der", "Wal"), ("", "Prins"),
    ("", "Blom"), ("", "Huisman"), ("", "Peeters"), ("de", "Jonge"), ("", "Kuipers"),
    ("van", "Veen"), ("", "Post"), ("", "Kuiper"), ("", "Veenstra"), ("", "Kramer"),
    ("", "Yılmaz"), ("", "Kaya"), ("", "Demir"), ("El", "Amrani"), ("", "Öztürk"),
    ("", "Nguyen"), ("", "Singh"), ("", "Pinas"), ("", "Wong"), ("", "Hassan"),
]  # fmt: skip
SURNAME_STEMS = [
    "Hoog", "Laag", "Groot", "Klein", "Oost", "West", "Noord", "Zuid", "Berg", "Veen",
    "Zand", "Molen", "Brug", "Kerk", "Dijk", "Water", "Wind", "Hout", "Steen", "Hof",
    "Kamp", "Broek", "Horst", "Linde", "Eik", "Beuk", "Wilg", "Riet", "Gras", "Bloem",
    "Rozen", "Vogel", "Haan", "Valk", "Wolf", "Beer", "Hert", "Zwaan", "Kraai", "Mees",
]  # fmt: skip
SURNAME_ENDINGS = [
    "man", "mans", "sma", "stra", "inga", "ink", "ing", "huis", "veld", "kamp", "dijk",
    "berg", "hof", "horst", "broek", "beek", "meer", "burg", "land", "wijk", "hout", "stein",
    "kens", "ers", "sen", "ema", "enga", "kes", "loo", "brink", "ven", "gaard",
]  # fmt: skip
COMPANY_WORDS = [
    "Techniek", "Logistiek", "Advies", "Bouw", "Installatie", "Software", "Transport",
    "Accountants", "Groothandel", "Metaal", "Zorg", "Media", "Vastgoed", "Food", "Design",
]  # fmt: skip
# City and its phone area code.
CITIES = [
    ("Amsterdam", "20"), ("Rotterdam", "10"), ("Den Haag", "70"), ("Utrecht", "30"),
    ("Eindhoven", "40"), ("Groningen", "50"), ("Tilburg", "13"), ("Almere", "36"),
    ("Breda", "76"), ("Nijmegen", "24"), ("Arnhem", "26"), ("Haarlem", "23"),
    ("Zwolle", "38"), ("Leiden", "71"), ("Maastricht", "43"), ("Delft", "15"),
]  # fmt: skip
FREE_MAIL = ["gmail.com", "hotmail.com", "outlook.com", "ziggo.nl"]
KEYBOARD_NEIGHBOURS = {
    "a": "sqz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj",
    "i": "uo", "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o",
    "r": "et", "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "y": "tu", "z": "x",
}  # fmt: skip
COMMON_SHARE = 0.18  # of people with one of the common surnames
MAX_COMPANY_SIZE = 60
WITHOUT_COMPANY = 0.05


@dataclass
class DuplicateSet:
    """Companies and contacts as plain dicts; `pairs` are index pairs into `contacts`
    (lowest first) of the duplicates made on purpose."""

    companies: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    pairs: set[tuple[int, int]] = field(default_factory=set)


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(char for char in text if char.isalnum())


class _Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        rare = [stem + ending for stem in SURNAME_STEMS for ending in SURNAME_ENDINGS]
        self.rare = rare
        self.common_weights = [1 / rank**0.4 for rank in range(1, len(COMMON_SURNAMES) + 1)]
        self.used_numbers: set[str] = set()
        self.used_emails: set[str] = set()

    def surname(self) -> tuple[str, str]:
        rng = self.rng
        if rng.random() < COMMON_SHARE:
            return rng.choices(COMMON_SURNAMES, weights=self.common_weights)[0]
        prefix = rng.choice(["", "", "", "", "van", "de", "van der", "ter"])
        return prefix, rng.choice(self.rare)

    def number(self, prefix: str, digits: int) -> str:
        while True:
            number = prefix + "".join(self.rng.choice("0123456789") for _ in range(digits))
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def landline(self, area: str) -> str:
        return self.number(f"+31{area}{self.rng.randint(2, 9)}", 8 - len(area))

    def mobile(self) -> str:
        return self.number("+316", 8)

    def companies(self, count: int) -> list[dict]:
        rng = self.rng
        rows = []
        for number in range(count):
            city, area = rng.choice(CITIES)
            name = f"{self.surname()[1]} {rng.choice(COMPANY_WORDS)} {number + 1}"
            rows.append(
                {
                    "name": name,
                    "domain": _ascii(name) + ".nl",
                    "city": city,
                    "area": area,
                    "phone": self.landline(area),
                    # A few companies are large; most have a handful of contacts.
                    "weight": min(rng.paretovariate(1.3), 12.0),
                }
            )
        return rows

    def email(self, first: str, prefix: str, last: str, domain: str) -> str:
        rng = self.rng
        first, last = _ascii(first), _ascii(prefix) + _ascii(last)
        pattern = rng.random()
        if domain in FREE_MAIL:
            return f"{first}.{last}{rng.randint(1, 99)}@{domain}"
        if pattern < 0.6:
            return f"{first}.{last}@{domain}"
        if pattern < 0.85:
            return f"{first[0]}.{last}@{domain}"
        return f"{first}{last[0]}@{domain}"

    def person(self, companies: list[dict], company: int | None) -> dict:
        rng = self.rng
        prefix, last = self.surname()
        first = rng.choice(FIRST_NAMES)
        domain = companies[company]["domain"] if company is not None else rng.choice(FREE_MAIL)
        area = companies[company]["area"] if company is not None else rng.choice(CITIES)[1]
        phone = ""
        draw = rng.random()
        if company is not None and draw < 0.2:
            phone = companies[company]["phone"]  # the switchboard
        elif draw < 0.5:
            phone = self.landline(area)
        email = ""
        if rng.random() < 0.85:
            email = self.email(first, prefix, last, domain)
            while email in self.used_emails:  # a mail server gives each person their own
                local, _at, domain = email.partition("@")
                email = f"{local}{rng.randint(2, 9)}@{domain}"
            self.used_emails.add(email)
        return {
            "first_name": first,
            "name_prefix": prefix,
            "last_name": last,
            "email": email,
            "phone": phone,
            "mobile": self.mobile() if rng.random() < 0.6 else "",
            "company": company,
        }

    # How a duplicate drifts from its original.

    def typo(self, word: str) -> str:
        rng = self.rng
        if len(word) < 3:
            return word + rng.choice("aeiou")
        # Most typos are not in the first letter.
        at = rng.randrange(len(word)) if rng.random() < 0.1 else rng.randrange(1, len(word))
        kind = rng.random()
        char = word[at]
        if kind < 0.3:
            near = KEYBOARD_NEIGHBOURS.get(char.lower(), "e")
            replacement = rng.choice(near)
            return (
                word[:at]
                + (replacement.upper() if char.isupper() else replacement)
                + word[at + 1 :]
            )
        if kind < 0.55:
            return word[:at] + word[at + 1 :]
        if kind < 0.8:
            return word[:at] + char + word[at:]  # a doubled letter
        if at == len(word) - 1:
            at -= 1
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]

    def other_format(self, e164: str) -> str:
        national = "0" + e164[3:]
        if national.startswith("06"):
            formats = [
                national[:2] + "-" + national[2:],
                f"{national[:2]} {national[2:6]} {national[6:]}",
                national,
                "+31 6 " + national[2:],
                "0031" + e164[3:],
            ]
        else:
            formats = [
                national[:3] + "-" + national[3:],
                f"{national[:3]} {national[3:6]} {national[6:]}",
                "+31 (0)" + national[1:3] + " " + national[3:],
                national,
            ]
        return self.rng.choice(formats)

    def duplicate(self, original: dict, companies: list[dict]) -> dict:
        rng = self.rng
        copy = dict(original)
        first, prefix, last = original["first_name"], original["name_prefix"], original["last_name"]
        draw = rng.random()
        if draw < 0.3:
            last = self.typo(last)
        elif draw < 0.45:
            first = self.typo(first)
        elif draw < 0.6:
            # Entered the wrong way round: "de Vries" as the first name, "Jan" as the last.
            first, prefix, last = " ".join(part for part in (prefix, last) if part), "", first
        elif draw < 0.65:
            first = first[0] + "."
        elif draw < 0.7:
            first, last = self.typo(first), self.typo(last)
        copy.update(first_name=first, name_prefix=prefix, last_name=last)
        draw = rng.random()
        if draw < 0.45:
            pass  # the same address
        elif draw < 0.5:
            copy["email"] = original["email"].upper()
        elif draw < 0.75:
            copy["email"] = ""
        elif draw < 0.85 and original["email"]:
            local, _at, domain = original["email"].partition("@")
            copy["email"] = f"{self.typo(local)}@{domain}"
        else:
            copy["email"] = self.email(first, prefix, last, rng.choice(FREE_MAIL))
        for name in ("phone", "mobile"):
            if copy[name]:
                draw = rng.random()
                if draw < 0.6:
                    copy[name] = self.other_format(copy[name])
                elif draw < 0.85:
                    copy[name] = ""
        if copy["mobile"] and not copy["phone"] and rng.random() < 0.3:
            copy["phone"], copy["mobile"] = copy["mobile"], ""  # in the other field
        if rng.random() < 0.2:
            copy["company"] = None
        return copy


def generate(*, contacts: int, duplicates: int, seed: int = 7) -> DuplicateSet:
    """`contacts` contacts of which `duplicates` copy another one, in random order."""
    generator = _Generator(seed)
    rng = generator.rng
    originals = contacts - duplicates
    companies = generator.companies(max(1, originals // 6))
    weights = list(itertools.accumulate(company["weight"] for company in companies))
    sizes = [0] * len(companies)
    names_at: set[tuple] = set()
    people = []
    while len(people) < originals:
        company = None
        if rng.random() >= WITHOUT_COMPANY:
            company = rng.choices(range(len(companies)), cum_weights=weights)[0]
            if sizes[company] >= MAX_COMPANY_SIZE:
                continue
        person = generator.person(companies, company)
        # Two colleagues of the same name would be a duplicate nobody made on purpose.
        key = (company, person["first_name"], person["name_prefix"], person["last_name"])
        if company is not None and key in names_at:
            continue
        names_at.add(key)
        if company is not None:
            sizes[company] += 1
        people.append(person)
    copied = rng.sample(range(originals), duplicates)
    rows = people + [generator.duplicate(people[index], companies) for index in copied]
    order = list(range(len(rows)))
    rng.shuffle(order)
    position = {row: place for place, row in enumerate(order)}
    dataset = DuplicateSet(companies=companies, contacts=[rows[row] for row in order])
    for number, original in enumerate(copied):
        first, second = position[original], position[originals + number]
        dataset.pairs.add((min(first, second), max(first, second)))
    return dataset


def load(dataset: DuplicateSet, *, owner, batch_size: int = 5000) -> list[int]:
    """Write the set with bulk inserts; return the contacts' ids in the set's order."""
    from koers.crm.models import Company, Contact, fold_city
    from koers.crm.normalise import company_name_key

    companies = Company.objects.bulk_create(
        [
            Company(
                name=row["name"],
                name_key=company_name_key(row["name"]),
                domain=row["domain"],
                city=row["city"],
                city_key=fold_city(row["city"]),
                phone=row["phone"],
                owner=owner,
            )
            for row in dataset.companies
        ],
        batch_size=batch_size,
    )
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                first_name=row["first_name"],
                name_prefix=row["name_prefix"],
                last_name=row["last_name"],
                email=row["email"],
                phone=row["phone"],
                mobile=row["mobile"],
                company_id=companies[row["company"]].pk if row["company"] is not None else None,
                owner=owner,
                external_id=f"dup-{index}",
            )
            for index, row in enumerate(dataset.contacts)
        ],
        batch_size=batch_size,
    )
    if contacts and contacts[0].pk is None:  # a database that returns no ids
        ids = dict(
            Contact.objects.filter(external_id__startswith="dup-").values_list("external_id", "id")
        )
        return [ids[f"dup-{index}"] for index in range(len(contacts))]
    return [contact.pk for contact in contacts]


def precision_recall(
    found: set[tuple[int, int]], expected: set[tuple[int, int]]
) -> tuple[float, float]:
    """Precision and recall of found pairs against the pairs made on purpose."""
    hits = len(found & expected)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(expected) if expected else 1.0
    return precision, recall
