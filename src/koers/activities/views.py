from datetime import datetime, time

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from koers.activities import ics, selectors, services, timeline
from koers.activities.forms import AccountTeamForm, QuickLogForm, TaskForm
from koers.activities.models import AccountTeamMember, Activity
from koers.crm.selectors import company_get_for_user, contact_get_for_user
from koers.pipeline.selectors import deal_get_for_user

GETTERS = {
    "company": company_get_for_user,
    "contact": contact_get_for_user,
    "deal": deal_get_for_user,
}


def _record(request: HttpRequest, subject: str, pk: int):
    if subject not in GETTERS:
        raise Http404
    return GETTERS[subject](user=request.user, pk=pk)


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


def _form_message(form) -> str:
    return " ".join(text for _label, text in form.error_summary())


def _back(record) -> HttpResponse:
    return redirect(f"{record.get_absolute_url()}#timeline")


def timeline_entries(request: HttpRequest, subject: str, pk: int) -> HttpResponse:
    """A page of a record's timeline, filtered by kind: what "more" and the filter load."""
    record = _record(request, subject, pk)
    kinds = {key for key, _label in timeline.kind_choices()}
    kind = request.GET.get("kind", "")
    before = timeline.Cursor.decode(request.GET.get("before", ""))
    page = timeline.timeline_page(
        user=request.user,
        subject=subject,
        record_id=record.pk,
        kinds={kind} if kind in kinds else None,
        before=before,
    )
    return render(
        request,
        "activities/partials/timeline_entries.html",
        {"page": page, "subject": subject, "record": record, "kind": kind if kind in kinds else ""},
    )


@require_POST
def activity_log(request: HttpRequest, subject: str, pk: int) -> HttpResponse:
    record = _record(request, subject, pk)
    form = QuickLogForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_message(form))
        return _back(record)
    try:
        services.activity_log(
            actor=request.user,
            kind=form.cleaned_data["kind"],
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            direction=form.cleaned_data["direction"],
            **{subject: record},
        )
    except ValidationError as error:
        messages.error(request, _message(error))
    return _back(record)


@require_POST
def task_create(request: HttpRequest, subject: str, pk: int) -> HttpResponse:
    record = _record(request, subject, pk)
    form = TaskForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_message(form))
        return _back(record)
    data = form.cleaned_data
    due_at = timezone.make_aware(datetime.combine(data["due_on"], data["due_time"] or time(9)))
    try:
        services.activity_log(
            actor=request.user,
            kind=data["kind"],
            subject=data["subject"],
            owner=data["owner"],
            due_at=due_at,
            done=False,
            **{subject: record},
        )
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, _("The task has been planned."))
    return _back(record)


def _next(request: HttpRequest, activity: Activity) -> HttpResponse:
    """Back to My day when the action came from there, else to the record."""
    if request.POST.get("from") == "my-day" or activity.record is None:
        return redirect("activities:my-day")
    return _back(activity.record)


@require_POST
def activity_done(request: HttpRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_get_for_user(user=request.user, pk=pk)
    try:
        services.activity_complete(
            actor=request.user, activity=activity, outcome=request.POST.get("outcome", "")
        )
    except ValidationError as error:
        messages.error(request, _message(error))
    return _next(request, activity)


@require_POST
def activity_delete(request: HttpRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_get_for_user(user=request.user, pk=pk)
    services.activity_delete(actor=request.user, activity=activity)
    messages.success(request, _("The activity has been deleted."))
    return _next(request, activity)


def activity_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    """A planned activity as an iCalendar file, to put it in one's own calendar."""
    activity = selectors.activity_get_for_user(user=request.user, pk=pk)
    if activity.due_at is None:
        raise Http404
    response = HttpResponse(
        ics.invite(activity, host=request.get_host()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="koers-{activity.pk}.ics"'
    return response


def my_day(request: HttpRequest) -> HttpResponse:
    return render(request, "activities/my_day.html", {"day": selectors.my_day(user=request.user)})


@require_POST
def account_team_add(request: HttpRequest, pk: int) -> HttpResponse:
    company = company_get_for_user(user=request.user, pk=pk)
    form = AccountTeamForm(request.POST)
    if form.is_valid():
        try:
            services.account_team_add(
                actor=request.user,
                company=company,
                user=form.cleaned_data["user"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as error:
            messages.error(request, _message(error))
    else:
        messages.error(request, _form_message(form))
    return redirect(company)


@require_POST
def account_team_remove(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(AccountTeamMember.objects.select_related("company", "user"), pk=pk)
    company = company_get_for_user(user=request.user, pk=member.company_id)
    services.account_team_remove(actor=request.user, member=member)
    return redirect(company)
