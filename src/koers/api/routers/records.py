"""The five endpoints of a kind of record, made from its schemas and its app's services.

List (filters, sort, cursor), get, create (with Idempotency-Key), PATCH and delete (to
the trash) read through the app's guarded selectors and write through its services, so
the API sees and may do exactly what its token's user may in the pages.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import create_model

from koers.api.common import ERRORS, cursor_page, idempotent, require_scope
from koers.core.models import User
from koers.crm.services import record_delete


@dataclass(frozen=True)
class RecordApi:
    name: str  # the scope's object, such as "contacts"
    out: type[Schema]
    create_in: type[Schema]
    patch_in: type[Schema]
    filters: type[Schema]
    sorts: dict[str, tuple[str, ...]]
    list_for_user: Callable[..., models.QuerySet]
    get_for_user: Callable[..., models.Model]
    create: Callable[..., models.Model]
    update: Callable[..., models.Model]
    # Fields given as ids that the services take as records: {"owner_id": lookup}.
    links: dict[str, Callable[[User, int], Any]]


def owner_lookup(_actor: User, pk: int) -> User:
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({"owner_id": _("Choose an owner who can still log in.")})
    return user


def _fields(api: RecordApi, actor: User, payload: Schema, *, partial: bool) -> dict[str, Any]:
    values = payload.dict(exclude_unset=partial)
    for field, lookup in api.links.items():
        if field in values:
            pk = values.pop(field)
            values[field.removesuffix("_id")] = None if pk is None else lookup(actor, pk)
    return values


def make_router(api: RecordApi) -> Router:
    router = Router()
    Out, CreateIn, PatchIn, Filters = api.out, api.create_in, api.patch_in, api.filters

    # Named per kind: the OpenAPI schema keeps one component per name.
    Page = create_model(
        f"{Out.__name__}Page", __base__=Schema, results=(list[Out], ...), next=(str | None, ...)
    )

    @router.get("", response={200: Page, **ERRORS}, summary=f"List {api.name}")
    def list_records(request, filters: Query[Filters]):
        require_scope(request, api.name, "read")
        given = filters.dict(exclude_none=True)
        cursor, limit, sort = given.pop("cursor", ""), given.pop("limit", 50), given.pop("sort")
        rows = api.list_for_user(user=request.user, sort=sort, **given)
        results, next_cursor = cursor_page(rows, order=api.sorts[sort], cursor=cursor, limit=limit)
        return {"results": results, "next": next_cursor}

    @router.get("/{record_id}", response={200: Out, **ERRORS}, summary=f"Get one of the {api.name}")
    def get_record(request, record_id: int):
        require_scope(request, api.name, "read")
        return api.get_for_user(user=request.user, pk=record_id)

    @router.post("", response={201: Out, **ERRORS}, summary=f"Create one of the {api.name}")
    def create_record(request, payload: CreateIn):
        require_scope(request, api.name, "write")

        def make():
            record = api.create(
                actor=request.user, **_fields(api, request.user, payload, partial=True)
            )
            return 201, Out.from_orm(record).model_dump(mode="json")

        return Status(*idempotent(request, make))

    @router.patch(
        "/{record_id}", response={200: Out, **ERRORS}, summary=f"Change one of the {api.name}"
    )
    def update_record(request, record_id: int, payload: PatchIn):
        require_scope(request, api.name, "write")
        record = api.get_for_user(user=request.user, pk=record_id)
        return api.update(request.user, record, **_fields(api, request.user, payload, partial=True))

    @router.delete(
        "/{record_id}",
        response={204: None, **ERRORS},
        summary=f"Move one of the {api.name} to the trash",
    )
    def delete_record(request, record_id: int):
        require_scope(request, api.name, "write")
        record = api.get_for_user(user=request.user, pk=record_id)
        record_delete(actor=request.user, record=record)
        return Status(204, None)

    return router


def visible_company(actor: User, pk: int):
    """A company the actor can see; the services refuse a new link to one they cannot."""
    from koers.crm.models import Company

    try:
        return Company.objects.get(pk=pk, deleted_at__isnull=True)
    except ObjectDoesNotExist:
        raise ValidationError({"company_id": _("There is no such company.")}) from None
