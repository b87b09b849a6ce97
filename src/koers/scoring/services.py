"""Computing engagement scores: per contact as events arrive, or for everyone at once."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from koers.activities.models import Activity
from koers.activities.services import activity_log
from koers.core import events
from koers.core.models import AuditEntry, User
from koers.core.services import audit_diff, audit_record, audit_snapshot, notify
from koers.crm.models import Contact, LifecycleStage
from koers.scoring import engine
from koers.scoring.models import EngagementRule, EngagementScore, EngagementSettings, ScoreHistory
from koers.tracking.models import Event

# Stages a score may lift to MQL; later ones are already further along.
BEFORE_MQL = [LifecycleStage.SUSPECT, LifecycleStage.PROSPECT, LifecycleStage.LEAD]


def active_rules() -> list[engine.Rule]:
    return [
        engine.Rule(
            rule.pk,
            rule.name,
            rule.kind,
            rule.pattern.lower(),
            rule.min_engaged_seconds,
            rule.points,
        )
        for rule in EngagementRule.objects.filter(active=True)
    ]


# Events older than this many half-lives are worth less than a billionth of their points
# and are left out, so a long history costs nothing and no power underflows.
HALF_LIVES_COUNTED = 30


def counted_since(*, at: datetime, half_life_days: float) -> datetime:
    return at - timedelta(days=HALF_LIVES_COUNTED * half_life_days)


def scored_events(
    contact_ids: Iterable[int], rules: list[engine.Rule], *, at: datetime, half_life_days: float
):
    return Event.objects.filter(
        contact_id__in=list(contact_ids),
        kind__in={rule.kind for rule in rules},
        occurred_at__gte=counted_since(at=at, half_life_days=half_life_days),
    ).only(
        "id", "contact_id", "kind", "url", "title", "engaged_seconds", "occurred_at", "properties"
    )


@transaction.atomic
def contacts_score(*, contact_ids: Iterable[int], at: datetime | None = None) -> dict[int, float]:
    """Score these contacts afresh from all their events; keep today's score in the history
    and act on those who crossed the MQL threshold. Returns the scores."""
    at = at or timezone.now()
    settings = EngagementSettings.current()
    rules = active_rules()
    ids = set(contact_ids)
    by_contact: dict[int, list] = defaultdict(list)
    for event in scored_events(ids, rules, at=at, half_life_days=settings.half_life_days):
        by_contact[event.contact_id].append(event)
    scores: dict[int, float] = {}
    rows = []
    for contact_id in Contact.objects.filter(pk__in=ids).values_list("pk", flat=True):
        found = engine.contributions(
            by_contact[contact_id], rules, at=at, half_life_days=settings.half_life_days
        )
        scores[contact_id] = sum(item.points for item in found)
        last = max((item.occurred_at for item in found), default=None)
        rows.append(
            EngagementScore(
                contact_id=contact_id, score=scores[contact_id], scored_at=at, last_event_at=last
            )
        )
    EngagementScore.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["contact"],
        update_fields=["score", "scored_at", "last_event_at"],
    )
    ScoreHistory.objects.bulk_create(
        [
            ScoreHistory(contact_id=pk, day=timezone.localdate(at), score=score)
            for pk, score in scores.items()
        ],
        update_conflicts=True,
        unique_fields=["contact", "day"],
        update_fields=["score"],
    )
    thresholds_check(contact_ids=scores.keys(), settings=settings, at=at)
    return scores


def thresholds_check(
    *, contact_ids: Iterable[int] | None, settings: EngagementSettings, at: datetime
) -> int:
    """Act once on each contact that reached the threshold; a contact whose score fell
    below half of it may be acted on again later. Returns how many crossed."""
    scores = EngagementScore.objects.all()
    if contact_ids is not None:
        scores = scores.filter(contact_id__in=list(contact_ids))
    scores.filter(mql_at__isnull=False, score__lt=settings.mql_threshold / 2).update(mql_at=None)
    crossed = list(
        scores.filter(mql_at__isnull=True, score__gte=settings.mql_threshold)
        .select_related("contact", "contact__owner")
        .order_by("contact_id")
    )
    for row in crossed:
        _crossed(row, settings=settings, at=at)
    return len(crossed)


def _crossed(row: EngagementScore, *, settings: EngagementSettings, at: datetime) -> None:
    contact = row.contact
    row.mql_at = at
    row.save(update_fields=["mql_at"])
    # Someone already qualified (or in a deal, or a customer) needs no alert about it.
    if contact.lifecycle_stage not in BEFORE_MQL or contact.deleted_at is not None:
        return
    before = contact.lifecycle_stage
    contact.lifecycle_stage = LifecycleStage.MQL
    contact.save(update_fields=["lifecycle_stage", "updated_at"])
    audit_record(
        actor=None,
        action=AuditEntry.Action.UPDATED,
        instance=contact,
        changes={"lifecycle_stage": [before, LifecycleStage.MQL]},
    )
    events.emit(
        "score.threshold",
        record=contact,
        payload=events.record_payload(
            contact, ["lifecycle_stage", "owner"], score=round(row.score, 1)
        ),
    )
    owner = contact.owner
    if owner is None or not owner.is_active:
        return
    if settings.action == EngagementSettings.Action.TASK and owner.can_edit_records:
        activity_log(
            actor=owner,
            kind=Activity.Kind.CALL,
            subject=_("Follow up: %(name)s is engaged (score %(score)d)")
            % {"name": contact.full_name, "score": round(row.score)},
            contact=contact,
            company=contact.company,
            owner=owner,
            due_at=at + timedelta(hours=4),
            done=False,
            visibility_checked=True,
            tell_owner=False,
        )
    notify(
        recipient=owner,
        actor=None,
        message=lambda: (
            _("%(name)s reached engagement score %(score)d and is now an MQL")
            % {"name": contact.full_name, "score": round(row.score)}
        ),
        url=contact.get_absolute_url(),
    )


def _unicode_lower() -> str:
    """The SQL function that lower-cases as Python does: SQLite's LOWER knows only ASCII,
    and a rule for "Café" must match "CAFÉ" in the recompute as it does per contact."""
    if connection.vendor != "sqlite":
        return "LOWER"
    connection.ensure_connection()
    connection.connection.create_function(
        "koers_lower",
        1,
        lambda text: text.lower() if text is not None else None,
        deterministic=True,
    )
    return "koers_lower"


def _like(pattern: str) -> str:
    escaped = pattern.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _moment(at: datetime):
    """A moment as this database's raw SQL takes it (SQLite: Django's UTC text)."""
    if connection.vendor == "postgresql":
        return at
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _age_days_sql(vendor: str) -> str:
    if vendor == "postgresql":
        # date_part gives a double; EXTRACT a numeric, whose POWER is several times slower.
        return "GREATEST(date_part('epoch', CAST(%s AS timestamptz) - e.occurred_at), 0) / 86400.0"
    return "MAX(julianday(%s) - julianday(e.occurred_at), 0)"


@transaction.atomic
def scores_recompute(*, at: datetime | None = None) -> int:
    """Score every contact from all events in a few set-based statements (after a change
    of rules or half-life). Returns how many contacts have points."""
    at = at or timezone.now()
    settings = EngagementSettings.current()
    rules = active_rules()
    moment = _moment(at)
    with connection.cursor() as cursor:
        if rules:
            _scores_compute(cursor, rules=rules, at=at, half_life_days=settings.half_life_days)
        else:
            cursor.execute(
                "CREATE TEMPORARY TABLE koers_scores (contact_id bigint, score double precision, "
                "last_event_at timestamp)"
            )
        cursor.execute(
            "INSERT INTO scoring_engagementscore (contact_id, score, scored_at, last_event_at) "
            "SELECT contact_id, score, %s, last_event_at FROM koers_scores WHERE true "
            "ON CONFLICT (contact_id) DO UPDATE SET score = excluded.score, "
            "scored_at = excluded.scored_at, last_event_at = excluded.last_event_at",
            [moment],
        )
        # Only those who had points and now have none: rewriting every row costs more.
        cursor.execute(
            "UPDATE scoring_engagementscore SET score = 0, scored_at = %s, last_event_at = NULL "
            "WHERE score != 0 AND NOT EXISTS (SELECT 1 FROM koers_scores "
            "WHERE koers_scores.contact_id = scoring_engagementscore.contact_id)",
            [moment],
        )
        cursor.execute("DROP TABLE koers_scores")
    thresholds_check(contact_ids=None, settings=settings, at=at)
    return EngagementScore.objects.filter(score__gt=0).count()


def _points_sql(rules: list[engine.Rule]) -> tuple[str, list]:
    """An event's points from every rule it matches (engine.Rule.matches), as one SQL sum:
    each event is read and faded once, however many rules there are."""
    lower = _unicode_lower()
    terms, params = [], []
    for rule in rules:
        condition, *rule_params = "e.kind = %s", rule.kind
        if rule.min_engaged_seconds:
            condition += " AND COALESCE(e.engaged_seconds, 0) >= %s"
            rule_params.append(rule.min_engaged_seconds)
        params += rule_params
        if rule.pattern:
            condition += (
                f" AND ({lower}(e.url) LIKE %s ESCAPE '\\' OR {lower}(e.title) LIKE %s ESCAPE '\\')"
            )
            params += [_like(rule.pattern)] * 2
        terms.append(f"CASE WHEN {condition} THEN %s ELSE 0 END")
        params.append(rule.points)
    return " + ".join(terms), params


def _scores_compute(cursor, *, rules: list[engine.Rule], at: datetime, half_life_days: int) -> None:
    """Fill the temporary table koers_scores (contact_id, score, last_event_at). Made with
    CREATE TABLE AS, whose query PostgreSQL may spread over all cores (an INSERT's may not)."""
    points, params = _points_sql(rules)
    kinds = sorted({rule.kind for rule in rules})
    age = _age_days_sql(connection.vendor).replace("e.occurred_at", "occurred_at")
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL work_mem = '256MB'")  # one contact per hash entry, in memory
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE koers_scores AS
        SELECT contact_id, SUM(points * POWER(CAST(0.5 AS double precision), {age} / %s)) AS score,
               MAX(occurred_at) AS last_event_at
        FROM (
          SELECT e.contact_id, e.occurred_at, ({points}) AS points
          FROM tracking_event e
          WHERE e.contact_id IS NOT NULL AND e.occurred_at >= %s
            AND e.kind IN ({", ".join(["%s"] * len(kinds))})
        ) scored
        WHERE points <> 0
        GROUP BY contact_id
        """,  # noqa: S608 - only placeholders are formatted in
        [
            _moment(at),
            float(half_life_days),
            *params,
            _moment(counted_since(at=at, half_life_days=half_life_days)),
            *kinds,
        ],
    )


def scores_fade(*, at: datetime | None = None) -> int:
    """Bring every stored score to the same moment, so that lists sort fairly: all points
    fade alike, so this is one multiplication per contact."""
    at = at or timezone.now()
    half_life = EngagementSettings.current().half_life_days
    moment = _moment(at)
    age = _age_days_sql(connection.vendor).replace("e.occurred_at", "scored_at")
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"
    with connection.cursor() as cursor:
        cursor.execute(
            # At most 1,000 halvings (nothing left): beyond, PostgreSQL's power underflows.
            f"UPDATE scoring_engagementscore SET score = score * POWER(0.5, "  # noqa: S608
            f"{least}({age} / %s, 1000)), scored_at = %s WHERE score != 0",
            [moment, float(half_life), moment],
        )
        return cursor.rowcount


# Setting the score up: the rules and the settings. Admins, managers and marketing do it.

CHANGING_ROLES = (User.Role.ADMIN, User.Role.MANAGER, User.Role.MARKETING)
RULE_FIELDS = ["name", "category", "kind", "pattern", "min_engaged_seconds", "points", "active"]
# A change to one of these changes what a rule gives, so everyone is scored again.
RULE_SCORING_FIELDS = {"kind", "pattern", "min_engaged_seconds", "points", "active"}
SETTINGS_FIELDS = ["half_life_days", "mql_threshold", "action"]
HALF_LIFE_DAYS = (1, 365)
MQL_THRESHOLD = (1, 10_000)


def may_change_scoring(user: User) -> bool:
    """Admins, managers and marketing set up the engagement score."""
    return user.is_authenticated and user.role in CHANGING_ROLES


def check_may_change_scoring(user: User) -> None:
    if not may_change_scoring(user):
        raise PermissionDenied(
            _("Only admins, managers and marketing may change how engagement is scored.")
        )


def scores_recompute_queue(*, actor: User) -> None:
    """Queue scoring everyone afresh, once the current transaction has committed."""
    check_may_change_scoring(actor)
    from koers.scoring import tasks

    transaction.on_commit(lambda: tasks.scores_recompute())


def _rule_apply(rule: EngagementRule, fields: dict) -> None:
    for name, value in fields.items():
        setattr(rule, name, value.strip() if isinstance(value, str) else value)
    rule.full_clean()


@transaction.atomic
def rule_create(
    *,
    actor: User,
    name: str,
    kind: str,
    points: int,
    category: str = EngagementRule.Weight.TOUCHPOINT,
    pattern: str = "",
    min_engaged_seconds: int = 0,
    active: bool = True,
) -> EngagementRule:
    """Add a rule; when it is active, everyone is scored again."""
    check_may_change_scoring(actor)
    rule = EngagementRule()
    _rule_apply(
        rule,
        {
            "name": name,
            "kind": kind,
            "points": points,
            "category": category,
            "pattern": pattern,
            "min_engaged_seconds": min_engaged_seconds,
            "active": active,
        },
    )
    rule.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATED,
        instance=rule,
        changes=audit_diff({}, audit_snapshot(rule, RULE_FIELDS)),
    )
    if rule.active:
        scores_recompute_queue(actor=actor)
    return rule


@transaction.atomic
def rule_update(
    *,
    actor: User,
    rule: EngagementRule,
    name: str,
    kind: str,
    points: int,
    category: str,
    pattern: str,
    min_engaged_seconds: int,
    active: bool,
) -> EngagementRule:
    """Change a rule; when that changes what it gives, everyone is scored again."""
    check_may_change_scoring(actor)
    before = audit_snapshot(rule, RULE_FIELDS)
    _rule_apply(
        rule,
        {
            "name": name,
            "kind": kind,
            "points": points,
            "category": category,
            "pattern": pattern,
            "min_engaged_seconds": min_engaged_seconds,
            "active": active,
        },
    )
    changes = audit_diff(before, audit_snapshot(rule, RULE_FIELDS))
    if not changes:
        return rule
    rule.save(update_fields=list(changes))
    audit_record(actor=actor, action=AuditEntry.Action.UPDATED, instance=rule, changes=changes)
    # An inactive rule gives nothing before or after, whatever else changed.
    if changes.keys() & RULE_SCORING_FIELDS and (rule.active or "active" in changes):
        scores_recompute_queue(actor=actor)
    return rule


@transaction.atomic
def rule_delete(*, actor: User, rule: EngagementRule) -> None:
    """Delete a rule; when it was active, everyone is scored again."""
    check_may_change_scoring(actor)
    was_active = rule.active
    audit_record(
        actor=actor,
        action=AuditEntry.Action.DELETED,
        instance=rule,
        changes={name: [value, None] for name, value in audit_snapshot(rule, RULE_FIELDS).items()},
    )
    rule.delete()
    if was_active:
        scores_recompute_queue(actor=actor)


def _check_between(field: str, value: int, bounds: tuple[int, int]) -> dict[str, str]:
    low, high = bounds
    if low <= value <= high:
        return {}
    return {
        field: _("Give a number from %(low)s to %(high)s.") % {"low": low, "high": high},
    }


@transaction.atomic
def engagement_settings_update(
    *, actor: User, half_life_days: int, mql_threshold: int, action: str
) -> EngagementSettings:
    """Change how fast points fade, the MQL threshold and what happens when a contact
    crosses it; a new half-life scores everyone again."""
    check_may_change_scoring(actor)
    errors = {
        **_check_between("half_life_days", half_life_days, HALF_LIFE_DAYS),
        **_check_between("mql_threshold", mql_threshold, MQL_THRESHOLD),
    }
    if errors:
        raise ValidationError(errors)
    settings = EngagementSettings.current()
    before = audit_snapshot(settings, SETTINGS_FIELDS)
    settings.half_life_days = half_life_days
    settings.mql_threshold = mql_threshold
    settings.action = action
    settings.full_clean()
    changes = audit_diff(before, audit_snapshot(settings, SETTINGS_FIELDS))
    if not changes:
        return settings
    settings.save(update_fields=list(changes))
    audit_record(actor=actor, action=AuditEntry.Action.UPDATED, instance=settings, changes=changes)
    if "half_life_days" in changes:
        scores_recompute_queue(actor=actor)
    return settings
