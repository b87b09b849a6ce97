"""Find records that are probably the same company or person, for review and merging.

Pure functions over plain rows (tuples loaded with one `values_list` query per kind), so
the finder runs the same on 100 records or 100,000, in a request or in a benchmark.

Two steps, as record linkage does it:

1. Blocking: every record gets a few keys (its email address, the last nine digits of
   each phone number, its company with the initial of a name, a KvK number …). Only
   records that share a key are compared, which keeps the work near-linear. A block
   larger than `block_limit` (everyone at one big company, one switchboard number) is
   not compared all-pairs: its records are sorted by name and each is compared with the
   next `window` ones (sorted neighbourhood), so no block goes quadratic.
2. Scoring: the names are compared with rapidfuzz on the folded name (case, accents and
   punctuation dropped) in its own order and with the words sorted (first and last name
   swapped still match); shared identifiers add evidence, conflicting ones take it
   away. A pair scores 0–100 and carries the reasons a person reviewing it reads.
"""

import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _
from rapidfuzz.fuzz import ratio

# Pairs scoring at least this are shown for review.
THRESHOLD = 80
BLOCK_LIMIT = 40
WINDOW = 12

# Why two records look alike, as shown on the review screen.
REASONS = {
    "same_name": _("same name"),
    "similar_name": _("similar name"),
    "swapped_names": _("first and last name swapped"),
    "same_email": _("same email address"),
    "similar_email": _("same email name at another domain"),
    "same_phone": _("same phone number"),
    "same_company": _("same company"),
    "same_kvk": _("same KvK number"),
    "same_vat": _("same VAT number"),
    "same_domain": _("same website domain"),
    "same_city": _("same city"),
}

# Mailboxes shared by many people: the same address says little about the person.
GENERIC_MAILBOXES = frozenset(
    [
        "admin",
        "administratie",
        "boekhouding",
        "contact",
        "facturen",
        "factuur",
        "finance",
        "hallo",
        "hello",
        "hr",
        "info",
        "inkoop",
        "mail",
        "office",
        "post",
        "receptie",
        "sales",
        "secretariaat",
        "service",
        "support",
        "team",
        "verkoop",
    ]
)
# Mail providers: a company domain key is worthless on these.
FREE_MAIL_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.nl",
        "outlook.com",
        "live.nl",
        "live.com",
        "icloud.com",
        "yahoo.com",
        "ziggo.nl",
        "kpnmail.nl",
        "planet.nl",
        "home.nl",
        "xs4all.nl",
    ]
)
# Dutch surname prefixes: their initials would put half the country in one block.
_PREFIX_WORDS = frozenset(["van", "de", "der", "den", "het", "t", "s", "te", "ter", "ten", "in"])
_NOT_WORD = re.compile(r"[\W_]+")
_NOT_DIGIT = re.compile(r"\D+")
_MAIL_PUNCTUATION = re.compile(r"[._+-]+")

# The columns the finder reads, in order, for `values_list`.
CONTACT_COLUMNS = (
    "id",
    "first_name",
    "name_prefix",
    "last_name",
    "email",
    "phone",
    "mobile",
    "company_id",
)
COMPANY_COLUMNS = (
    "id",
    "name",
    "name_key",
    "domain",
    "kvk_number",
    "vat_number",
    "phone",
    "city_key",
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """Two records that are probably one, lowest id first."""

    first_id: int
    second_id: int
    score: int
    reasons: tuple[str, ...]

    @property
    def reason_labels(self) -> list[str]:
        return [str(REASONS[reason]) for reason in self.reasons]


@functools.lru_cache(maxsize=100_000)
def fold(text: str) -> str:
    """Case-folded words without accents or punctuation.

    ' Zoë  de Wit-Jansen' → 'zoe de wit jansen'.
    """
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(_NOT_WORD.sub(" ", text).split())


def phone_key(value: str) -> str:
    """The last nine digits of a phone number: '06-12345678', '+31 6 1234 5678' and
    '0031612345678' all give '612345678'. Empty for anything too short to be a number."""
    digits = _NOT_DIGIT.sub("", value or "")
    return digits[-9:] if len(digits) >= 8 else ""


def _mailbox(email: str) -> tuple[str, str]:
    """(the address, its mailbox name without dots) lowered; the name is empty when many
    people share it (info@) or it is too short to tell people apart."""
    email = (email or "").strip().lower()
    local, _at, _domain = email.partition("@")
    if not _at:
        return "", ""
    name = _MAIL_PUNCTUATION.sub("", local)
    return email, ("" if local in GENERIC_MAILBOXES or len(name) < 5 else name)


def _sorted_words(name: str) -> str:
    """The words in alphabetical order, without surname prefixes, which people leave out
    or put elsewhere when the names are swapped ("Vries, Jan de")."""
    return " ".join(sorted(word for word in name.split() if word not in _PREFIX_WORDS))


def _name_score(a_name: str, a_sorted: str, b_name: str, b_sorted: str) -> tuple[float, bool]:
    """(similarity 0–100, whether the words match only in another order)."""
    if not a_name or not b_name:
        return 0.0, False  # nothing to compare is not a match
    natural = ratio(a_name, b_name)
    if natural == 100 or not a_sorted or not b_sorted:
        return natural, False
    reordered = ratio(a_sorted, b_sorted)
    return max(natural, reordered), reordered >= 90 and reordered - natural >= 15


@dataclass(slots=True)
class _Person:
    id: int
    name: str  # folded "first prefix last"
    sorted_name: str
    initials_name: str  # with the first name as initials, when that matters
    is_initial: bool  # the first name is only initials ("J.", "J.P.")
    email: str
    mailbox: str
    phones: frozenset[str]
    company_id: int | None
    keys: list[str]


def _person(row: Sequence[Any]) -> _Person:
    pk, first, prefix, last, email, phone, mobile, company_id = row[:8]
    first, prefix, last = fold(first or ""), fold(prefix or ""), fold(last or "")
    name = " ".join(part for part in (first, prefix, last) if part)
    initials = "".join(word[0] for word in first.split())
    rest = " ".join(part for part in (prefix, last) if part)
    address, mailbox = _mailbox(email)
    phones = frozenset(key for key in (phone_key(phone), phone_key(mobile)) if key)
    keys = []
    if address:
        keys.append("e" + address)
    if mailbox:
        keys.append("m" + mailbox)
    keys += ["p" + key for key in phones]
    if company_id is not None:
        # Colleagues who share an initial of a name: a typo seldom hits both names, and a
        # swap keeps the same initials.
        letters = {word[0] for word in f"{first} {last}".split() if word not in _PREFIX_WORDS}
        keys += [f"c{company_id}:{letter}" for letter in letters]
    return _Person(
        id=pk,
        name=name,
        sorted_name=_sorted_words(name),
        initials_name=f"{initials} {rest}".strip(),
        is_initial=bool(first) and all(len(word) == 1 for word in first.split()),
        email=address,
        mailbox=mailbox,
        phones=phones,
        company_id=company_id,
        keys=keys,
    )


def _score_people(a: _Person, b: _Person) -> tuple[int, tuple[str, ...]] | None:
    similarity, swapped = _name_score(a.name, a.sorted_name, b.name, b.sorted_name)
    if a.is_initial or b.is_initial:
        # "J. de Vries" and "Jan de Vries": alike, but never as sure as a full name.
        similarity = max(similarity, min(95.0, ratio(a.initials_name, b.initials_name)))
    if similarity < 60:
        return None
    reasons = ["same_name" if similarity == 100 else "similar_name"]
    if swapped:
        reasons.append("swapped_names")
    evidence = 0
    if a.email and a.email == b.email:
        evidence += 30 if a.mailbox else 10
        reasons.append("same_email")
    elif a.mailbox and a.mailbox == b.mailbox:
        evidence += 10
        reasons.append("similar_email")
    same_company = a.company_id is not None and a.company_id == b.company_id
    if a.phones & b.phones:
        # Colleagues often carry the company's switchboard number.
        evidence += 10 if same_company else 20
        reasons.append("same_phone")
    if same_company:
        evidence += 15
        reasons.append("same_company")
    elif a.company_id is not None and b.company_id is not None:
        evidence -= 20
    return min(100, round(0.7 * similarity + evidence)), tuple(reasons)


@dataclass(slots=True)
class _Firm:
    id: int
    name: str  # the name key: folded, without legal form
    sorted_name: str
    words: frozenset[str]
    domain: str
    kvk: str
    vat: str
    phone: str
    city: str
    keys: list[str]


def _firm(row: Sequence[Any]) -> _Firm:
    pk, name, name_key, domain, kvk, vat, phone, city = row[:8]
    name = fold(name_key or name or "")
    domain = (domain or "").strip().lower()
    if domain in FREE_MAIL_DOMAINS:
        domain = ""
    kvk, vat, phone, city = kvk or "", (vat or "").upper(), phone_key(phone), fold(city or "")
    keys = ["k" + kvk] if kvk else []
    if vat:
        keys.append("v" + vat)
    if domain:
        keys.append("d" + domain)
    if phone:
        keys.append("p" + phone)
    if name:
        keys.append("n" + _sorted_words(name))
        keys += [f"c{city}:{word[0]}" for word in set(name.split()) if len(word) > 2]
    return _Firm(
        id=pk,
        name=name,
        sorted_name=_sorted_words(name),
        words=frozenset(name.split()),
        domain=domain,
        kvk=kvk,
        vat=vat,
        phone=phone,
        city=city,
        keys=keys,
    )


def _score_firms(a: _Firm, b: _Firm) -> tuple[int, tuple[str, ...]] | None:
    similarity, _swapped = _name_score(a.name, a.sorted_name, b.name, b.sorted_name)
    shorter, longer = sorted((a.words, b.words), key=len)
    if shorter and shorter < longer and any(len(word) > 3 for word in shorter):
        # "Jansen" and "Bakkerij Jansen": one name inside the other.
        similarity = max(similarity, 80.0)
    reasons = ["same_name" if similarity == 100 else "similar_name"] if similarity >= 80 else []
    evidence = 0
    if a.kvk and b.kvk:
        if a.kvk == b.kvk:
            evidence += 40
            reasons.append("same_kvk")
        else:
            evidence -= 40  # two legal entities
    if a.vat and a.vat == b.vat:
        evidence += 0 if "same_kvk" in reasons else 40
        reasons.append("same_vat")
    if a.domain and a.domain == b.domain:
        evidence += 30
        reasons.append("same_domain")
    if a.phone and a.phone == b.phone:
        evidence += 20
        reasons.append("same_phone")
    if a.city and b.city:
        if a.city == b.city:
            evidence += 10
            reasons.append("same_city")
        else:
            evidence -= 10
    if similarity < (30 if evidence >= 40 else 50):
        return None
    return max(0, min(100, round(0.7 * similarity + evidence))), tuple(reasons)


def _candidate_pairs(
    records: Sequence[_Person | _Firm], *, block_limit: int, window: int, also_sorted: bool
) -> set[int]:
    """Index pairs (encoded i * n + j, i < j) of the records that share a blocking key."""
    count = len(records)
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        for key in record.keys:
            blocks[key].append(index)
    pairs: set[int] = set()
    add = pairs.add
    groups = list(blocks.values())
    if also_sorted:
        # The whole set in name order: names that differ only after their first letters.
        groups.append(sorted(range(count), key=lambda index: records[index].sorted_name))
    for members in groups:
        size = len(members)
        if size < 2:
            continue
        if size > block_limit:
            members = sorted(members, key=lambda index: records[index].sorted_name)
            reach = window
        else:
            reach = size
        for position, first in enumerate(members):
            for second in members[position + 1 : position + 1 + reach]:
                if first < second:
                    add(first * count + second)
                elif second < first:
                    add(second * count + first)
    return pairs


def _find(records, score, *, threshold, block_limit, window, also_sorted) -> list[Candidate]:
    count = len(records)
    found = []
    for pair in _candidate_pairs(
        records, block_limit=block_limit, window=window, also_sorted=also_sorted
    ):
        a, b = records[pair // count], records[pair % count]
        result = score(a, b)
        if result is not None and result[0] >= threshold:
            low, high = (a.id, b.id) if a.id < b.id else (b.id, a.id)
            found.append(Candidate(low, high, result[0], result[1]))
    found.sort(key=lambda candidate: (-candidate.score, candidate.first_id, candidate.second_id))
    return found


def find_contact_duplicates(
    rows: Iterable[Sequence[Any]],
    *,
    threshold: int = THRESHOLD,
    block_limit: int = BLOCK_LIMIT,
    window: int = WINDOW,
) -> list[Candidate]:
    """The pairs of contacts (rows in CONTACT_COLUMNS order) that are probably one person,
    best first."""
    people = [_person(row) for row in rows]
    return _find(
        people,
        _score_people,
        threshold=threshold,
        block_limit=block_limit,
        window=window,
        also_sorted=False,
    )


def find_company_duplicates(
    rows: Iterable[Sequence[Any]],
    *,
    threshold: int = THRESHOLD,
    block_limit: int = BLOCK_LIMIT,
    window: int = WINDOW,
) -> list[Candidate]:
    """The pairs of companies (rows in COMPANY_COLUMNS order) that are probably one, best
    first."""
    firms = [_firm(row) for row in rows]
    return _find(
        firms,
        _score_firms,
        threshold=threshold,
        block_limit=block_limit,
        window=window,
        also_sorted=True,
    )


def score_contacts(a: Sequence[Any], b: Sequence[Any]) -> Candidate:
    """How alike two contacts (rows in CONTACT_COLUMNS order) are, for the pair page."""
    first, second = sorted((_person(a), _person(b)), key=lambda person: person.id)
    score, reasons = _score_people(first, second) or (0, ())
    return Candidate(first.id, second.id, score, reasons)


def score_companies(a: Sequence[Any], b: Sequence[Any]) -> Candidate:
    """How alike two companies (rows in COMPANY_COLUMNS order) are, for the pair page."""
    first, second = sorted((_firm(a), _firm(b)), key=lambda firm: firm.id)
    score, reasons = _score_firms(first, second) or (0, ())
    return Candidate(first.id, second.id, score, reasons)
