"""Koers's public REST API: /api/v1, documented at /api/docs from its OpenAPI schema.

Every call carries a personal access token (Authorization: Bearer koers_…), acts as the
token's user, sees exactly what that user sees and may do only what the token's scopes
allow. Errors are JSON with a stable code, a message and, for bad input, every field.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.utils import translation
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.security import HttpBearer

from koers.api.common import ApiError, field_errors
from koers.api.routers import (
    activities,
    campaigns,
    companies,
    contacts,
    deals,
    events,
    imports,
    marketing_campaigns,
    pipelines,
)
from koers.api.services import api_token_authenticate
from koers.core.limits import over_limit_told_in_batches, seconds_left

# Calls per token per minute; a program that needs more should ask in bulk.
RATE_LIMIT = settings.KOERS_API_RATE_LIMIT


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        api_token = api_token_authenticate(secret=token)
        if api_token is None:
            return None
        _count_call(api_token.secret_hash)
        request.api_token = api_token
        request.user = api_token.user
        translation.activate(api_token.user.language or settings.LANGUAGE_CODE)
        return api_token


def _count_call(token_hash: str) -> None:
    """Refuse the call when the token used up this minute's calls."""
    if over_limit_told_in_batches(f"api:{token_hash[:20]}", RATE_LIMIT):
        raise RateLimited(retry_after=seconds_left())


api = NinjaAPI(
    title="Koers API",
    version="1",
    description=__doc__,
    auth=TokenAuth(),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error(request, status: int, code: str, message: str, errors=None):
    body = {"code": code, "message": str(message), "errors": errors or []}
    return api.create_response(request, body, status=status)


@api.exception_handler(SchemaValidationError)
def _invalid_schema(request, exc):
    errors = []
    for problem in exc.errors:
        location = [str(part) for part in problem.get("loc", ()) if part not in ("body", "payload")]
        errors.append({"field": ".".join(location), "message": problem.get("msg", "")})
    return error(request, 422, "invalid", translation.gettext("Some fields are not valid."), errors)


@api.exception_handler(DjangoValidationError)
def _invalid_values(request, exc):
    return error(
        request,
        422,
        "invalid",
        translation.gettext("Some fields are not valid."),
        field_errors(exc),
    )


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error(request, 404, "not_found", translation.gettext("There is no such record."))


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return error(request, 403, "forbidden", str(exc) or translation.gettext("Not allowed."))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error(
        request,
        401,
        "unauthenticated",
        translation.gettext("Send a valid API token: Authorization: Bearer koers_…"),
    )


@api.exception_handler(RateLimited)
def _rate_limited(request, exc):
    response = error(
        request, 429, "rate_limited", translation.gettext("Too many calls; try again shortly.")
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ApiError)
def _api_error(request, exc):
    return error(request, exc.status_code, exc.code, exc.message, exc.errors)


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return error(request, exc.status_code, "error", exc.message)


api.add_router("/v1/companies", companies.router, tags=["companies"])
api.add_router("/v1/contacts", contacts.router, tags=["contacts"])
api.add_router("/v1/deals", deals.router, tags=["deals"])
api.add_router("/v1/pipelines", pipelines.router, tags=["pipelines"])
api.add_router("/v1/activities", activities.router, tags=["activities"])
api.add_router("/v1/events", events.router, tags=["events"])
api.add_router("/v1/campaigns", campaigns.router, tags=["campaigns"])
api.add_router("/v1/imports", imports.router, tags=["imports"])
api.add_router("/v1/marketing-campaigns", marketing_campaigns.router, tags=["marketing campaigns"])
