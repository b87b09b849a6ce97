"""Reads of personal access tokens."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from koers.api.models import ApiToken
from koers.core.models import User


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first, revoked and expired ones included."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_get_for_user(*, user: User, pk: int) -> ApiToken:
    """One of the user's own tokens, or 404 (an admin revokes others' in the back office)."""
    return get_object_or_404(api_token_list_for_user(user=user), pk=pk)
