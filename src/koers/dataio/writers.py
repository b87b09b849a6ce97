"""How import rows become companies and contacts: matched, suppressed, linked, written.

A writer gets one batch of cleaned rows and either writes them (inside the import's
transaction for that batch) or, on a dry run, only counts what it would do. It never
matches or links a record its user cannot see.
"""

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rapidfuzz import fuzz, process

from koers.core.models import AuditEntry, User
from koers.crm import normalise
from koers.crm.models import Company, Contact, Suppression, fold_city
from koers.crm.selectors import company_visible_to, contact_visible_to
from koers.crm.services import record_value_text, suppression_add_keys
from koers.dataio import bulk, targets


@dataclass
class CleanRow:
    number: int
    values: dict[str, Any]


@dataclass
class BatchOutcome:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    # (row number, reason)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    companies_created: int = 0
    # (row number, name in the file, existing company it nearly matches), dry runs only
    near: list[tuple[int, str, str]] = field(default_factory=list)


# A new company whose name is this alike (rapidfuzz ratio of the name keys) to one the
# importer can see is pointed out in the dry run. Only so many names are compared per
# check; the duplicate finder covers the rest once imported.
NEAR_SCORE = 90
NEAR_CHECKS = 1000


def near_companies(actor: User, state: dict, outcome: BatchOutcome, names) -> None:
    """Point out names that are about to become new companies but nearly match one."""
    if "company_keys" not in state:
        known = list(company_visible_to(user=actor).values_list("name_key", "name"))
        state["company_keys"] = ([key for key, _ in known], [name for _, name in known])
        state["near_checked"] = 0
    keys, existing = state["company_keys"]
    for number, name in names:
        if state["near_checked"] >= NEAR_CHECKS or not keys:
            return
        state["near_checked"] += 1
        found = process.extractOne(
            normalise.company_name_key(name), keys, scorer=fuzz.ratio, score_cutoff=NEAR_SCORE
        )
        if found is not None:
            outcome.near.append((number, name, existing[found[2]]))


# Dutch surname prefixes, longest first: "Jan van der Berg" → Jan / van der / Berg.
PREFIXES = sorted(
    ["van", "de", "der", "den", "van de", "van der", "van den", "van het", "in 't", "'t", "ter",
     "ten", "te", "op de", "op den", "in de", "uit de", "uit den", "von", "di", "da", "le", "la",
     "du", "del", "van 't"],
    key=len,
    reverse=True,
)  # fmt: skip


def split_full_name(full_name: str) -> tuple[str, str, str]:
    """First name, prefix and last name of "Jan van der Berg" (a single word is a last name)."""
    words = full_name.split()
    if len(words) < 2:
        return "", "", full_name
    first, rest = words[0], " ".join(words[1:])
    for prefix in PREFIXES:
        if rest.casefold().startswith(prefix + " "):
            return first, rest[: len(prefix)], rest[len(prefix) + 1 :]
    return first, "", rest


def resolve_owners(rows: list[CleanRow], outcome: BatchOutcome) -> list[CleanRow]:
    """Resolve the owner column (username, email or full name) to users; reject the rest."""
    wanted = {row.values["owner"] for row in rows if "owner" in row.values}
    found: dict[str, int] = {}
    if wanted:
        for user in User.objects.filter(is_active=True):
            for spelling in (user.username, user.email, user.get_full_name()):
                if spelling and spelling.casefold() in wanted:
                    found.setdefault(spelling.casefold(), user.pk)
    kept = []
    for row in rows:
        owner = row.values.pop("owner", None)
        if owner is None:
            kept.append(row)
        elif owner in found:
            row.values["owner_id"] = found[owner]
            kept.append(row)
        else:
            outcome.rejected.append(
                (
                    row.number,
                    _("Owner: nobody who can log in is called “%(owner)s”.") % {"owner": owner},
                )
            )
    return kept


def _suppress(rows: list[CleanRow], outcome: BatchOutcome) -> list[CleanRow]:
    """Skip people who asked to be forgotten; keep people who objected uncallable."""
    keys = {row.number: normalise.suppression_keys(row.values) for row in rows}
    wanted = [key for row_keys in keys.values() for key in row_keys]
    reasons = dict(
        bulk.among(Suppression.objects, "key_hash", wanted).values_list("key_hash", "reason")
    )
    kept = []
    for row in rows:
        found = {reasons[key] for key in keys[row.number] if key in reasons}
        if Suppression.Reason.ERASED in found:
            outcome.skipped += 1
            continue
        if Suppression.Reason.OBJECTED in found:
            row.values["do_not_call"] = True
        kept.append(row)
    return kept


@dataclass
class _Plan:
    """What one batch will do: new records and changes to existing ones."""

    inserts: dict[Any, dict[str, Any]] = field(default_factory=dict)  # key → values
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)  # id → values
    created: int = 0
    updated: int = 0
    # (row number, reason): rows that cannot be folded into the record they match
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _fold(into: dict[str, Any], values: dict[str, Any], stored: dict | None, plan, number) -> None:
    """Put a later row's values over what an earlier row or the record has; custom fields
    add up name by name (the row's names win), up to the most a record keeps."""
    custom = values.get("custom_fields")
    if custom is not None:
        merged = {**(stored or {}), **into.get("custom_fields", {}), **custom}
        if len(merged) > normalise.MAX_CUSTOM_FIELDS:
            plan.rejected.append(
                (
                    number,
                    _(
                        "Custom fields: a record keeps at most %(count)d; with this row it "
                        "would have %(given)d."
                    )
                    % {"count": normalise.MAX_CUSTOM_FIELDS, "given": len(merged)},
                )
            )
            return
        custom = {**into.get("custom_fields", {}), **custom}
    into.update(values)
    if custom is not None:
        into["custom_fields"] = custom
    plan.updated += 1


def _plan(
    rows: list[CleanRow],
    *,
    key_field: str,
    existing: dict[Any, int],
    seen: set | None,
    current: dict[int, dict[str, Any]],
) -> _Plan:
    """Decide per row: update the matched record, fold into a row met before, or create.

    A later row with the same key as an earlier one updates what the earlier one made,
    in this batch or (through `existing`, or `seen` on a dry run) in an earlier one.
    `current` holds the matched records' values, to add the rows' custom fields to theirs.
    """
    plan = _Plan()
    for index, row in enumerate(rows):
        key = row.values.get(key_field) if key_field else None
        if key and key in existing:
            pk = existing[key]
            stored = current.get(pk, {}).get("custom_fields")
            _fold(plan.updates.setdefault(pk, {}), row.values, stored, plan, row.number)
        elif key and key in plan.inserts:
            _fold(plan.inserts[key], row.values, None, plan, row.number)
        elif key and seen is not None and key in seen:
            plan.updated += 1
        else:
            plan.inserts[key or ("row", index)] = row.values
            plan.created += 1
            if key and seen is not None:
                seen.add(key)
    return plan


def _name_keys() -> Callable[[str], str]:
    """normalise.company_name_key, made once per name: a batch names most companies often."""
    keys: dict[str, str] = {}

    def name_key(name: str) -> str:
        key = keys.get(name)
        if key is None:
            key = keys[name] = normalise.company_name_key(name)
        return key

    return name_key


def _value_text(value: Any) -> Any:
    if value.__class__ is str:  # nearly every value, so asked before the slower checks
        return value
    if isinstance(value, list | dict):
        return record_value_text(value)
    return value.isoformat() if hasattr(value, "isoformat") else value


class RecordWriter(ABC):
    """Writes one crm model: its insert columns and defaults, matching and the audit trail."""

    model: type[Company] | type[Contact]
    key_fields: dict[str, str]  # match key → model field it is compared with

    @abstractmethod
    def visible(self, actor: User):
        """The records of this model the actor can see."""

    def prepare(
        self, actor: User, rows: list[CleanRow], outcome, *, write, state
    ) -> list[CleanRow]:
        return rows

    def derived(self, values: dict[str, Any]) -> None:
        """Fill the fields Koers keeps beside what a person types (such as name_key)."""
        return  # nothing, unless a model's writer says otherwise

    def point_out_near(self, actor, state, outcome, new_rows) -> None:
        """On a dry run: say which new records nearly match an existing one."""
        return  # nothing, unless a model's writer says otherwise

    def __call__(self, job, actor: User, rows: list[CleanRow], *, write: bool, state: dict):
        outcome = BatchOutcome()
        rows = resolve_owners(rows, outcome)
        rows = self.prepare(actor, rows, outcome, write=write, state=state)
        key_field = self.key_fields.get(job.match_on, "")
        existing: dict[Any, int] = {}
        current: dict[int, dict[str, Any]] = {}
        if key_field:
            keys = {row.values[key_field] for row in rows if row.values.get(key_field)}
            columns = {name for row in rows for name in row.values} & self.columns
            for record in (
                bulk.among(self.visible(actor), key_field, keys)
                .order_by("id")
                .values("id", key_field, *columns)
            ):
                if existing.setdefault(record[key_field], record["id"]) == record["id"]:
                    current[record["id"]] = record
        plan = _plan(
            rows,
            key_field=key_field,
            existing=existing,
            seen=None if write else state.setdefault("seen", set()),
            current=current,
        )
        outcome.created, outcome.updated = plan.created, plan.updated
        outcome.rejected += plan.rejected
        if not write:
            new = [row for row in rows if not (key_field and row.values.get(key_field) in existing)]
            self.point_out_near(actor, state, outcome, new)
        if write:
            self._insert(actor, list(plan.inserts.values()))
            self._update(actor, plan.updates, current)
            self.after_write([*plan.inserts.values(), *plan.updates.values()])
        return outcome

    def after_write(self, written: list[dict[str, Any]]) -> None:
        """What follows from the values just written (the suppression list, for contacts)."""
        return  # nothing, unless a model's writer says otherwise

    @cached_property
    def audited(self) -> set[str]:
        """What a person typed, not what Koers derives (name_key, city_key)."""
        return {field.attname for field in self.model._meta.concrete_fields if field.editable}

    @property
    def columns(self) -> set[str]:
        return {model_field.attname for model_field in self.model._meta.concrete_fields} - {"id"}

    def defaults(self, actor: User) -> dict[str, Any]:
        now = timezone.now()
        values = {
            model_field.attname: model_field.get_default()
            for model_field in self.model._meta.concrete_fields
            if model_field.attname != "id"
        }
        return values | {"created_at": now, "updated_at": now, "owner_id": actor.pk}

    def _insert(self, actor: User, records: list[dict[str, Any]]) -> list[int]:
        if not records:
            return []
        defaults = self.defaults(actor)
        columns = defaults.keys()
        derived, display, audited = self.derived, self.display, self.audited
        rows = []
        for values in records:
            if values.keys() <= columns:
                values = values.copy()
            else:
                values = {name: value for name, value in values.items() if name in columns}
            derived(values)
            # The defaults' order, with the row's values over them (all of them columns).
            rows.append(list((defaults | values).values()))
        ids = bulk.insert(self.model, list(columns), rows)
        bulk.audit(
            actor=actor,
            action=AuditEntry.Action.CREATED,
            model=self.model,
            entries=[
                (
                    pk,
                    display(values),
                    {
                        name: [None, _value_text(value)]
                        for name, value in values.items()
                        if name in audited
                    },
                )
                for pk, values in zip(ids, records, strict=True)
            ],
        )
        return ids

    def _update(self, actor, updates: dict[int, dict[str, Any]], current: dict[int, dict]) -> None:
        by_columns: dict[tuple[str, ...], list[list[Any]]] = defaultdict(list)
        audits = []
        now = timezone.now()
        model_columns, audited = self.columns, self.audited
        for pk, values in updates.items():
            before = current[pk]
            # Never make someone callable again who said no.
            if before.get("do_not_call"):
                values.pop("do_not_call", None)
            # The file's custom fields are added to the record's; the others stay.
            if "custom_fields" in values:
                values["custom_fields"] = {
                    **(before.get("custom_fields") or {}),
                    **values["custom_fields"],
                }
            changed = {
                name: value
                for name, value in values.items()
                if name in before and before[name] != value
            }
            if not changed:
                continue
            self.derived(changed)
            changed = {name: value for name, value in changed.items() if name in model_columns}
            columns = (*sorted(changed), "updated_at")
            by_columns[columns].append([pk, *(changed[name] for name in columns[:-1]), now])
            audits.append(
                (
                    pk,
                    self.display({**before, **changed}),
                    {
                        name: [_value_text(before.get(name)), _value_text(value)]
                        for name, value in changed.items()
                        if name in before and name in audited
                    },
                )
            )
        for columns, rows in by_columns.items():
            bulk.update(self.model, columns, rows)
        bulk.audit(actor=actor, action=AuditEntry.Action.UPDATED, model=self.model, entries=audits)

    @abstractmethod
    def display(self, values: dict[str, Any]) -> str:
        """The record's name, as the audit trail shows it."""


class CompanyWriter(RecordWriter):
    model = Company
    key_fields = {
        "external_id": "external_id",
        "kvk_number": "kvk_number",
        "vat_number": "vat_number",
        "domain": "domain",
        "name": "name_key",
    }

    def visible(self, actor):
        return company_visible_to(user=actor)

    def prepare(self, actor, rows, outcome, *, write, state):
        name_key = _name_keys()
        for row in rows:
            row.values["name_key"] = name_key(row.values.get("name", ""))
        return rows

    def derived(self, values):
        # A name_key beside the name was made from it (prepare, _link_companies).
        if "name" in values and "name_key" not in values:
            values["name_key"] = normalise.company_name_key(values["name"])
        if "city" in values:
            values["city_key"] = fold_city(values["city"])

    def point_out_near(self, actor, state, outcome, new_rows):
        names = [(row.number, row.values["name"]) for row in new_rows if row.values.get("name")]
        near_companies(actor, state, outcome, names)

    def display(self, values):
        return values.get("name", "")


class ContactWriter(RecordWriter):
    model = Contact
    key_fields = {"external_id": "external_id", "email": "email"}

    def visible(self, actor):
        return contact_visible_to(user=actor)

    def defaults(self, actor):
        return super().defaults(actor) | {"lead_source": Contact.LeadSource.IMPORT}

    def prepare(self, actor, rows, outcome, *, write, state):
        for row in rows:
            full_name = row.values.pop("full_name", "")
            if full_name and not row.values.get("last_name"):
                first, prefix, last = split_full_name(full_name)
                row.values.setdefault("first_name", first)
                if prefix:
                    row.values.setdefault("name_prefix", prefix)
                row.values["last_name"] = last
        rows = _suppress(rows, outcome)
        self._link_companies(actor, rows, outcome, write=write, state=state)
        return rows

    def _link_companies(self, actor, rows, outcome, *, write, state) -> None:
        """Point each row at the company it names (by KvK number, else by name); make the
        companies that do not exist yet."""
        by_row = {}
        name_key = _name_keys()
        for row in rows:
            name = row.values.pop("company_name", "")
            kvk = row.values.pop("company_kvk_number", "")
            if name or kvk:
                by_row[row.number] = (kvk, name_key(name) if name else "", name)
        if not by_row:
            return
        kvks = {kvk for kvk, _key, _name in by_row.values() if kvk}
        keys = {key for _kvk, key, _name in by_row.values() if key}
        visible = company_visible_to(user=actor).order_by("id")
        # Two lookups, each on its own index (an OR of both would scan the table).
        found_kvk = dict(
            reversed(bulk.among(visible, "kvk_number", kvks).values_list("kvk_number", "id"))
        )
        found_key = dict(
            reversed(bulk.among(visible, "name_key", keys).values_list("name_key", "id"))
        )
        missing = {}
        for kvk, key, name in by_row.values():
            if not (kvk and kvk in found_kvk) and not (key and key in found_key) and name:
                # name_key is not audited; it saves CompanyWriter.derived making it again.
                missing.setdefault((kvk, key), {"name": name, "kvk_number": kvk, "name_key": key})
        if not write:
            # Nothing is written on a dry run: a company met in an earlier batch is new once.
            seen = state.setdefault("companies_seen", set())
            missing = {pair: values for pair, values in missing.items() if pair not in seen}
            seen.update(missing)
        outcome.companies_created = len(missing)
        if not write:
            near_companies(
                actor,
                state,
                outcome,
                [
                    (number, name)
                    for number, (kvk, key, name) in by_row.items()
                    if (kvk, key) in missing
                ],
            )
        if write and missing:
            ids = CompanyWriter()._insert(actor, list(missing.values()))
            for (kvk, key), pk in zip(missing, ids, strict=True):
                if kvk:
                    found_kvk.setdefault(kvk, pk)
                found_key.setdefault(key, pk)
        for row in rows:
            if row.number in by_row:
                kvk, key, _name = by_row[row.number]
                company = found_kvk.get(kvk) if kvk else None
                row.values["company_id"] = company or found_key.get(key)

    def after_write(self, written):
        # As contact_update does: who is marked do-not-call stays so on any later list.
        keys = [
            key
            for values in written
            if values.get("do_not_call")
            for key in normalise.suppression_keys(values)
        ]
        suppression_add_keys(keys=keys, reason=Suppression.Reason.OBJECTED)

    def display(self, values):
        parts = (values.get("first_name"), values.get("name_prefix"), values.get("last_name"))
        return " ".join([part for part in parts if part])


targets.register(
    targets.Target(
        key="companies",
        label=gettext_lazy("Companies"),
        fields=targets.COMPANY_FIELDS,
        match_keys=("external_id", "kvk_number", "vat_number", "domain", "name"),
        writer=CompanyWriter(),
        takes_custom_fields=True,
    )
)
targets.register(
    targets.Target(
        key="contacts",
        label=gettext_lazy("Contacts"),
        fields=targets.CONTACT_FIELDS,
        match_keys=("external_id", "email"),
        writer=ContactWriter(),
        needs_one_of=("last_name", "full_name"),
        takes_custom_fields=True,
    )
)
