"""The profile pages where a user makes and revokes personal access tokens, and
subscribes URLs to events (webhooks)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from koers.api import selectors, services, webhooks
from koers.api.forms import ApiTokenForm, WebhookSubscriptionForm, scope_label


# The answer to a create holds the secret: no browser or proxy may keep a copy.
@never_cache
def token_list(request: HttpRequest) -> HttpResponse:
    # Not `request.POST or None`: an empty POST must show its errors, not a fresh form.
    data = request.POST if request.method == "POST" else None
    form = ApiTokenForm(data, user=request.user)
    created = secret = None
    if data is not None and form.is_valid():
        try:
            created, secret = services.api_token_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            # Shown in this answer only, never kept in the session or a message.
            form = ApiTokenForm(user=request.user)
    tokens = list(selectors.api_token_list_for_user(user=request.user))
    for token in tokens:
        token.scope_labels = [scope_label(value) for value in token.scopes]
    return render(
        request,
        "api/token_list.html",
        {"form": form, "tokens": tokens, "created": created, "secret": secret},
    )


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = selectors.api_token_get_for_user(user=request.user, pk=pk)
    services.api_token_revoke(user=request.user, token=token)
    messages.success(request, _("The token “%(name)s” no longer works.") % {"name": token.name})
    return redirect("api:token-list")


def webhook_list(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = WebhookSubscriptionForm(data)
    if data is not None and form.is_valid():
        try:
            subscription = webhooks.webhook_subscription_create(
                owner=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "Koers now sends the events you chose. Check their signatures with the "
                    "signing secret on this page."
                ),
            )
            return redirect("api:webhook-detail", pk=subscription.pk)
    subscriptions = selectors.webhook_subscription_list_for_user(user=request.user)
    return render(request, "api/webhook_list.html", {"form": form, "subscriptions": subscriptions})


# The page shows the secret: no browser or proxy may keep a copy.
@never_cache
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = selectors.webhook_subscription_get_for_user(user=request.user, pk=pk)
    data = request.POST if request.method == "POST" else None
    form = WebhookSubscriptionForm(
        data, initial={"url": subscription.url, "events": subscription.events}
    )
    if data is not None and form.is_valid():
        try:
            webhooks.webhook_subscription_update(
                user=request.user, subscription=subscription, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The webhook is saved."))
            return redirect("api:webhook-detail", pk=subscription.pk)
    return render(
        request,
        "api/webhook_detail.html",
        {
            "subscription": subscription,
            "form": form,
            "deliveries": selectors.webhook_delivery_list(subscription=subscription),
            "max_attempts": webhooks.max_attempts(),
        },
    )


@require_POST
def webhook_pause(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = selectors.webhook_subscription_get_for_user(user=request.user, pk=pk)
    webhooks.webhook_subscription_update(
        user=request.user, subscription=subscription, is_active=False
    )
    messages.success(
        request, _("The webhook is paused: Koers sends it nothing until you resume it.")
    )
    return redirect("api:webhook-detail", pk=pk)


@require_POST
def webhook_resume(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = selectors.webhook_subscription_get_for_user(user=request.user, pk=pk)
    webhooks.webhook_subscription_update(
        user=request.user, subscription=subscription, is_active=True
    )
    messages.success(
        request, _("The webhook is on again; deliveries that waited go out within a minute.")
    )
    return redirect("api:webhook-detail", pk=pk)


@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = selectors.webhook_subscription_get_for_user(user=request.user, pk=pk)
    webhooks.webhook_subscription_delete(user=request.user, subscription=subscription)
    messages.success(request, _("The webhook to %(url)s is deleted.") % {"url": subscription.url})
    return redirect("api:webhook-list")


@require_POST
def webhook_delivery_replay(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    delivery = selectors.webhook_delivery_get_for_user(
        user=request.user, subscription_id=pk, pk=delivery_pk
    )
    webhooks.webhook_delivery_replay(user=request.user, delivery=delivery)
    if delivery.subscription.is_active:
        messages.success(request, _("The event is sent again."))
    else:
        messages.warning(request, _("The event goes out again when you resume the webhook."))
    return redirect("api:webhook-detail", pk=pk)
