"""The learned ICP ("people like us") and lookalikes.

Customers are compared with every other live company, value by value: a value's lift is
its smoothed share among the customers divided by its smoothed share among the rest, and
a value that sets the customers apart gets a proposed weight of round(3 × ln(lift)).
Lookalikes are the companies that are not customers yet whose values have the highest
summed log-lift. What a page shows is learned from the companies its user may see: even a
count or a custom field's value tells about companies. Only the profile that replaces the
team's (learned_weights_apply, for those who may change it) is learned from all companies.
"""

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from koers.core.models import User
from koers.crm.models import Company, LifecycleStage
from koers.crm.selectors import company_visible_to
from koers.pipeline.models import Deal
from koers.scoring import fit
from koers.scoring.models import IcpCriterion, ScoringJob

Attribute = IcpCriterion.Attribute

MIN_GROUP = 5  # fewer customers than this: too little to learn from
MIN_HOLDERS = 3  # a value needs this many customers holding it ...
MIN_OTHERS_FOR_NEGATIVE = 10  # ... or, for a negative weight, this many other companies
TOP_SHARE = 0.2  # the top of the customer pyramid: the best fifth by won-deal value
# Each share is smoothed with this many companies' worth of evidence at the value's rate
# among all companies: equal shares stay equal (a lift of 1), and a value absent from one
# group gets a tempered lift instead of an infinite one.
SMOOTHING = 1
LOOKALIKES = 50
# 100 on the similarity scale: as alike as the customer at this fraction of their ranking.
REFERENCE_QUANTILE = 0.9
# Single-valued attributes are merged per weight into one criterion; technologies, of
# which a company may have several, stay one criterion per value.
MULTI_VALUED = {Attribute.TECHNOLOGY}

# (attribute, custom field name, folded value)
Feature = tuple[str, str, str]


def features_of(facts: fit.Facts) -> dict[Feature, str]:
    """The company's values as features, each with its value as first written."""
    found: dict[Feature, str] = {}
    for attribute in (
        Attribute.INDUSTRY,
        Attribute.EMPLOYEE_BAND,
        Attribute.REVENUE_BAND,
        Attribute.COUNTRY,
        Attribute.REGION,
    ):
        value = getattr(facts, attribute)
        if value:
            found[(str(attribute), "", value)] = value
    for name in facts.technologies:
        found[(str(Attribute.TECHNOLOGY), "", name)] = name
    for name, value in facts.custom_fields.items():
        # Text values only: a number's range cannot be learned value by value.
        if isinstance(value, str) and value.strip() and fit.number_of(value) is None:
            found[(str(Attribute.CUSTOM), str(name), fit.fold(value))] = value.strip()
    return found


def _original_spelling(row: tuple) -> dict[str, str]:
    """Folded → as written, for the technologies of one row."""
    return {fit.fold(name): name.strip() for name in row[6] or [] if isinstance(name, str)}


@dataclass(frozen=True)
class Proposal:
    attribute: str
    field: str
    value: str  # as stored in the criterion
    label: str  # attribute and value in words
    customers: int
    customer_share: float
    others: int
    other_share: float
    lift: float
    weight: int

    @property
    def log_lift(self) -> float:
        return math.log(self.lift)


@dataclass
class Census:
    """Who holds which value, among the group (customers) and the rest."""

    group_size: int = 0
    rest_size: int = 0
    group: Counter = field(default_factory=Counter)
    rest: Counter = field(default_factory=Counter)
    spelling: dict[Feature, str] = field(default_factory=dict)
    group_features: list[list[Feature]] = field(default_factory=list)


@dataclass(frozen=True)
class Learned:
    top_only: bool
    group_size: int
    rest_size: int
    proposals: list[Proposal]
    customers: int  # all current customers, also when only the top is learned from

    @property
    def too_little(self) -> bool:
        return self.group_size < MIN_GROUP


def _live_companies() -> QuerySet[Company]:
    return Company.objects.filter(deleted_at__isnull=True)


def top_customer_ids(
    *, share: float = TOP_SHARE, companies: QuerySet[Company] | None = None
) -> set[int]:
    """The top of the customer pyramid: the customers among `companies` (by default every
    live company) whose won deals add up to the most value, the best `share` of those
    customers (those with no won value never count)."""
    if companies is None:
        companies = _live_companies()
    customers = companies.filter(lifecycle_stage=LifecycleStage.CUSTOMER)
    wanted = math.ceil(customers.count() * share)
    ranked = (
        Deal.objects.filter(
            status=Deal.Status.WON, deleted_at__isnull=True, company__in=customers.values("pk")
        )
        .values("company")
        .annotate(won=Sum("value"))
        .filter(won__gt=0)
        .order_by("-won", "company")
        .values_list("company", flat=True)
    )
    return set(ranked[:wanted]) if wanted else set()


def census(*, top_only: bool = False, companies: QuerySet[Company] | None = None) -> Census:
    """Count the values of `companies` (by default every live company), for the customers
    (or their top) and the rest."""
    if companies is None:
        companies = _live_companies()
    if top_only:
        group_ids = top_customer_ids(companies=companies)
    else:
        group_ids = set(
            companies.filter(lifecycle_stage=LifecycleStage.CUSTOMER).values_list("pk", flat=True)
        )
    counted = Census()
    rows = (
        companies.order_by("pk")  # the first spelling of a technology is the one shown
        .values_list(*fit.FACT_FIELDS)
        .iterator(chunk_size=5_000)
    )
    for row in rows:
        found = features_of(fit.facts_from_row(row))
        spelled = _original_spelling(row)
        for feature, value in found.items():
            if feature not in counted.spelling:
                is_technology = feature[0] == Attribute.TECHNOLOGY
                counted.spelling[feature] = spelled.get(value, value) if is_technology else value
        if row[0] in group_ids:
            counted.group_size += 1
            counted.group.update(found.keys())
            counted.group_features.append(list(found))
        else:
            counted.rest_size += 1
            counted.rest.update(found.keys())
    return counted


def _rounded(number: float) -> int:
    """Halves away from zero, as people round."""
    return int(math.copysign(math.floor(abs(number) + 0.5), number))


def feature_label(feature: Feature, value: str) -> str:
    attribute, name, _folded = feature
    if attribute == Attribute.CUSTOM:
        return _("%(field)s: %(value)s") % {"field": name, "value": value}
    return _("%(attribute)s: %(value)s") % {
        "attribute": Attribute(attribute).label,
        "value": fit.value_label(attribute, value),
    }


def smoothed_lift(held: int, group_size: int, others: int, rest_size: int) -> float:
    """The value's smoothed share among the group divided by that among the rest."""
    rate = (held + others) / (group_size + rest_size)  # > 0: someone holds the value
    pseudo_companies = SMOOTHING / rate
    group_share = (held + SMOOTHING) / (group_size + pseudo_companies)
    rest_share = (others + SMOOTHING) / (rest_size + pseudo_companies)
    return group_share / rest_share


def proposals_of(counted: Census) -> list[Proposal]:
    """The values that set the group apart, strongest first."""
    proposals = []
    for feature in set(counted.group) | set(counted.rest):
        held, others = counted.group[feature], counted.rest[feature]
        lift = smoothed_lift(held, counted.group_size, others, counted.rest_size)
        weight = max(fit.WEIGHT[0], min(fit.WEIGHT[1], _rounded(3 * math.log(lift))))
        supported = held >= MIN_HOLDERS or (weight < 0 and others >= MIN_OTHERS_FOR_NEGATIVE)
        if not supported or abs(weight) < 1:
            continue
        value = counted.spelling[feature]
        proposals.append(
            Proposal(
                attribute=feature[0],
                field=feature[1],
                value=value,
                label=feature_label(feature, value),
                customers=held,
                customer_share=held / counted.group_size if counted.group_size else 0.0,
                others=others,
                other_share=others / counted.rest_size if counted.rest_size else 0.0,
                lift=lift,
                weight=weight,
            )
        )
    proposals.sort(key=lambda item: (-item.weight, -item.lift, item.attribute, item.label))
    return proposals


def _learned_from(companies: QuerySet[Company], *, top_only: bool) -> tuple[Learned, Census]:
    counted = census(top_only=top_only, companies=companies)
    customers = (
        counted.group_size
        if not top_only
        else companies.filter(lifecycle_stage=LifecycleStage.CUSTOMER).count()
    )
    proposals = proposals_of(counted) if counted.group_size >= MIN_GROUP else []
    learned = Learned(top_only, counted.group_size, counted.rest_size, proposals, customers)
    return learned, counted


def icp_learn(*, top_only: bool = False) -> Learned:
    """What all customers (or the top of them) share that all other companies do not."""
    return _learned_from(_live_companies(), top_only=top_only)[0]


def icp_learn_for_user(*, user: User, top_only: bool = False) -> Learned:
    """What the customers the user may see (or the top of them) share that the other
    companies the user may see do not: the labels, counts and shares a page may show."""
    return _learned_from(company_visible_to(user=user), top_only=top_only)[0]


def criteria_from(proposals: Iterable[Proposal]) -> list[dict]:
    """The proposals as criteria: values of one attribute with the same weight together."""
    grouped: dict[tuple, list[str]] = {}
    for item in proposals:
        if item.attribute in MULTI_VALUED:
            grouped[(item.attribute, item.field, item.weight, item.value)] = [item.value]
        else:
            grouped.setdefault((item.attribute, item.field, item.weight, ""), []).append(item.value)
    return [
        {"attribute": attribute, "field": name, "weight": weight, "values": values}
        for (attribute, name, weight, _value), values in grouped.items()
    ]


def learned_weights_apply(*, actor: User, top_only: bool = False) -> ScoringJob:
    """Replace the profile by the learned weights and fit every company again."""
    fit.check_may_change_icp(actor)
    learned = icp_learn(top_only=top_only)
    if learned.too_little or not learned.proposals:
        raise ValidationError(_("There is too little to learn from: the profile is unchanged."))
    return fit.criteria_replace(actor=actor, criteria=criteria_from(learned.proposals))


# Lookalikes


@dataclass(frozen=True)
class Lookalike:
    pk: int
    name: str
    city: str
    lifecycle_stage: str
    similarity: int  # 0–100
    reasons: list[str]  # what makes it alike, strongest first


@dataclass(frozen=True)
class Lookalikes:
    learned: Learned
    companies: list[Lookalike]


def _quantile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def lookalikes_for_user(
    *, user: User, top_only: bool = False, limit: int = LOOKALIKES
) -> Lookalikes:
    """The companies the user may see that are not customers and most resemble the
    customers the user may see: the sum of the log-lifts of their values (those the learned
    ICP proposes), on a scale where 100 is as alike as the customers themselves mostly are."""
    visible = company_visible_to(user=user)
    learned, counted = _learned_from(visible, top_only=top_only)
    log_lift = {
        (item.attribute, item.field, _feature_key(item)): (item.log_lift, item.label)
        for item in learned.proposals
    }
    if not log_lift:
        return Lookalikes(learned, [])
    reference = _quantile(
        [
            sum(log_lift[feature][0] for feature in found if feature in log_lift)
            for found in counted.group_features
        ],
        REFERENCE_QUANTILE,
    )
    if reference <= 0:
        return Lookalikes(learned, [])
    candidates = (
        visible.exclude(lifecycle_stage=LifecycleStage.CUSTOMER)
        .values_list(*fit.FACT_FIELDS, "name", "city", "lifecycle_stage")
        .iterator(chunk_size=5_000)
    )
    scored = []
    for row in candidates:
        matched = [
            log_lift[feature]
            for feature in features_of(fit.facts_from_row(row[: len(fit.FACT_FIELDS)]))
            if feature in log_lift
        ]
        total = sum(value for value, _label in matched)
        if total > 0:
            scored.append((total, row, matched))
    scored.sort(key=lambda item: (-item[0], item[1][-3], item[1][0]))
    return Lookalikes(
        learned,
        [
            Lookalike(
                pk=row[0],
                name=row[-3],
                city=row[-2],
                lifecycle_stage=row[-1],
                similarity=max(0, min(100, _rounded(100 * total / reference))),
                reasons=[label for value, label in sorted(matched, reverse=True) if value > 0],
            )
            for total, row, matched in scored[:limit]
        ],
    )


def _feature_key(item: Proposal) -> str:
    if item.attribute in (Attribute.TECHNOLOGY, Attribute.CUSTOM):
        return fit.fold(item.value)
    return item.value
