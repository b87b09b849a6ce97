"""What every endpoint shares: errors, scopes, cursor pages and Idempotency-Key."""

import decimal
import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.errors import HttpError
from pydantic import AfterValidator, AwareDatetime

from koers.api.models import IdempotentRequest
from koers.api.scopes import scope

CURSOR_SALT = "koers.api.cursor"
MAX_LIMIT = 100


class ApiError(HttpError):
    def __init__(self, status_code: int, code: str, message: str, errors=None):
        super().__init__(status_code, str(message))
        self.code = code
        self.errors = errors or []


class FieldErrorOut(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[FieldErrorOut]


def text(default: str = "", *, max_length: int, **options):
    """A text field of an API schema: at most `max_length` characters and no NUL, which
    PostgreSQL cannot store (Django's forms refuse it too)."""
    return Field(default, max_length=max_length, pattern=r"^[^\x00]*$", **options)


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # a moment of the year 1 or 9999 that UTC moves out of range
        raise ValueError("a moment between the years 1 and 9999") from None


# A moment the API takes: an ISO date and time with its offset, such as
# 2025-03-01T09:30:00+01:00; one without an offset would be ambiguous.
Moment = Annotated[AwareDatetime, AfterValidator(_in_utc)]


# An id a request gives: at most the largest 64-bit integer, the largest id a database
# keeps (SQLite cannot even compare a larger one).
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def owner_filter():
    """The owner filter of a list: me, none or a user id."""
    return Field("", pattern=r"^(me|none|[0-9]{1,18})?$", description="me, none or a user id")


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """[{"field", "message"}] of a Django ValidationError, as every API error lists them."""
    if not hasattr(error, "error_dict"):
        return [{"field": "", "message": " ".join(error.messages)}]
    return [
        {"field": "" if field == "__all__" else field, "message": " ".join(messages)}
        for field, messages in error.message_dict.items()
    ]


ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def require_scope(request, name: str, access: str) -> None:
    """Refuse the call unless the token was given this scope."""
    needed = scope(name, access)
    if needed not in request.api_token.scopes:
        raise ApiError(
            403,
            "missing_scope",
            _("This token may not do this; it needs the scope %(scope)s.") % {"scope": needed},
        )


def cursor_page(
    queryset: models.QuerySet, *, order: tuple[str, ...], cursor: str, limit: int
) -> tuple[list, str | None]:
    """One page of `queryset` in `order` (ending with a unique field) after `cursor`, and
    the cursor of the next page: keyset paging, as fast on the last page as on the first."""
    limit = max(1, min(limit, MAX_LIMIT))
    fields = sort_fields(order)
    if cursor:
        queryset = queryset.filter(_after(fields, cursor_values(queryset.model, fields, cursor)))
    rows = list(queryset.order_by(*order)[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last_row = rows[-1]
    read = last_row.get if isinstance(last_row, dict) else lambda name: getattr(last_row, name)
    return rows, cursor_of([read(name) for name, _desc in fields])


def sort_fields(order: tuple[str, ...]) -> list[tuple[str, bool]]:
    """(field, descending) of each name of an order such as ("-updated_at", "-id")."""
    return [(name.lstrip("-"), name.startswith("-")) for name in order]


def cursor_of(values: list) -> str:
    """The cursor of the page after the row with these sort values."""
    return signing.dumps([_plain(value) for value in values], salt=CURSOR_SALT)


def _plain(value):
    """A sort value as JSON keeps it in the cursor: dates as ISO text, amounts as text."""
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return str(value) if isinstance(value, decimal.Decimal) else value


def _cursor_values(cursor: str) -> list:
    try:
        return signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature:
        raise _bad_cursor() from None


def _bad_cursor() -> ApiError:
    return ApiError(
        422,
        "invalid",
        _("Some fields are not valid."),
        [{"field": "cursor", "message": _("Use the cursor of the previous page.")}],
    )


def _typed(field: models.Field, value):
    if isinstance(field, models.DateTimeField):
        return datetime.fromisoformat(value)
    if isinstance(field, models.DateField):
        return date.fromisoformat(value)
    return field.to_python(value)  # amounts, numbers and text as the field keeps them


def cursor_values(model, fields: list[tuple[str, bool]], cursor: str) -> list:
    """The sort values of the row a cursor points after, as the fields keep them."""
    # A cursor of another list or sort is signed too, but its values do not fit this one.
    try:
        return [
            _typed(model._meta.get_field(name), value)
            for (name, _desc), value in zip(fields, _cursor_values(cursor), strict=True)
        ]
    except (TypeError, ValueError, ArithmeticError, ValidationError):
        raise _bad_cursor() from None


def _after(fields, typed) -> Q:
    """Rows after the one with `typed` values: (a > x) or (a = x and b > y) …, per direction."""
    condition = Q()
    for index, (name, descending) in enumerate(fields):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": typed[index]})
        for earlier, (earlier_name, _desc) in enumerate(fields[:index]):
            step &= Q(**{earlier_name: typed[earlier]})
        condition |= step
    return condition


def idempotent(request, make: Callable[[], tuple[int, dict]]) -> tuple[int, dict]:
    """Run a POST once per Idempotency-Key: a retry gets the first answer, creating nothing."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return make()
    if len(key) > 255:
        raise ApiError(
            422,
            "invalid",
            _("Some fields are not valid."),
            [{"field": "Idempotency-Key", "message": _("Use at most 255 characters.")}],
        )
    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.path.encode(), request.body])
    ).hexdigest()
    token = request.api_token
    earlier = IdempotentRequest.objects.filter(token=token, key=key).first()
    if earlier is None:
        try:
            with transaction.atomic():
                status, body = make()
                IdempotentRequest.objects.create(
                    token=token, key=key, fingerprint=fingerprint, status_code=status, body=body
                )
                return status, body
        except IntegrityError:
            # The same key raced in from a retry; this request's writes were rolled back.
            earlier = IdempotentRequest.objects.filter(token=token, key=key).first()
            if earlier is None:
                raise
    if earlier.fingerprint != fingerprint:
        raise ApiError(
            422,
            "idempotency_key_reused",
            _("This Idempotency-Key was used for another request."),
        )
    return earlier.status_code, earlier.body
