"""Reads of imports, mappings and merges."""

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from django.core.cache import cache
from django.db.models import Count, Field, Max, Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from koers.core.models import User
from koers.crm.models import Company, Contact
from koers.crm.selectors import company_visible_to, contact_visible_to
from koers.dataio import duplicates, sources
from koers.dataio.files import job_path, job_source
from koers.dataio.models import ImportJob, ImportRejection, Merge


def import_job_list_for_user(*, user: User) -> QuerySet[ImportJob]:
    """The imports a user started; admins see everyone's."""
    jobs = ImportJob.objects.select_related("created_by")
    if not user.is_admin:
        jobs = jobs.filter(created_by=user)
    return jobs


def import_job_get_for_user(*, user: User, pk: int) -> ImportJob:
    """An import the user started (or any, for an admin), or 404."""
    return get_object_or_404(import_job_list_for_user(user=user), pk=pk)


def import_job_sample_rows(*, job: ImportJob, count: int) -> list:
    """The first rows of the job's file, to show beside its columns while mapping them."""
    return list(islice(sources.source_rows(job_path(job), job_source(job)), count))


def import_rejection_list(*, job: ImportJob) -> QuerySet[ImportRejection]:
    return job.rejections.order_by("row_number")


# duplicates and merges

# How long a user's list of duplicates is kept; any change to the records renews it sooner.
DUPLICATES_CACHE_SECONDS = 600


@dataclass(frozen=True)
class DuplicatePair:
    """Two records the user can see that are probably one, for the review list."""

    first: Company | Contact
    second: Company | Contact
    score: int
    reasons: list[str]


def _visible_records(*, user: User, kind: str) -> QuerySet:
    if kind == Merge.Kind.COMPANY:
        return company_visible_to(user=user)
    if kind == Merge.Kind.CONTACT:
        return contact_visible_to(user=user)
    raise ValueError(f"no duplicates of {kind!r}")


def duplicate_candidates_for_user(*, user: User, kind: str) -> list[duplicates.Candidate]:
    """Every pair of records of `kind` the user can see that are probably one, best first.

    Only live records count, so a merged record (in the trash) never comes back. The
    finder reads the records in one query; its answer is cached per user until the
    records change (their number, the latest change or a new merge).
    """
    records = _visible_records(user=user, kind=kind)
    state = records.aggregate(count=Count("id"), latest=Max("updated_at"))
    last_merge = Merge.objects.aggregate(last=Max("id"))["last"]
    key = (
        f"dataio:duplicates:{kind}:{user.pk}:{user.role}:{user.team_id}:{state['count']}:"
        f"{state['latest'].timestamp() if state['latest'] else 0}:{last_merge or 0}"
    )
    found = cache.get(key)
    if found is None:
        if kind == Merge.Kind.COMPANY:
            rows = records.values_list(*duplicates.COMPANY_COLUMNS)
            found = duplicates.find_company_duplicates(rows.iterator(chunk_size=10_000))
        else:
            rows = records.values_list(*duplicates.CONTACT_COLUMNS)
            found = duplicates.find_contact_duplicates(rows.iterator(chunk_size=10_000))
        cache.set(key, found, DUPLICATES_CACHE_SECONDS)
    return found


def duplicate_pairs_for_user(
    *, user: User, kind: str, limit: int = 50, offset: int = 0
) -> list[DuplicatePair]:
    """The `limit` likeliest pairs of duplicates of `kind` the user can see (after the first
    `offset`), with the records loaded in one query."""
    candidates = duplicate_candidates_for_user(user=user, kind=kind)[offset : offset + limit]
    related = ["company", "owner"] if kind == Merge.Kind.CONTACT else ["owner"]
    records = (
        _visible_records(user=user, kind=kind)
        .select_related(*related)
        .in_bulk(
            {pk for candidate in candidates for pk in (candidate.first_id, candidate.second_id)}
        )
    )
    return [
        DuplicatePair(
            first=records[candidate.first_id],
            second=records[candidate.second_id],
            score=candidate.score,
            reasons=candidate.reason_labels,
        )
        for candidate in candidates
        if candidate.first_id in records and candidate.second_id in records
    ]


def duplicate_score(*, first: Company | Contact, second: Company | Contact) -> duplicates.Candidate:
    """How alike two records of one kind are, and why."""
    if isinstance(first, Company):
        columns, score = duplicates.COMPANY_COLUMNS, duplicates.score_companies
    else:
        columns, score = duplicates.CONTACT_COLUMNS, duplicates.score_contacts
    rows = [[getattr(record, column) for column in columns] for record in (first, second)]
    return score(*rows)


def merge_get_for_user(*, user: User, pk: int) -> Merge:
    """A merge whose survivor the user can see (alive or in the trash), or 404."""
    merge = get_object_or_404(Merge, pk=pk)
    visible = company_visible_to if merge.kind == Merge.Kind.COMPANY else contact_visible_to
    if not any(
        visible(user=user, trash=trash).filter(pk=merge.survivor_id).exists()
        for trash in (False, True)
    ):
        raise Http404
    return merge


def related_foreign_keys(model: type[Model]) -> Iterator[tuple[type[Model], Field]]:
    """(model, foreign key) for every foreign key that points at `model`, hidden ones and
    those of many-to-many tables included: what a merge moves, in any app."""
    for relation in model._meta.get_fields(include_hidden=True):
        if relation.auto_created and not relation.concrete and not relation.many_to_many:
            related = relation.related_model
            if related._meta.managed and not related._meta.proxy:
                yield related, relation.field


def merge_related_counts(*, record: Company | Contact) -> list[tuple[str, int]]:
    """(what, how many) of the rows that point at a record, such as its deals and
    activities, for the pair page: what moves when it is merged away."""
    counts = []
    for related, key in related_foreign_keys(type(record)):
        count = related._base_manager.filter(**{key.attname: record.pk}).count()
        if count:
            counts.append((str(related._meta.verbose_name_plural), count))
    return counts
