"""Predicting which contacts become customers, learned from the team's own history.

A contact's outcome is decided when it became a customer or won a deal (yes), or lost a
deal or said no on a call or in a meeting (no). Its features are what the team knew just
before that moment: the contact's and its company's attributes and custom fields, the
company's ICP fit, the calls, meetings and emails before it (how many went unanswered,
how many were real conversations and how the last one ended), its website visits in the
90 days before, and the month and weekday of the deciding conversation. An undecided
contact is described the same way as of today: what the next conversation would start
from.

The model is gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier) on
those features, categories ranked by their conversion rate. Its explanations are exact:
walking a record down every tree, the change in the tree's expected value at each split
is credited to the feature split on, so the credits add up to the record's log-odds minus
the base log-odds (the model's average). Saabas attribution, cheap and additive.
"""

import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from koers.activities.models import Activity
from koers.core.models import AuditEntry
from koers.crm.models import Contact, LifecycleStage

Outcome = Activity.Outcome
# A call or meeting that ended in a real answer (the rest: no answer, voicemail, …).
ANSWERED = [
    Outcome.CONVERSATION,
    Outcome.NOT_INTERESTED,
    Outcome.SEND_INFORMATION,
    Outcome.MEETING_BOOKED,
    Outcome.OBJECTED,
    Outcome.QUALIFIED,
    Outcome.NOT_QUALIFIED,
]
SAID_NO = [Outcome.NOT_INTERESTED, Outcome.OBJECTED, Outcome.NOT_QUALIFIED]
CONVERTED = [LifecycleStage.CUSTOMER, LifecycleStage.FORMER_CUSTOMER]
WEB_DAYS = 90
DAY = 86400.0

MIN_EACH = 30  # customers and no's the model needs at least, each
FOLDS = 5
SEED = 42
# Share of the training ranking per grade, best first: A is the top 10%.
GRADE_SHARES = (("A", 0.10), ("B", 0.20), ("C", 0.30), ("D", 0.40))
PARAMS = {
    "max_leaf_nodes": 15,
    "min_samples_leaf": 200,
    "l2_regularization": 1.0,
    "max_iter": 400,
    "learning_rate": 0.03,
    "max_features": 0.5,
    "early_stopping": False,
    "random_state": 0,
}
CUSTOM_FIELDS_MAX = 30
SMALL = 5000
WINDOW = 50_000  # contact ids read at a time


def one_thread():
    """Trees are grown and read on one thread. Koers shares its cores with web workers and
    other jobs, and OpenMP threads waiting on a busy core slowed a fit here 5–10×."""
    return threadpool_limits(limits=1, user_api="openmp")


def feature_label(name: str) -> str:
    return Feature(name, False).label


@dataclass(frozen=True)
class Feature:
    name: str
    numeric: bool

    @property
    def label(self) -> str:
        if self.name.startswith("custom:"):
            return self.name.removeprefix("custom:")
        if self.name.startswith("company custom:"):
            return _("%(field)s (company)") % {"field": self.name.removeprefix("company custom:")}
        return str(FEATURE_LABELS[self.name])


# The fixed features, with the words the explanations use for them.
FEATURE_LABELS = {
    "channel": gettext_lazy("Phone line"),
    "function": gettext_lazy("Function"),
    "dmu_role": gettext_lazy("Role in the buying decision"),
    "lead_source": gettext_lazy("Lead source"),
    "has_email": gettext_lazy("Email address known"),
    "industry": gettext_lazy("Industry"),
    "employee_band": gettext_lazy("Employees"),
    "revenue_band": gettext_lazy("Annual revenue"),
    "country": gettext_lazy("Country"),
    "fit": gettext_lazy("ICP fit"),
    "calls_unanswered": gettext_lazy("Calls without an answer"),
    "conversations": gettext_lazy("Conversations before"),
    "days_since_conversation": gettext_lazy("Days since the last conversation"),
    "last_outcome": gettext_lazy("How the last conversation ended"),
    "meetings": gettext_lazy("Meetings"),
    "emails": gettext_lazy("Emails"),
    "web_visits": gettext_lazy("Website activity (90 days)"),
    "month": gettext_lazy("Month"),
    "weekday": gettext_lazy("Weekday"),
}
FIXED = [
    Feature("channel", False),
    Feature("function", False),
    Feature("dmu_role", False),
    Feature("lead_source", False),
    Feature("has_email", True),
    Feature("industry", False),
    Feature("employee_band", False),
    Feature("revenue_band", False),
    Feature("country", False),
    Feature("fit", True),
    Feature("calls_unanswered", True),
    Feature("conversations", True),
    Feature("days_since_conversation", True),
    Feature("last_outcome", False),
    Feature("meetings", True),
    Feature("emails", True),
    Feature("web_visits", True),
    Feature("month", False),
    Feature("weekday", False),
]


# --- reading the records ------------------------------------------------------------------


def _epoch(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_part('epoch', {column})"
    return f"unixepoch({column})"


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass
class Records:
    """The contacts of one batch, as columns: ids sorted, raw attributes, and the moment
    each is described at (epoch seconds)."""

    ids: np.ndarray
    columns: dict[str, list]
    at: np.ndarray
    label: np.ndarray | None = None  # 1 converted, 0 said no (training only)

    def take(self, index: np.ndarray) -> "Records":
        return Records(
            self.ids[index],
            {name: [values[i] for i in index.tolist()] for name, values in self.columns.items()},
            self.at[index],
            None if self.label is None else self.label[index],
        )

    @classmethod
    def joined(cls, parts: list["Records"]) -> "Records":
        return cls(
            np.concatenate([part.ids for part in parts]),
            {
                name: list(itertools.chain.from_iterable(part.columns[name] for part in parts))
                for name in parts[0].columns
            },
            np.concatenate([part.at for part in parts]),
            np.concatenate([part.label for part in parts]),
        )


def id_windows(lo: int = 0, hi: int = 2**62) -> list[tuple[int, int]]:
    """The contact ids in [lo, hi] as ranges of WINDOW ids: one batch each in memory."""
    span = Contact.objects.filter(pk__range=(lo, hi)).aggregate(lo=Min("pk"), hi=Max("pk"))
    if span["lo"] is None:
        return []
    return [(start, start + WINDOW - 1) for start in range(span["lo"], span["hi"] + 1, WINDOW)]


def _contacts(where: str, params: list) -> dict[str, list]:
    rows = _fetch(
        f"""
        SELECT c.id, c.mobile, c.phone, c.email, c.function, c.dmu_role, c.lead_source,
               c.lifecycle_stage, c.custom_fields, co.industry, co.employee_band,
               co.revenue_band, co.country, co.custom_fields, fit.score
        FROM crm_contact c
        LEFT JOIN crm_company co ON co.id = c.company_id AND co.deleted_at IS NULL
        LEFT JOIN scoring_companyfit fit ON fit.company_id = co.id
        WHERE c.deleted_at IS NULL AND {where}
        ORDER BY c.id
        """,
        params,
    )
    names = [
        "id",
        "mobile",
        "phone",
        "email",
        "function",
        "dmu_role",
        "lead_source",
        "stage",
        "custom",
        "industry",
        "employee_band",
        "revenue_band",
        "country",
        "company_custom",
        "fit",
    ]
    columns: dict[str, list] = {name: [] for name in names}
    for row in rows:
        for name, value in zip(names, row, strict=True):
            columns[name].append(value)
    for key in ("custom", "company_custom"):
        columns[key] = [_json(value) for value in columns[key]]
    return columns


def _json(value) -> dict:
    if isinstance(value, str):  # SQLite hands JSON back as text
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _outcomes(ids: np.ndarray) -> tuple[dict[int, float], dict[int, float], dict[int, float]]:
    """When each contact won its first deal, lost its last, and said its last no."""
    lo, hi = int(ids[0]), int(ids[-1])
    won, lost, said_no = {}, {}, {}
    for contact_id, status, at in _fetch(
        f"""
        SELECT dc.contact_id, d.status, {_epoch("COALESCE(d.won_at, d.lost_at)")}
        FROM pipeline_dealcontact dc JOIN pipeline_deal d ON d.id = dc.deal_id
        WHERE dc.contact_id BETWEEN %s AND %s AND d.deleted_at IS NULL
          AND d.status IN ('won', 'lost') AND COALESCE(d.won_at, d.lost_at) IS NOT NULL
        """,
        [lo, hi],
    ):
        if status == "won":
            won[contact_id] = min(won.get(contact_id, math.inf), float(at))
        else:
            lost[contact_id] = max(lost.get(contact_id, -math.inf), float(at))
    marks = ", ".join(["%s"] * len(SAID_NO))
    for contact_id, at in _fetch(
        f"""
        SELECT contact_id, MAX({_epoch("occurred_at")}) FROM activities_activity
        WHERE contact_id BETWEEN %s AND %s AND outcome IN ({marks}) GROUP BY contact_id
        """,
        [lo, hi, *SAID_NO],
    ):
        said_no[contact_id] = float(at)
    return won, lost, said_no


def _answered(ids: np.ndarray) -> dict[int, list[float]]:
    """Each contact's answered calls and meetings, oldest first."""
    marks = ", ".join(["%s"] * len(ANSWERED))
    found: dict[int, list[float]] = {}
    for contact_id, at in _fetch(
        f"""
        SELECT contact_id, {_epoch("occurred_at")} AS at FROM activities_activity
        WHERE contact_id BETWEEN %s AND %s AND outcome IN ({marks}) ORDER BY contact_id, at
        """,
        [int(ids[0]), int(ids[-1]), *ANSWERED],
    ):
        found.setdefault(contact_id, []).append(float(at))
    return found


def _became_customer_at(ids: np.ndarray) -> dict[int, float]:
    """When each contact first became a customer (created as one or changed to one), from
    the audit trail."""
    rows = (
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Contact),
            object_id__range=(int(ids[0]), int(ids[-1])),
            changes__lifecycle_stage__1__in=CONVERTED,
        )
        .values("object_id")
        .annotate(first=Min("at"))
        .values_list("object_id", "first")
    )
    return {contact_id: at.timestamp() for contact_id, at in rows}


def training_records(lo: int = 0, hi: int = 2**62) -> Records:
    """The decided contacts with ids in [lo, hi], each described just before its outcome:
    a customer at its last conversation before it won a deal or became a customer, a no
    at its last lost deal or its last no. Read a window of ids at a time."""
    parts = [_decided(start, end) for start, end in id_windows(lo, hi)]
    parts = [part for part in parts if len(part.ids)]
    if not parts:
        return Records(np.zeros(0, dtype=np.int64), {}, np.zeros(0), np.zeros(0, dtype=np.int8))
    return Records.joined(parts)


def _decided(lo: int, hi: int) -> Records:
    columns = _contacts("c.id BETWEEN %s AND %s", [lo, hi])
    ids = np.array(columns["id"], dtype=np.int64)
    if not len(ids):
        return Records(ids, columns, np.zeros(0), np.zeros(0, dtype=np.int8))
    won, lost, said_no = _outcomes(ids)
    answered = _answered(ids)
    became = _became_customer_at(ids)
    now = timezone.now().timestamp()
    keep, at, label = [], [], []
    for index, (contact_id, stage) in enumerate(zip(ids.tolist(), columns["stage"], strict=True)):
        if stage in CONVERTED or contact_id in won:
            bound = won.get(contact_id) or became.get(contact_id, now)
            before = [t for t in answered.get(contact_id, []) if t <= bound]
            moment, outcome = (before[-1] if before else bound), 1
        elif contact_id in lost or contact_id in said_no:
            moment = max(lost.get(contact_id, -math.inf), said_no.get(contact_id, -math.inf))
            outcome = 0
        else:
            continue
        keep.append(index)
        at.append(moment)
        label.append(outcome)
    columns = {name: [values[i] for i in keep] for name, values in columns.items()}
    return Records(ids[keep], columns, np.array(at, dtype=float), np.array(label, dtype=np.int8))


def open_records(lo: int, hi: int, *, now: datetime | None = None) -> Records:
    """The undecided live contacts with ids in [lo, hi], described as of now."""
    columns = _contacts(
        "c.id BETWEEN %s AND %s AND c.lifecycle_stage NOT IN (%s, %s)", [lo, hi, *CONVERTED]
    )
    ids = np.array(columns["id"], dtype=np.int64)
    moment = (now or timezone.now()).timestamp()
    return Records(ids, columns, np.full(len(ids), moment))


# --- features -----------------------------------------------------------------------------


def _activity_features(records: Records) -> dict[str, np.ndarray]:
    """Counts of what happened before each record's moment, by numpy over the rows."""
    n = len(records.ids)
    out = {
        "calls_unanswered": np.zeros(n),
        "conversations": np.zeros(n),
        "meetings": np.zeros(n),
        "emails": np.zeros(n),
        "days_since_conversation": np.full(n, np.nan),
        "last_outcome": np.full(n, "", dtype=object),
        "web_visits": np.zeros(n),
    }
    if not n:
        return out
    lo, hi = int(records.ids[0]), int(records.ids[-1])
    rows = _fetch(
        f"""
        SELECT contact_id, kind, outcome, {_epoch("occurred_at")} FROM activities_activity
        WHERE contact_id BETWEEN %s AND %s AND kind IN ('call', 'meeting', 'email')
          AND (done_at IS NOT NULL OR outcome <> '')
        """,
        [lo, hi],
    )
    last_answer = np.full(n, -np.inf)
    if rows:
        contact, kind, outcome, at = zip(*rows, strict=True)
        position = np.searchsorted(records.ids, np.array(contact, dtype=np.int64))
        found = position < n
        found[found] = records.ids[position[found]] == np.array(contact)[found]
        kind, outcome = np.array(kind, dtype=object), np.array(outcome, dtype=object)
        at = np.array(at, dtype=float)
        before = found & (at < records.at[np.minimum(position, n - 1)])
        answered = np.isin(outcome, ANSWERED)
        is_call = kind == "call"
        for name, mask in (
            ("calls_unanswered", is_call & ~answered),
            ("conversations", answered),
            ("meetings", (kind == "meeting") & ~answered),
            ("emails", kind == "email"),
        ):
            out[name] = np.bincount(position[before & mask], minlength=n)[:n].astype(float)
        # The latest answered outcome before the moment, per record.
        chosen = np.flatnonzero(before & answered)
        order = chosen[np.lexsort((at[chosen], position[chosen]))]
        last_answer_at = at[order]
        target = position[order]
        last_answer[target] = last_answer_at  # later rows overwrite earlier: the latest wins
        out["last_outcome"][target] = outcome[order]
    has = np.isfinite(last_answer)
    out["days_since_conversation"][has] = np.floor((records.at[has] - last_answer[has]) / DAY)
    start = float(records.at.min()) - WEB_DAYS * DAY
    events = _fetch(
        f"""
        SELECT contact_id, {_epoch("occurred_at")} FROM tracking_event
        WHERE contact_id BETWEEN %s AND %s AND occurred_at >= %s
        """,
        [lo, hi, datetime.fromtimestamp(start, tz=UTC)],
    )
    if events:
        contact, at = (np.array(values) for values in zip(*events, strict=True))
        position = np.searchsorted(records.ids, contact.astype(np.int64))
        found = position < n
        found[found] = records.ids[position[found]] == contact[found]
        at = at.astype(float)
        moment = records.at[np.minimum(position, n - 1)]
        recent = found & (at < moment) & (at >= moment - WEB_DAYS * DAY)
        out["web_visits"] = np.bincount(position[recent], minlength=n)[:n].astype(float)
    return out


def custom_features(records: Records) -> list[Feature]:
    """The custom fields common enough to learn from (on at least 1% of the records), as
    numbers when every value is one. Attributes are read as they are now, so a field that
    is filled (nearly) only for customers, such as a customer number, would give the
    answer away: one filled for 90% of one outcome and 10% or less of the other is left
    out."""
    label = records.label
    features = []
    for key, prefix in (("custom", "custom:"), ("company_custom", "company custom:")):
        counts: dict[str, list[int]] = {}  # name → [records, of which converted]
        numeric: dict[str, bool] = {}
        for index, values in enumerate(records.columns[key]):
            for name, value in values.items():
                seen = counts.setdefault(name, [0, 0])
                seen[0] += 1
                seen[1] += int(label[index]) if label is not None else 0
                is_number = isinstance(value, int | float) and not isinstance(value, bool)
                numeric[name] = numeric.get(name, True) and is_number
        common = sorted(
            (
                name
                for name, (count, converted) in counts.items()
                if count >= 0.01 * len(records.ids) and not _gives_away(count, converted, label)
            ),
            key=lambda name: -counts[name][0],
        )[:CUSTOM_FIELDS_MAX]
        features += [Feature(prefix + name, numeric[name]) for name in sorted(common)]
    return features


def _gives_away(count: int, converted: int, label: np.ndarray | None) -> bool:
    if label is None or not len(label):
        return False
    yes, no = int(label.sum()), int(len(label) - label.sum())
    filled_yes = converted / yes if yes else 0.0
    filled_no = (count - converted) / no if no else 0.0
    return (filled_yes >= 0.9 and filled_no <= 0.1) or (filled_no >= 0.9 and filled_yes <= 0.1)


def feature_values(records: Records, features: list[Feature]) -> dict[str, np.ndarray]:
    """Each feature's raw value per record: floats (NaN unknown) or text ('' unknown);
    a window of ids at a time, so that only that window's activities are in memory."""
    if not len(records.ids):
        return _values(records, features)
    window = (records.ids - records.ids[0]) // WINDOW
    parts = [
        _values(records.take(np.flatnonzero(window == number)), features)
        for number in np.unique(window)
    ]
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _values(records: Records, features: list[Feature]) -> dict[str, np.ndarray]:
    columns = records.columns
    zone = timezone.get_current_timezone()  # the team's calendar, not UTC's
    moments = [datetime.fromtimestamp(at, tz=zone) for at in records.at.tolist()]
    values: dict[str, np.ndarray] = _activity_features(records)
    values["channel"] = np.array(
        [
            "mobile" if m else "phone" if p else ""
            for m, p in zip(columns["mobile"], columns["phone"], strict=True)
        ],
        dtype=object,
    )
    values["has_email"] = np.array([1.0 if e else 0.0 for e in columns["email"]])
    for name in (
        "function",
        "dmu_role",
        "lead_source",
        "industry",
        "employee_band",
        "revenue_band",
        "country",
    ):
        values[name] = np.array([value or "" for value in columns[name]], dtype=object)
    values["fit"] = np.array([np.nan if f is None else float(f) for f in columns["fit"]])
    values["month"] = np.array([str(moment.month) for moment in moments], dtype=object)
    values["weekday"] = np.array([str(moment.isoweekday()) for moment in moments], dtype=object)
    for feature in features:
        for key, prefix in (("custom", "custom:"), ("company_custom", "company custom:")):
            if feature.name.startswith(prefix):
                name = feature.name.removeprefix(prefix)
                raw = [row.get(name) for row in columns[key]]
                values[feature.name] = (
                    np.array([_number(value) for value in raw])
                    if feature.numeric
                    else np.array(["" if v is None else str(v) for v in raw], dtype=object)
                )
    return {feature.name: values[feature.name] for feature in features}


def informative(features: list[Feature], values: dict[str, np.ndarray]) -> list[Feature]:
    """The features that vary among the records: the rest cannot tell anyone apart."""
    kept = []
    for feature in features:
        column = values[feature.name]
        known = column[~np.isnan(column)] if feature.numeric else column[column != ""]
        if len(set(known.tolist())) > 1 or (0 < len(known) < len(column)):
            kept.append(feature)
    return kept


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


# --- the model ----------------------------------------------------------------------------


@dataclass
class Factor:
    """One feature's push on a record's log-odds, in words."""

    feature: str
    label: str
    value: str
    contribution: float


@dataclass
class Trained:
    """A fitted model with what it needs to describe and explain a record."""

    features: list[Feature]
    # Per categorical feature: value → rank by conversion rate (unseen values: missing).
    ranks: dict[str, dict[str, int]]
    model: HistGradientBoostingClassifier
    thresholds: list[tuple[str, float]] = field(default_factory=list)  # (grade, lowest p)
    base_logodds: float = 0.0
    _expected: list = field(default_factory=list, repr=False)

    def matrix(self, values: dict[str, np.ndarray]) -> np.ndarray:
        columns = []
        for feature in self.features:
            column = values[feature.name]
            if not feature.numeric:
                ranks = self.ranks[feature.name]
                column = np.array([ranks.get(value, np.nan) for value in column.tolist()])
            columns.append(np.asarray(column, dtype=float))
        return np.column_stack(columns) if columns else np.zeros((0, 0))

    def logodds(self, x: np.ndarray) -> np.ndarray:
        with one_thread():
            return self.model.decision_function(x)

    def probability(self, x: np.ndarray) -> np.ndarray:
        with one_thread():
            return self.model.predict_proba(x)[:, 1]

    def grade(self, probability: float) -> str:
        for grade, lowest in self.thresholds:
            if probability >= lowest:
                return grade
        return self.thresholds[-1][0] if self.thresholds else "D"

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per record and feature, its share of (log-odds − base log-odds); exact."""
        out = np.zeros(x.shape)
        rows = np.arange(len(x))
        for nodes, expected in zip(self._trees(), self._expected, strict=True):
            node = np.zeros(len(x), dtype=np.int64)
            while True:
                active = ~nodes["is_leaf"][node].astype(bool)
                if not active.any():
                    break
                here = node[active]
                feature = nodes["feature_idx"][here]
                value = x[rows[active], feature]
                left = np.where(
                    np.isnan(value),
                    nodes["missing_go_to_left"][here].astype(bool),
                    value <= nodes["num_threshold"][here],
                )
                child = np.where(left, nodes["left"][here], nodes["right"][here]).astype(np.int64)
                np.add.at(out, (rows[active], feature), expected[child] - expected[here])
                node[active] = child
        return out

    def explain(self, values: dict[str, np.ndarray], index: int = 0) -> list[Factor]:
        """The record's factors, largest push first (up or down)."""
        x = self.matrix({name: column[index : index + 1] for name, column in values.items()})
        pushes = self.contributions(x)[0]
        factors = [
            Factor(feature.name, feature.label, _shown(values[feature.name][index]), push)
            for feature, push in zip(self.features, pushes.tolist(), strict=True)
            if abs(push) > 1e-9
        ]
        return sorted(factors, key=lambda factor: -abs(factor.contribution))

    def _trees(self) -> list[np.ndarray]:
        return [predictors[0].nodes for predictors in self.model._predictors]

    def prepare(self) -> None:
        """Each node's expected value under the training data (leaves weighted by how many
        training rows reached them), and the base log-odds they add up to."""
        self._expected = []
        base = float(np.ravel(self.model._baseline_prediction)[0])
        for nodes in self._trees():
            expected = nodes["value"].astype(float).copy()
            for index in range(len(nodes) - 1, -1, -1):  # children come after parents
                if not nodes["is_leaf"][index]:
                    left, right = nodes["left"][index], nodes["right"][index]
                    n_left, n_right = nodes["count"][left], nodes["count"][right]
                    total = n_left + n_right
                    expected[index] = (
                        (n_left * expected[left] + n_right * expected[right]) / total
                        if total
                        else 0.0
                    )
            self._expected.append(expected)
            base += expected[0]
        self.base_logodds = base


def _shown(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return _("unknown")
        return f"{value:g}"
    return str(value) if value != "" else _("unknown")


def _ranks(values: dict[str, np.ndarray], label: np.ndarray, features: list[Feature]) -> dict:
    """Categories ordered by their (smoothed) conversion rate, so trees split them well."""
    prior = label.mean() if len(label) else 0.0
    ranks = {}
    for feature in features:
        if feature.numeric:
            continue
        column = values[feature.name]
        rates = {}
        for value in set(column.tolist()):
            mask = column == value
            rates[value] = (label[mask].sum() + 10 * prior) / (mask.sum() + 10)
        ranks[feature.name] = {
            value: rank for rank, value in enumerate(sorted(rates, key=lambda v: (rates[v], v)))
        }
    return ranks


def fit(values: dict[str, np.ndarray], label: np.ndarray, features: list[Feature]) -> Trained:
    # A leaf needs enough rows to mean something, and small teams still get splits.
    leaf = int(min(PARAMS["min_samples_leaf"], max(10, len(label) // 200)))
    params = PARAMS | {"min_samples_leaf": leaf}
    if len(label) < SMALL:  # few rows: stop adding trees once a held-out part stops gaining
        params |= {"early_stopping": True, "validation_fraction": 0.2, "n_iter_no_change": 20}
    model = HistGradientBoostingClassifier(**params)
    trained = Trained(features, _ranks(values, label, features), model)
    x = trained.matrix(values)
    # A feature never known among these rows (a fold, an early period) cannot split them;
    # the trees' binning needs one value to stand on.
    x[:, np.isnan(x).all(axis=0)] = 0.0
    with one_thread():
        trained.model.fit(x, label)
    trained.prepare()
    return trained


def subset(values: dict[str, np.ndarray], index: np.ndarray) -> dict[str, np.ndarray]:
    """The given records' rows of every feature."""
    return {name: column[index] for name, column in values.items()}


def capture(probability: np.ndarray, label: np.ndarray, share: float) -> float:
    """The share of all conversions found in the top `share` of the ranking."""
    top = np.argsort(-probability, kind="stable")[: round(len(label) * share)]
    return float(label[top].sum() / max(label.sum(), 1))


def figures(probability: np.ndarray, label: np.ndarray) -> dict:
    """AUC, Brier score, capture in the top 10% and 20%, lift and calibration per decile."""
    order = np.argsort(-probability, kind="stable")
    deciles = np.array_split(order, 10)
    rate = label.mean()
    return {
        "auc": float(roc_auc_score(label, probability)),
        "brier": float(brier_score_loss(label, probability)),
        "top10": capture(probability, label, 0.1),
        "top20": capture(probability, label, 0.2),
        "rows": len(label),
        "rate": float(rate),
        "deciles": [
            {
                "predicted": float(probability[part].mean()),
                "actual": float(label[part].mean()),
                "lift": float(label[part].mean() / rate) if rate else 0.0,
            }
            for part in deciles
        ],
    }


def cross_validated(
    values: dict[str, np.ndarray],
    label: np.ndarray,
    fitter: Callable[[dict, np.ndarray], Callable[[dict], np.ndarray]],
    *,
    folds: int = FOLDS,
    report: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Out-of-fold probabilities by stratified k-fold (fixed seed): every record scored by
    a model that never saw it. `fitter(values, label)` returns a scoring function."""
    probability = np.zeros(len(label))
    splits = StratifiedKFold(folds, shuffle=True, random_state=SEED).split(label, label)
    for number, (train, test) in enumerate(splits, start=1):
        probability[test] = fitter(subset(values, train), label[train])(subset(values, test))
        if report:
            report(number)
    return probability


def model_fitter(features: list[Feature]):
    def fitter(values: dict, label: np.ndarray):
        trained = fit(values, label, features)
        return lambda test: trained.probability(trained.matrix(test))

    return fitter


def naive_bayes_fitter(features: list[Feature], bins: int = 10):
    """The method Odoo's predictive lead scoring uses: naive Bayes over field values, each
    value's won and lost counts plus 0.1; numbers binned here into deciles."""

    def fitter(values: dict, label: np.ndarray):
        edges = {
            f.name: np.unique(np.nanquantile(values[f.name], np.linspace(0, 1, bins + 1)[1:-1]))
            for f in features
            if f.numeric and np.isfinite(values[f.name]).any()
        }

        def tokens(column: np.ndarray, feature: Feature) -> np.ndarray:
            if not feature.numeric:
                return column.astype(str)
            if feature.name not in edges:
                return np.full(len(column), "nan", dtype=object)
            binned = np.searchsorted(edges[feature.name], column, side="right").astype(str)
            return np.where(np.isnan(column), "nan", binned)

        won, lost = int(label.sum()), int(len(label) - label.sum())
        tables = {}
        for feature in features:
            column = tokens(values[feature.name], feature)
            table = {}
            for value in set(column.tolist()):
                mask = column == value
                table[value] = (label[mask].sum() + 0.1, (1 - label[mask]).sum() + 0.1)
            tables[feature.name] = table

        def score(test: dict) -> np.ndarray:
            logodds = np.full(len(next(iter(test.values()))), math.log(won / lost))
            for feature in features:
                table = tables[feature.name]
                column = tokens(test[feature.name], feature)
                logodds += np.array(
                    [
                        math.log(table[value][0] / won) - math.log(table[value][1] / lost)
                        if value in table
                        else 0.0
                        for value in column.tolist()
                    ]
                )
            return 1 / (1 + np.exp(-logodds))

        return score

    return fitter


def thresholds(probability: np.ndarray) -> list[tuple[str, float]]:
    """The lowest probability of each grade, from the shares of GRADE_SHARES."""
    out, share = [], 0.0
    for grade, part in GRADE_SHARES:
        share += part
        lowest = float(np.quantile(probability, 1 - share)) if share < 1 else 0.0
        out.append((grade, lowest))
    return out


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index between two distributions of shares."""
    expected, actual = np.maximum(expected, 1e-4), np.maximum(actual, 1e-4)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def mix(trained: Trained, values: dict[str, np.ndarray]) -> dict[str, dict]:
    """Per feature, the share of records in each of its value groups (deciles for numbers,
    the ten most common categories and the rest): what drift is measured on."""
    out = {}
    x = trained.matrix(values)
    for index, feature in enumerate(trained.features):
        column = x[:, index]
        known = column[np.isfinite(column)]
        if feature.numeric:
            edges = np.quantile(known, np.linspace(0, 1, 11)[1:-1]) if len(known) else []
            group = {"edges": np.unique(edges).tolist()}
        else:
            ranks, counts = np.unique(known, return_counts=True)
            group = {"top": sorted(ranks[np.argsort(-counts, kind="stable")][:10].tolist())}
        out[feature.name] = {**group, "shares": _shares(_groups(column, group))}
    return out


def _groups(column: np.ndarray, group: dict) -> np.ndarray:
    """Each value's group: -1 unknown; a decile by the edges; a top category, or -2."""
    if "edges" in group:
        placed = np.searchsorted(np.array(group["edges"]), column, side="right")
    else:
        placed = np.where(np.isin(column, group["top"]), column, -2)
    return np.where(np.isnan(column), -1, placed)


def _shares(groups: np.ndarray) -> dict[str, float]:
    keys, counts = np.unique(groups, return_counts=True)
    return {str(int(k)): float(c / len(groups)) for k, c in zip(keys, counts, strict=True)}


def drift(reference: dict, trained: Trained, values: dict[str, np.ndarray]) -> dict[str, float]:
    """PSI of each feature between the training mix and the given records."""
    out = {}
    x = trained.matrix(values)
    for index, feature in enumerate(trained.features):
        ref = reference.get(feature.name)
        if not ref or not len(x):
            continue
        now = _shares(_groups(x[:, index], ref))
        keys = sorted(set(ref["shares"]) | set(now))
        out[feature.name] = psi(
            np.array([ref["shares"].get(k, 0.0) for k in keys]),
            np.array([now.get(k, 0.0) for k in keys]),
        )
    return out
