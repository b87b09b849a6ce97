"""The Ideal Customer Profile fit: how closely a company matches the profile's criteria.

A company's fit is round(100 × clamp(S, 0, P) / P), where S is the sum of the weights of
the criteria it matches and P what an ideal company earns. A company has one industry,
employee band, revenue band, country, region and value per custom field, so criteria on
one of these exclude each other: each adds only its largest positive weight to P. A company
may use several technologies, so every positive technology weight adds to P. Two
overlapping criteria that both match may make S exceed P; the score then stays at 100.
Without positive weight there is no fit. The matching below is pure (plain values in, a
verdict out), so the recompute of every company, the one-company update and the company
page agree.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries

from koers.core.models import AuditEntry, User
from koers.core.services import audit_diff, audit_record
from koers.crm import sbi
from koers.crm.models import Company
from koers.scoring import jobs
from koers.scoring.models import CompanyFit, IcpCriterion, ScoringJob
from koers.scoring.services import may_change_scoring

Attribute = IcpCriterion.Attribute

# Grades by score: A from 75, B from 50, C from 25, else D.
GRADES = (("A", 75), ("B", 50), ("C", 25), ("D", 0))
WEIGHT = (-10, 10)
BATCH = 2_000
# What the engine reads of a company, in this order (values_list keeps the recompute light).
FACT_FIELDS = (
    "pk",
    "industry",
    "employee_band",
    "revenue_band",
    "country",
    "postcode",
    "technologies",
    "custom_fields",
)
# Attributes whose values come from a fixed list; the others are free text.
CHOICE_ATTRIBUTES = {
    Attribute.INDUSTRY: lambda: sbi.DIVISIONS,
    Attribute.EMPLOYEE_BAND: lambda: dict(Company.EmployeeBand.choices),
    Attribute.REVENUE_BAND: lambda: dict(Company.RevenueBand.choices),
    Attribute.COUNTRY: lambda: dict(countries),
}
POSTCODE = re.compile(r"[1-9][0-9]{3}(?:[A-Za-z]{2})?")
REGION = re.compile(r"[1-9][0-9]")


# The engine: plain values in, a verdict out.


@dataclass(frozen=True, slots=True)
class Facts:
    """What the profile looks at in one company."""

    pk: int | None
    industry: str
    employee_band: str
    revenue_band: str
    country: str
    region: str
    technologies: frozenset[str]  # case-folded
    custom_fields: dict[str, Any]


def region_of(postcode: str, country: str = "NL") -> str:
    """The postcode area (its first two digits) of a Dutch postcode, else ''."""
    compact = (postcode or "").replace(" ", "")
    if str(country or "NL").upper() != "NL" or not POSTCODE.fullmatch(compact):
        return ""
    return compact[:2]


def fold(value: Any) -> str:
    """A text or number as case-insensitive text: 'Exact Online' and 'EXACT online' agree,
    and so do the number 12 and the text '12'."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().casefold()


def number_of(value: Any) -> float | None:
    """A custom field's value as a number, or None: 12, 12.5, '12' and '12,5' count."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def facts_from_row(row: tuple) -> Facts:
    pk, industry, employee_band, revenue_band, country, postcode, technologies, custom = row
    return Facts(
        pk=pk,
        industry=industry or "",
        employee_band=employee_band or "",
        revenue_band=revenue_band or "",
        country=str(country or ""),
        region=region_of(postcode, str(country or "")),
        technologies=frozenset(
            fold(name) for name in (technologies or []) if isinstance(name, str) and name.strip()
        ),
        custom_fields=custom if isinstance(custom, dict) else {},
    )


def facts_of(company: Company) -> Facts:
    return facts_from_row(tuple(getattr(company, name) for name in FACT_FIELDS))


@dataclass(frozen=True)
class Rule:
    """One criterion, ready to match: case-insensitive values folded once."""

    criterion: IcpCriterion | None
    attribute: str
    field: str
    values: frozenset[str]
    minimum: float | None
    maximum: float | None
    weight: int

    @classmethod
    def of(cls, criterion: IcpCriterion) -> "Rule":
        folded = criterion.attribute in (Attribute.TECHNOLOGY, Attribute.CUSTOM)
        return cls(
            criterion,
            criterion.attribute,
            criterion.field,
            frozenset(fold(value) if folded else str(value) for value in criterion.values or []),
            criterion.minimum,
            criterion.maximum,
            criterion.weight,
        )

    @property
    def is_range(self) -> bool:
        return self.minimum is not None or self.maximum is not None

    def matches(self, facts: Facts) -> bool:
        attribute = self.attribute
        if attribute == Attribute.TECHNOLOGY:
            return not self.values.isdisjoint(facts.technologies)
        if attribute == Attribute.CUSTOM:
            if self.field not in facts.custom_fields:
                return False
            value = facts.custom_fields[self.field]
            if self.is_range:
                number = number_of(value)
                return (
                    number is not None
                    and (self.minimum is None or number >= self.minimum)
                    and (self.maximum is None or number <= self.maximum)
                )
            return value is not None and fold(value) in self.values
        value = getattr(facts, attribute, "")
        return bool(value) and value in self.values


def fit_score(weights: Iterable[int], *, positive: int) -> int:
    """round(100 × clamp(S, 0, P) / P) for the matched weights S and an ideal company's
    weight P, halves rounded up, in whole numbers (no float)."""
    earned = min(max(sum(weights), 0), positive)
    return (200 * earned + positive) // (2 * positive)


def grade_of(score: int) -> str:
    return next(grade for grade, lowest in GRADES if score >= lowest)


@dataclass(frozen=True)
class Profile:
    rules: tuple[Rule, ...]

    @cached_property
    def positive_weight(self) -> int:
        """What an ideal company earns (P): per single-valued attribute, and per custom
        field, its largest positive weight; for technology, every positive weight."""
        technology, best = 0, {}
        for rule in self.rules:
            if rule.weight <= 0:
                continue
            if rule.attribute == Attribute.TECHNOLOGY:
                technology += rule.weight
            else:
                field = rule.field if rule.attribute == Attribute.CUSTOM else ""
                key = (rule.attribute, field)
                best[key] = max(best.get(key, 0), rule.weight)
        return technology + sum(best.values())

    @property
    def gives_fit(self) -> bool:
        return self.positive_weight > 0

    def matched(self, facts: Facts) -> list[Rule]:
        return [rule for rule in self.rules if rule.matches(facts)]

    def score(self, facts: Facts) -> int | None:
        """The company's fit, 0–100, or None when the profile has no positive weight."""
        if not self.gives_fit:
            return None
        return fit_score(
            (rule.weight for rule in self.matched(facts)), positive=self.positive_weight
        )


def profile_load() -> Profile:
    return Profile(tuple(Rule.of(criterion) for criterion in IcpCriterion.objects.all()))


# Words for people: what a criterion asks and which value a company has.


def value_label(attribute: str, value: str) -> str:
    """One value as a person reads it: 'Software (62)', '10–49', 'Netherlands'."""
    if attribute == Attribute.INDUSTRY:
        label = sbi.DIVISIONS.get(value)
        return f"{label} ({value})" if label else value
    if attribute in CHOICE_ATTRIBUTES:
        return str(CHOICE_ATTRIBUTES[attribute]().get(value, value))
    return str(value)


def _number_text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def criterion_values_label(criterion: IcpCriterion) -> str:
    """What fits, in words: 'Software (62) or Wholesale (46)', 'from 10 to 50'."""
    if criterion.attribute == Attribute.CUSTOM and (
        criterion.minimum is not None or criterion.maximum is not None
    ):
        low, high = criterion.minimum, criterion.maximum
        if low is not None and high is not None:
            return _("from %(low)s to %(high)s") % {
                "low": _number_text(low),
                "high": _number_text(high),
            }
        if low is not None:
            return _("at least %(low)s") % {"low": _number_text(low)}
        return _("at most %(high)s") % {"high": _number_text(high)}
    labels = [value_label(criterion.attribute, value) for value in criterion.values or []]
    if len(labels) <= 1:
        return "".join(labels)
    return _("%(list)s or %(last)s") % {"list": ", ".join(labels[:-1]), "last": labels[-1]}


def criterion_attribute_label(criterion: IcpCriterion) -> str:
    if criterion.attribute == Attribute.CUSTOM:
        return _("Custom field “%(name)s”") % {"name": criterion.field}
    return str(criterion.get_attribute_display())


@dataclass(frozen=True)
class Reason:
    """One criterion as the company page tells it."""

    attribute: str
    values: str
    weight: int
    matched: bool


@dataclass(frozen=True)
class Explained:
    score: int | None
    grade: str
    positive_weight: int  # what an ideal company earns (P)
    earned: int  # the matched weights (S); may be below 0 or above P
    reasons: list[Reason]


def fit_explained(company: Company) -> Explained:
    """The company's fit by the current profile, with every criterion and whether it matched."""
    profile = profile_load()
    facts = facts_of(company)
    score = profile.score(facts)
    reasons = [
        Reason(
            criterion_attribute_label(rule.criterion),
            criterion_values_label(rule.criterion),
            rule.weight,
            rule.matches(facts),
        )
        for rule in profile.rules
    ]
    return Explained(
        score=score,
        grade=grade_of(score) if score is not None else "",
        positive_weight=profile.positive_weight,
        earned=sum(reason.weight for reason in reasons if reason.matched),
        reasons=reasons,
    )


# Computing and storing fits.


def _fits_write(profile: Profile, rows: list[tuple], *, at) -> int:
    fits = []
    for row in rows:
        score = profile.score(facts_from_row(row))
        fits.append(
            CompanyFit(company_id=row[0], score=score, grade=grade_of(score), computed_at=at)
        )
    CompanyFit.objects.bulk_create(
        fits,
        update_conflicts=True,
        unique_fields=["company"],
        update_fields=["score", "grade", "computed_at"],
    )
    return len(fits)


def _in_batches(companies, profile: Profile, report: jobs.Report | None = None) -> int:
    """Fit the companies in primary-key batches; returns how many were fitted."""
    total = companies.count() if report else 0
    if report:
        report(0, total)
    done, last = 0, 0
    while True:
        at = timezone.now()  # before reading: a change made meanwhile stays "stale"
        rows = list(companies.filter(pk__gt=last).order_by("pk").values_list(*FACT_FIELDS)[:BATCH])
        if not rows:
            return done
        done += _fits_write(profile, rows, at=at)
        last = rows[-1][0]
        if report:
            total = max(total, done)
            report(done, total)


def fits_recompute(report: jobs.Report | None = None) -> str:
    """Fit every live company to the current profile (a job's work: reports progress and
    returns the closing message). Without positive weight, every fit is removed."""
    profile = profile_load()
    if not profile.gives_fit:
        CompanyFit.objects.all().delete()
        if report:
            report(0, 0)
        return _("The profile has no positive weight, so no company has a fit score.")
    done = _in_batches(Company.objects.filter(deleted_at__isnull=True), profile, report)
    # A company in the trash keeps no fit; if it comes back, the refresh fits it again.
    CompanyFit.objects.filter(company__deleted_at__isnull=False).delete()
    return ngettext(
        "%(count)d company has its fit score.", "%(count)d companies have their fit score.", done
    ) % {"count": done}


def fits_refresh_stale() -> int:
    """Fit the live companies with no fit or changed since their fit was computed, as after
    a bulk import (which announces no events). Returns how many were fitted."""
    profile = profile_load()
    if not profile.gives_fit:
        return 0
    stale = Company.objects.filter(deleted_at__isnull=True).filter(
        Q(fit__isnull=True) | Q(updated_at__gt=F("fit__computed_at"))
    )
    return _in_batches(stale, profile)


def company_fit_update(*, company_id: int) -> CompanyFit | None:
    """Fit one company afresh (after it changed); None when it has no fit."""
    profile = profile_load()
    row = (
        Company.objects.filter(pk=company_id, deleted_at__isnull=True)
        .values_list(*FACT_FIELDS)
        .first()
    )
    if row is None or not profile.gives_fit:
        CompanyFit.objects.filter(company_id=company_id).delete()
        return None
    _fits_write(profile, [row], at=timezone.now())
    return CompanyFit.objects.get(company_id=company_id)


# A company moved to the trash loses its fit (company_fit_update finds it no longer live),
# so the priority matrix and the fit filter stop counting it; restored, it is fitted again.
FIT_EVENTS = {"company.created", "company.updated", "company.deleted", "company.restored"}


def on_company_event(name: str, record, payload: dict) -> None:
    """Listener of core events: a company that was added, changed, trashed or restored is
    fitted again (a trashed one has no fit)."""
    if name in FIT_EVENTS:
        company_fit_update(company_id=record.pk)


# Changing the profile. Admins, managers and marketing do it; every change refits all.

CRITERION_FIELDS = ["attribute", "field", "values", "minimum", "maximum", "weight"]


def check_may_change_icp(user: User) -> None:
    if not may_change_scoring(user):
        raise PermissionDenied(
            _("Only admins, managers and marketing may change the ideal customer profile.")
        )


def fits_recompute_queue(*, actor: User | None) -> ScoringJob:
    """Start a fit job for every company, queued once the current transaction commits."""
    from koers.scoring import tasks

    job = jobs.job_create(kind=ScoringJob.Kind.FIT, actor=actor)
    transaction.on_commit(lambda: tasks.fits_recompute(job.pk))
    return job


def _text_values(values: Iterable[Any]) -> list[str]:
    """Stripped, non-empty, each once (case-insensitively), in the order given."""
    seen, kept = set(), []
    for value in values:
        text = str(value).strip()
        if text and fold(text) not in seen:
            seen.add(fold(text))
            kept.append(text)
    return kept


def criterion_clean(
    *,
    attribute: str,
    weight: int,
    values: Iterable[Any] = (),
    field: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
) -> dict[str, Any]:
    """A criterion's fields, normalised; a ValidationError names every field in error."""
    errors: dict[str, str] = {}
    values = _text_values(values or [])
    field = (field or "").strip()
    if attribute not in Attribute.values:
        errors["attribute"] = _("Choose what the criterion looks at.")
    if not isinstance(weight, int) or not WEIGHT[0] <= weight <= WEIGHT[1] or weight == 0:
        errors["weight"] = _(
            "Give a weight from -10 to 10 other than 0: positive for a good fit, "
            "negative for a poor one."
        )
    if attribute == Attribute.CUSTOM:
        if not field:
            errors["field"] = _("Give the name of the custom field.")
        if minimum is not None and maximum is not None and minimum > maximum:
            errors["maximum"] = _("The upper bound is below the lower bound.")
        if minimum is not None or maximum is not None:
            values = []
    else:
        field, minimum, maximum = "", None, None
    if attribute in CHOICE_ATTRIBUTES:
        if attribute == Attribute.COUNTRY:
            values = [value.upper() for value in values]
        known = CHOICE_ATTRIBUTES[attribute]()
        unknown = [value for value in values if value not in known]
        if unknown:
            errors["values"] = _("Unknown value: %(values)s.") % {"values": ", ".join(unknown)}
    if attribute == Attribute.REGION:
        wrong = [value for value in values if not REGION.fullmatch(value)]
        if wrong:
            errors["values"] = _(
                "Give postcode areas as two digits, such as 10 for Amsterdam or 35 for "
                "Utrecht: %(values)s is not one."
            ) % {"values": ", ".join(wrong)}
    if not values and minimum is None and maximum is None and "values" not in errors:
        errors["values"] = (
            _("Give at least one value, or a lower or upper bound.")
            if attribute == Attribute.CUSTOM
            else _("Give at least one value that fits.")
        )
    if errors:
        raise ValidationError(errors)
    return {
        "attribute": attribute,
        "field": field,
        "values": values,
        "minimum": minimum,
        "maximum": maximum,
        "weight": weight,
    }


def _snapshot(criterion: IcpCriterion) -> dict[str, Any]:
    return {name: getattr(criterion, name) for name in CRITERION_FIELDS}


@transaction.atomic
def criterion_create(*, actor: User, **fields: Any) -> IcpCriterion:
    """Add a criterion to the profile (the fields of criterion_clean); every company is
    fitted again."""
    check_may_change_icp(actor)
    cleaned = criterion_clean(**fields)
    criterion = IcpCriterion.objects.create(**cleaned)
    _audit_created(actor, criterion)
    fits_recompute_queue(actor=actor)
    return criterion


@transaction.atomic
def criterion_update(*, actor: User, criterion: IcpCriterion, **fields: Any) -> IcpCriterion:
    """Change a criterion; when anything changed, every company is fitted again."""
    check_may_change_icp(actor)
    cleaned = criterion_clean(**fields)
    before = _snapshot(criterion)
    for name, value in cleaned.items():
        setattr(criterion, name, value)
    changes = audit_diff(before, _snapshot(criterion))
    if not changes:
        return criterion
    criterion.save(update_fields=list(changes))
    audit_record(actor=actor, action=AuditEntry.Action.UPDATED, instance=criterion, changes=changes)
    fits_recompute_queue(actor=actor)
    return criterion


def _audit_created(actor: User, criterion: IcpCriterion) -> None:
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATED,
        instance=criterion,
        changes=audit_diff({}, _snapshot(criterion)),
    )


def _audit_deleted(actor: User, criterion: IcpCriterion) -> None:
    audit_record(
        actor=actor,
        action=AuditEntry.Action.DELETED,
        instance=criterion,
        changes={name: [value, None] for name, value in _snapshot(criterion).items()},
    )


@transaction.atomic
def criterion_delete(*, actor: User, criterion: IcpCriterion) -> None:
    """Remove a criterion from the profile; every company is fitted again."""
    check_may_change_icp(actor)
    _audit_deleted(actor, criterion)
    criterion.delete()
    fits_recompute_queue(actor=actor)


@transaction.atomic
def criteria_replace(*, actor: User, criteria: list[dict[str, Any]]) -> ScoringJob:
    """Replace the whole profile (such as by learned weights) and fit every company again.
    Each item holds criterion_clean's keyword arguments."""
    check_may_change_icp(actor)
    cleaned = [criterion_clean(**item) for item in criteria]
    for criterion in IcpCriterion.objects.all():
        _audit_deleted(actor, criterion)
    IcpCriterion.objects.all().delete()
    for fields in cleaned:
        _audit_created(actor, IcpCriterion.objects.create(**fields))
    return fits_recompute_queue(actor=actor)


# The demo's profile.

DEMO_CRITERIA = [
    {"attribute": Attribute.INDUSTRY, "values": ["62", "69", "70"], "weight": 5},
    {"attribute": Attribute.EMPLOYEE_BAND, "values": ["10-49", "50-99", "100-249"], "weight": 4},
    {"attribute": Attribute.REGION, "values": ["10", "25", "30", "35"], "weight": 2},
    {
        "attribute": Attribute.TECHNOLOGY,
        "values": ["Exact Online", "AFAS", "Twinfield"],
        "weight": 2,
    },
    {"attribute": Attribute.EMPLOYEE_BAND, "values": ["1"], "weight": -3},
    {"attribute": Attribute.INDUSTRY, "values": ["47", "10"], "weight": -2},
]


def icp_demo_setup() -> int:
    """Give the demo a profile (when it has none) and fit every company now, without a job.
    Returns how many companies have a fit."""
    if not IcpCriterion.objects.exists():
        IcpCriterion.objects.bulk_create(
            IcpCriterion(**criterion_clean(**criterion)) for criterion in DEMO_CRITERIA
        )
    fits_recompute()
    return CompanyFit.objects.count()
