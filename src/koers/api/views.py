"""The profile page where a user makes and revokes personal access tokens."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from koers.api import selectors, services
from koers.api.forms import ApiTokenForm, scope_label


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
