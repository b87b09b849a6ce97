from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from koers.core import selectors, services, startpage
from koers.core.clients import client_ip_address
from koers.core.forms import ProfileForm, TeamForm, UserForm, VisibilityForm
from koers.core.listing import list_page
from koers.core.models import Team, User


def admin_only(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        services.check_is_admin(request.user)
        return view(request, *args, **kwargs)

    return wrapper


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        # Axes locks a username at one address; this stops one address trying many usernames.
        failures = selectors.login_failures_from(ip_address=client_ip_address(request))
        if failures >= settings.KOERS_LOGIN_FAILURES_PER_ADDRESS:
            return render(request, "core/locked_out.html", {"by_address": True}, status=429)
        return super().post(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "core/password_change.html"
    success_url = reverse_lazy("core:profile")

    def form_valid(self, form):
        user = services.user_set_password(
            user=self.request.user, password=form.cleaned_data["new_password1"]
        )
        update_session_auth_hash(self.request, user)  # stay logged in on this device
        messages.success(self.request, _("Your password has been changed."))
        return HttpResponseRedirect(self.get_success_url())


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def start(request: HttpRequest) -> HttpResponse:
    return render(request, "core/start.html", {"sections": startpage.sections_for(request.user)})


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(_safe_next(request, reverse("core:start")))
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        services.user_set_language(user=request.user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        httponly=True,
    )
    return response


def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(
        request.POST or None,
        initial={
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "language": user.language,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(user=user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your profile has been saved."))
            return redirect("core:profile")
    return render(request, "core/profile.html", {"form": form})


@admin_only
def user_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/user_list.html",
        {"users": selectors.user_list(), "teams": selectors.team_list()},
    )


@admin_only
def user_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = get_object_or_404(User, pk=pk) if pk else None
    initial = (
        {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "role": user.role,
            "team": user.team,
            "is_active": user.is_active,
        }
        if user
        else {"role": User.Role.SALES, "is_active": True}
    )
    form = UserForm(request.POST or None, initial=initial, editing=user is not None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if user:
                data.pop("username")
                services.user_update(actor=request.user, user=user, **data)
            else:
                data.pop("is_active")
                user = services.user_create(actor=request.user, **data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(user)s has been saved.") % {"user": user})
            return redirect("core:user-list")
    history = selectors.audit_trail_for(instance=user) if user else []
    return render(
        request, "core/user_form.html", {"form": form, "edited_user": user, "history": history}
    )


@admin_only
def team_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    team = get_object_or_404(Team, pk=pk) if pk else None
    form = TeamForm(request.POST or None, initial={"name": team.name} if team else None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_save(actor=request.user, team=team, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Team %(team)s has been saved.") % {"team": team})
            return redirect("core:user-list")
    return render(request, "core/team_form.html", {"form": form, "team": team})


@admin_only
def visibility(request: HttpRequest) -> HttpResponse:
    form = VisibilityForm(request.POST or None, rules=selectors.role_visibility_list())
    if request.method == "POST" and form.is_valid():
        services.role_visibility_set(actor=request.user, scopes=form.cleaned_data)
        messages.success(request, _("Visibility per role has been saved."))
        return redirect("core:visibility")
    return render(request, "core/visibility.html", {"form": form})


@require_POST
def saved_view_save(request: HttpRequest) -> HttpResponse:
    query = request.POST.get("query", "").lstrip("?")
    list_url = _safe_next(request, reverse("core:start"))
    try:
        services.saved_view_save(
            owner=request.user,
            list_name=request.POST.get("list_name", ""),
            name=request.POST.get("name", ""),
            query=query,
            is_shared=request.POST.get("is_shared") == "on",
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("View saved."))
    return redirect(f"{list_url}?{query}" if query else list_url)


@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.saved_view_delete(owner=request.user, saved_view_id=pk)
    messages.success(request, _("View deleted."))
    return redirect(_safe_next(request, reverse("core:start")))


def notification_list(request: HttpRequest) -> HttpResponse:
    return list_page(
        request,
        selectors.notification_list_for_user(user=request.user),
        template="core/notification_list.html",
        partial="core/partials/notification_table.html",
        context={},
    )


@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(selectors.notification_list_for_user(user=request.user), pk=pk)
    services.notifications_mark_read(user=request.user, notification_id=notification.pk)
    # Only a path on this site: a notification is not a way to send anyone elsewhere.
    target = (
        notification.url
        if notification.url.startswith("/") and not notification.url.startswith("//")
        else ""
    )
    return redirect(target or "core:notification-list")


@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_read(user=request.user)
    return redirect("core:notification-list")


@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitoring: the web process answers (it touches no database)."""
    return JsonResponse({"status": "ok"})
