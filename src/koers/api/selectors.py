"""Reads of personal access tokens and webhooks."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from koers.api.models import ApiToken, WebhookDelivery, WebhookSubscription
from koers.core.models import User


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first, revoked and expired ones included."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_get_for_user(*, user: User, pk: int) -> ApiToken:
    """One of the user's own tokens, or 404 (an admin revokes others' in the back office)."""
    return get_object_or_404(api_token_list_for_user(user=user), pk=pk)


def webhook_subscription_list_for_user(*, user: User) -> QuerySet[WebhookSubscription]:
    """The user's own webhooks, newest first."""
    return WebhookSubscription.objects.filter(owner=user).order_by("-created_at", "-id")


def webhook_subscription_get_for_user(*, user: User, pk: int) -> WebhookSubscription:
    """One of the user's own webhooks, or 404: nobody else sees them, admins neither."""
    return get_object_or_404(webhook_subscription_list_for_user(user=user), pk=pk)


def webhook_delivery_list(
    *, subscription: WebhookSubscription, limit: int = 50
) -> list[WebhookDelivery]:
    """A webhook's latest deliveries, newest first."""
    return list(subscription.deliveries.order_by("-created_at", "-id")[:limit])


def webhook_delivery_get_for_user(*, user: User, subscription_id: int, pk: int) -> WebhookDelivery:
    """A delivery of one of the user's own webhooks, or 404."""
    return get_object_or_404(
        WebhookDelivery.objects.select_related("subscription").filter(
            subscription__owner=user, subscription_id=subscription_id
        ),
        pk=pk,
    )
