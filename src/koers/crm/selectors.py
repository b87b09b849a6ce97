"""Reads of companies and contacts, always through the visibility rule of core."""

from collections.abc import Mapping
from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from koers.core.models import User
from koers.core.selectors import visible_q
from koers.crm import list_extras
from koers.crm.models import Company, Contact, LifecycleStage, fold_city
from koers.crm.search import search_filter

COMPANY_SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "-updated": ("-updated_at", "-id"),
    "-created": ("-id",),
}
CONTACT_SORTS = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "-updated": ("-updated_at", "-id"),
    "-created": ("-id",),
}


def _owner_filter(owner: str, user: User) -> Q:
    if owner == "me":
        return Q(owner=user)
    if owner == "none":
        return Q(owner__isnull=True)
    if owner.isdecimal():  # isdigit() takes "²", which int() refuses
        return Q(owner_id=int(owner))
    return Q()


def company_visible_to(*, user: User, trash: bool = False) -> QuerySet[Company]:
    """Return the companies the user may see: alive ones, or those in the trash."""
    return Company.objects.filter(visible_q(user=user), deleted_at__isnull=not trash)


def company_list_for_user(
    *,
    user: User,
    q: str = "",
    owner: str = "",
    lifecycle_stage: str = "",
    city: str = "",
    industry: str = "",
    legal_form: str = "",
    sort: str = "name",
    trash: bool = False,
) -> QuerySet[Company]:
    companies = company_visible_to(user=user, trash=trash).filter(_owner_filter(owner, user))
    if lifecycle_stage:
        companies = companies.filter(lifecycle_stage=lifecycle_stage)
    if city:
        companies = companies.filter(city_key=fold_city(city))
    if industry:
        companies = companies.filter(industry=industry)
    if legal_form:
        companies = companies.filter(legal_form=legal_form)
    companies = search_filter(companies, q)
    return companies.select_related("owner").order_by(
        *COMPANY_SORTS.get(sort, COMPANY_SORTS["name"])
    )


def company_get_for_user(*, user: User, pk: int, trash: bool = False) -> Company:
    """Return a company the user may see, or raise Http404 as if it did not exist."""
    companies = company_visible_to(user=user, trash=trash)
    return get_object_or_404(companies.select_related("owner", "parent", "deleted_by"), pk=pk)


def company_is_visible(*, user: User, pk: int | None) -> bool:
    """Whether the user may open this company: linked records show its name, but a link only
    where it leads somewhere."""
    return pk is not None and company_visible_to(user=user).filter(pk=pk).exists()


def company_contacts_for_user(*, user: User, company: Company) -> QuerySet[Contact]:
    return contact_visible_to(user=user).filter(company=company).order_by(*CONTACT_SORTS["name"])


def company_subsidiaries_for_user(*, user: User, company: Company) -> QuerySet[Company]:
    return company_visible_to(user=user).filter(parent=company).order_by("name")


def company_pick_for_user(*, user: User, q: str, limit: int = 10) -> list[Company]:
    """Return the first companies matching `q`, for choosing one in a form."""
    if not q.strip():
        return []
    return list(
        search_filter(company_visible_to(user=user), q)
        .order_by("name", "id")
        .only("id", "name", "city")[:limit]
    )


def contact_visible_to(*, user: User, trash: bool = False) -> QuerySet[Contact]:
    return Contact.objects.filter(visible_q(user=user), deleted_at__isnull=not trash)


def contact_list_for_user(
    *,
    user: User,
    q: str = "",
    owner: str = "",
    lifecycle_stage: str = "",
    city: str = "",
    dmu_role: str = "",
    function: str = "",
    company_id: int | None = None,
    sort: str = "name",
    trash: bool = False,
    extra: Mapping[str, str] | None = None,
) -> QuerySet[Contact]:
    """The contacts the user may see, filtered and sorted. `extra` holds the filters and
    sort that other apps register (list_extras.chosen); given, the rows also carry the
    registered columns' values."""
    contacts = contact_visible_to(user=user, trash=trash).filter(_owner_filter(owner, user))
    if lifecycle_stage:
        contacts = contacts.filter(lifecycle_stage=lifecycle_stage)
    if city:
        # A contact's city is the city of the company they work for. As a subquery, so the
        # database may start from the companies in that city (company_city_stage).
        in_city = Company.objects.filter(city_key=fold_city(city))
        contacts = contacts.filter(company__in=in_city)
    if dmu_role:
        contacts = contacts.filter(dmu_role=dmu_role)
    if function:
        contacts = contacts.filter(function=function)
    if company_id is not None:
        contacts = contacts.filter(company_id=company_id)
    contacts = search_filter(contacts, q).select_related("owner", "company")
    if extra is not None:
        contacts = list_extras.applied("contact", contacts, extra)
        by_extra = list_extras.ordered("contact", contacts, extra.get("sort", ""))
        if by_extra is not None:
            return by_extra
    return contacts.order_by(*CONTACT_SORTS.get(sort, CONTACT_SORTS["name"]))


def contact_get_for_user(*, user: User, pk: int, trash: bool = False) -> Contact:
    """Return a contact the user may see, or raise Http404 as if it did not exist."""
    contacts = contact_visible_to(user=user, trash=trash)
    return get_object_or_404(contacts.select_related("owner", "company", "deleted_by"), pk=pk)


def start_summary_for_user(*, user: User) -> dict:
    """Return the numbers and records of the user's own part of the CRM for the start page."""
    by_stage = dict(
        Contact.objects.filter(owner=user, deleted_at__isnull=True)
        .values_list("lifecycle_stage")
        .annotate(count=Count("id"))
        .values_list("lifecycle_stage", "count")
    )
    month_ago = timezone.now() - timedelta(days=30)
    return {
        "contacts_by_stage": [
            (stage, label, by_stage.get(stage, 0)) for stage, label in LifecycleStage.choices
        ],
        "my_contacts": sum(by_stage.values()),
        "my_companies": Company.objects.filter(owner=user, deleted_at__isnull=True).count(),
        "my_customers": Company.objects.filter(
            owner=user, deleted_at__isnull=True, lifecycle_stage=LifecycleStage.CUSTOMER
        ).count(),
        "my_new_contacts": Contact.objects.filter(
            owner=user, deleted_at__isnull=True, created_at__gte=month_ago
        ).count(),
        "recent_companies": list(
            company_visible_to(user=user).select_related("owner").order_by("-updated_at", "-id")[:5]
        ),
        "recent_contacts": list(
            contact_visible_to(user=user)
            .select_related("company")
            .order_by("-updated_at", "-id")[:5]
        ),
    }


def trash_for_user(*, user: User, kind: str) -> QuerySet[Company] | QuerySet[Contact]:
    """Return the deleted companies or contacts the user may see, latest deleted first."""
    if kind == "contacts":
        records = contact_visible_to(user=user, trash=True).select_related("deleted_by", "company")
    else:
        records = company_visible_to(user=user, trash=True).select_related("deleted_by")
    return records.order_by("-deleted_at", "-id")
