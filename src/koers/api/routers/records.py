"""The endpoints of a kind of record, made from its schemas and its app's services.

List (filters, sort, cursor) and get, and where the app has the services for them create
(with Idempotency-Key), PATCH and delete, read through the app's guarded selectors and
write through its services, so the API sees and may do exactly what its token's user may
in the pages.
"""

import dataclasses
import inspect
import json
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, get_args

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.responses import NinjaJSONEncoder
from pydantic import WithJsonSchema, create_model

from koers.api import pages
from koers.api.common import (
    ERRORS,
    FieldErrorOut,
    cursor_page,
    field_errors,
    idempotent,
    require_scope,
)
from koers.core.models import User
from koers.core.services import check_can_edit_records
from koers.crm import normalise
from koers.crm.selectors import company_visible_to


@dataclass(frozen=True, kw_only=True)
class RecordApi:
    name: str  # the scope's object, such as "contacts"
    out: type[Schema]
    filters: type[Schema]
    sorts: dict[str, tuple[str, ...]]
    list_for_user: Callable[..., models.QuerySet]
    get_for_user: Callable[..., models.Model]
    # The writes the app offers; a kind without one has no such endpoint.
    create_in: type[Schema] | None = None
    create: Callable[..., models.Model] | None = None  # (actor=, **fields)
    patch_in: type[Schema] | None = None
    update: Callable[..., models.Model] | None = None  # (actor, record, **fields)
    delete: Callable[..., None] | None = None  # (actor=, record=), such as record_delete
    # Bulk create-or-update: the fields a record may be matched on, each with the
    # normaliser that gives the form it is stored in (an email in lower case …).
    match_keys: dict[str, Callable[[str], str]] = dataclasses.field(default_factory=dict)
    # Every field of `out` is a column of the record: lists read them with values() and
    # write their JSON directly, without building records or validating each row again
    # (four fifths of a page's time); the schema tests hold the answer to `out`. On
    # PostgreSQL the database writes the JSON (koers.api.pages), which keeps the compiled
    # query of list_for_user: it must build it from the filters and what pages.whose
    # names of the user alone, reading nothing.
    flat: bool = False
    # Fields given as ids that the services take as records: {"owner_id": lookup}; the
    # record goes in as "owner". A lookup raises ValidationError for an id it refuses.
    links: dict[str, Callable[[User, Any], Any]] = dataclasses.field(default_factory=dict)


# The list fields of companies and contacts, as the API takes them. The schema states
# their limits; the services check them, so that a bulk call refuses only the record in
# error and every message names the field and the value as the pages do.
TECHNOLOGIES_SCHEMA = {
    "type": "array",
    "items": {"type": "string", "minLength": 1, "maxLength": 100},
    "maxItems": 50,
    "description": "Software the company uses; names compared without case, each kept once.",
}
CUSTOM_FIELDS_SCHEMA = {
    "type": "object",
    "maxProperties": 50,
    "propertyNames": {"minLength": 1, "maxLength": 100},
    "additionalProperties": {
        "anyOf": [
            {"type": "string", "maxLength": 500},
            {"type": "number", "minimum": -1e15, "maximum": 1e15},
            {"type": "null"},
        ]
    },
    "description": (
        "The record's own fields: name → text (up to 500 characters) or number, at most 50. "
        "Sent with a change, the names sent are set and the others kept; a name sent as "
        "null is removed."
    ),
}
Technologies = Annotated[list[Any], WithJsonSchema(TECHNOLOGIES_SCHEMA)]
CustomFields = Annotated[dict[str, Any], WithJsonSchema(CUSTOM_FIELDS_SCHEMA)]


def with_custom_fields(record: models.Model | None, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields for a service, with the custom fields sent added to the record's own (as
    a JSON merge patch: null removes a name). Without `record` (a new one) nulls are left out."""
    if "custom_fields" not in fields:
        return fields
    given = fields["custom_fields"] or {}
    merged = dict(record.custom_fields) if record is not None else {}
    sent: set[str] = set()
    for name, value in given.items():
        name = name.strip()
        # {"a": 1, " a": 2} names one field twice; which value was meant is not ours to pick.
        if name in sent:
            raise ValidationError(
                {
                    "custom_fields": _("The custom field “%(name)s” is given twice.")
                    % {"name": normalise.shown_text(name)}
                }
            )
        sent.add(name)
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    fields["custom_fields"] = merged
    return fields


def owner_lookup(_actor: User, pk: int) -> User:
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError(_("Choose an owner who can still log in."))
    return user


def _fields(api: RecordApi, actor: User, payload: Schema, *, partial: bool) -> dict[str, Any]:
    values = payload.dict(exclude_unset=partial)
    errors: dict[str, list[str]] = {}
    for field, lookup in api.links.items():
        if field in values:
            pk = values.pop(field)
            try:
                values[field.removesuffix("_id")] = None if pk is None else lookup(actor, pk)
            except ValidationError as error:
                errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    return values


@contextmanager
def _as_api_fields(api: RecordApi):
    """Name fields in errors as the API takes them: the services say "company" for what
    the API calls "company_id"."""
    try:
        yield
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        names = {field.removesuffix("_id"): field for field in api.links}
        raise ValidationError(
            {names.get(field, field): messages for field, messages in error.message_dict.items()}
        ) from None


def _is_moment(annotation) -> bool:
    """A date or a datetime (datetime is a date), possibly None."""
    return any(
        isinstance(kind, type) and issubclass(kind, date)
        for kind in (annotation, *get_args(annotation))
    )


# What NinjaJSONEncoder leaves to Django's encoder for dates and times: ISO, in milliseconds.
_moment_text = DjangoJSONEncoder().default


def make_router(api: RecordApi) -> Router:
    router = Router()
    Out, Filters = api.out, api.filters

    fields = tuple(Out.model_fields)
    moments = [name for name, field in Out.model_fields.items() if _is_moment(field.annotation)]

    # Named per kind: the OpenAPI schema keeps one component per name.
    Page = create_model(
        f"{Out.__name__}Page", __base__=Schema, results=(list[Out], ...), next=(str | None, ...)
    )

    # Operation ids name the kind: client generators want them unique.
    @router.get(
        "",
        response={200: Page, **ERRORS},
        summary=f"List {api.name}",
        operation_id=f"{api.name}_list",
    )
    def list_records(request, filters: Query[Filters]):
        require_scope(request, api.name, "read")
        given = filters.dict(exclude_none=True)
        cursor, limit, sort = given.pop("cursor", ""), given.pop("limit", 50), given.pop("sort")
        if api.flat and pages.available():
            selected = pages.selector_sql(
                (api.name, tuple(sorted(given.items())), *pages.whose(request.user)),
                lambda: (
                    api.list_for_user(user=request.user, sort=sort, **given)
                    .select_related(None)
                    .values(*fields)
                ),
            )
            page = pages.page_json(
                selected, fields=fields, order=api.sorts[sort], cursor=cursor, limit=limit
            )
            if page is not None:
                return HttpResponse(page, content_type="application/json")
        rows = api.list_for_user(user=request.user, sort=sort, **given)
        if api.flat:
            rows = rows.select_related(None).values(*fields)
        results, next_cursor = cursor_page(rows, order=api.sorts[sort], cursor=cursor, limit=limit)
        if api.flat:
            # Dates and times written here, by the function the encoder would call for each.
            for row in results:
                for name in moments:
                    if row[name] is not None:
                        row[name] = _moment_text(row[name])
            return JsonResponse({"results": results, "next": next_cursor}, encoder=NinjaJSONEncoder)
        return {"results": results, "next": next_cursor}

    if api.match_keys:  # before "/{record_id}", which would take "/bulk" for an id
        _add_bulk(router, api)

    @router.get(
        "/{record_id}",
        response={200: Out, **ERRORS},
        summary=f"Get one of the {api.name}",
        operation_id=f"{api.name}_get",
    )
    def get_record(request, record_id: int):
        require_scope(request, api.name, "read")
        return api.get_for_user(user=request.user, pk=record_id)

    if api.create is not None:
        _add_create(router, api)
    if api.update is not None:
        _add_update(router, api)
    if api.delete is not None:
        _add_delete(router, api)
    return router


def _add_create(router: Router, api: RecordApi) -> None:
    Out, CreateIn = api.out, api.create_in

    @router.post(
        "",
        response={201: Out, **ERRORS},
        summary=f"Create one of the {api.name}",
        operation_id=f"{api.name}_create",
    )
    def create_record(request, payload: CreateIn):
        require_scope(request, api.name, "write")

        def make():
            with _as_api_fields(api):
                record = api.create(
                    actor=request.user, **_fields(api, request.user, payload, partial=True)
                )
            # As Ninja writes it in every other answer, such as datetimes in milliseconds.
            return 201, json.loads(
                json.dumps(
                    Out.from_orm(record, context={"request": request}).model_dump(),
                    cls=NinjaJSONEncoder,
                )
            )

        # Already the JSON of Out: as a response, so Ninja does not read it as a record.
        status, body = idempotent(request, make)
        return JsonResponse(body, status=status)


def _add_update(router: Router, api: RecordApi) -> None:
    Out, PatchIn = api.out, api.patch_in

    @router.patch(
        "/{record_id}",
        response={200: Out, **ERRORS},
        summary=f"Change one of the {api.name}",
        operation_id=f"{api.name}_update",
    )
    def update_record(request, record_id: int, payload: PatchIn):
        require_scope(request, api.name, "write")
        record = api.get_for_user(user=request.user, pk=record_id)
        with _as_api_fields(api):
            return api.update(
                request.user, record, **_fields(api, request.user, payload, partial=True)
            )


def _add_delete(router: Router, api: RecordApi) -> None:
    @router.delete(
        "/{record_id}",
        response={204: None, **ERRORS},
        summary=f"Delete one of the {api.name}",
        operation_id=f"{api.name}_delete",
        description=inspect.getdoc(api.delete),  # such as "Move a record … to the trash"
    )
    def delete_record(request, record_id: int):
        require_scope(request, api.name, "write")
        record = api.get_for_user(user=request.user, pk=record_id)
        api.delete(actor=request.user, record=record)
        return Status(204, None)


BULK_MAX = 1000


def _add_bulk(router: Router, api: RecordApi) -> None:
    Out, CreateIn = api.out, api.create_in
    MatchOn = Literal[tuple(api.match_keys)]

    # Named per kind (create_model): the OpenAPI schema keeps one component per name.
    kind = Out.__name__.removesuffix("Out")
    BulkIn = create_model(
        f"{kind}BulkIn",
        __base__=Schema,
        match_on=(MatchOn | None, None),
        records=(list[CreateIn], Field(..., min_length=1, max_length=BULK_MAX)),
    )
    BulkResult = create_model(
        f"{kind}BulkResult",
        __base__=Schema,
        index=(int, ...),
        status=(Literal["created", "updated", "error"], ...),
        id=(int | None, ...),
        errors=(list[FieldErrorOut], ...),
    )
    BulkOut = create_model(
        f"{kind}BulkOut",
        __base__=Schema,
        created=(int, ...),
        updated=(int, ...),
        failed=(int, ...),
        results=(list[BulkResult], ...),
    )

    @router.post(
        "/bulk",
        response={200: BulkOut, **ERRORS},
        summary=f"Create or update up to {BULK_MAX} {api.name} at once",
        operation_id=f"{api.name}_bulk",
        description=(
            "Each record is written on its own: one that is refused does not stop the "
            "others. With match_on, a record whose value of that field matches one the "
            "token's user can see updates it (only the fields sent); otherwise it is created."
        ),
    )
    def bulk_records(request, payload: BulkIn):
        require_scope(request, api.name, "write")
        check_can_edit_records(request.user)

        def make():
            results = [
                _bulk_one(api, request.user, index, record, payload.match_on)
                for index, record in enumerate(payload.records)
            ]
            counts = {status: sum(r["status"] == status for r in results) for status in STATUSES}
            body = {
                "created": counts["created"],
                "updated": counts["updated"],
                "failed": counts["error"],
                "results": results,
            }
            return 200, body

        status, body = idempotent(request, make)
        return JsonResponse(body, status=status)


STATUSES = ("created", "updated", "error")


def _bulk_one(api: RecordApi, actor: User, index: int, record: Schema, match_on) -> dict:
    """Create or update one record of a bulk call in its own savepoint."""
    try:
        with transaction.atomic():
            existing = None
            key = getattr(record, match_on, "") if match_on else ""
            try:
                key = api.match_keys[match_on](key) if key else ""
            except ValidationError as error:
                raise ValidationError({match_on: error.messages}) from None
            if key:  # normalised first: a blank value never matches the records without one
                existing = (
                    api.list_for_user(user=actor).filter(**{match_on: key}).order_by("id").first()
                )
            with _as_api_fields(api):
                if existing is None:
                    made = api.create(actor=actor, **_fields(api, actor, record, partial=True))
                    return {"index": index, "status": "created", "id": made.pk, "errors": []}
                api.update(actor, existing, **_fields(api, actor, record, partial=True))
                return {"index": index, "status": "updated", "id": existing.pk, "errors": []}
    except ValidationError as error:
        return {"index": index, "status": "error", "id": None, "errors": field_errors(error)}


def visible_company(actor: User, pk: int):
    """A company the actor can see; one that exists but is hidden is refused alike, so an
    error never tells which ids exist."""
    company = company_visible_to(user=actor).filter(pk=pk).first()
    if company is None:
        raise ValidationError(_("Choose a company you can see."))
    return company
