from datetime import datetime, time

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from koers.activities.models import Activity
from koers.activities.selectors import recent_activities
from koers.core.selectors import audit_trail_for
from koers.outreach import rules, selectors, services
from koers.outreach.forms import FILTER_FIELDS, CampaignForm, OutcomeForm
from koers.outreach.models import CallCampaign

NEXT_UP = 10  # people the campaign page shows from the top of the call list


def _call_order(request: HttpRequest) -> str:
    """The agent's chosen calling order, kept for the session once chosen."""
    chosen = request.GET.get("order")
    if chosen in selectors.CALL_ORDERS:
        request.session["call_order"] = chosen
    return request.session.get("call_order", "")


def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "outreach/campaign_list.html",
        {
            "campaigns": selectors.campaign_list_for_user(user=request.user),
            "may_run": selectors.may_run_campaigns(request.user),
        },
    )


def campaign_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    services.check_may_run(request.user)
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk) if pk else None
    initial = None
    if campaign is not None:
        initial = {
            **{name: getattr(campaign, name) for name in services.CAMPAIGN_FIELDS},
            "agents": list(campaign.agents.all()),
            **{f"filter_{name}": campaign.contact_filter.get(name, "") for name in FILTER_FIELDS},
        }
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_save(
                actor=request.user,
                campaign=campaign,
                agents=list(form.cleaned_data["agents"]),
                contact_filter=form.contact_filter(),
                **form.campaign_fields(),
            )
        except ValidationError as error:
            form.add_error(None, error)  # the service names the form's own fields
        else:
            messages.success(request, _("%(record)s has been saved.") % {"record": campaign})
            return redirect(campaign)
    return render(request, "outreach/campaign_form.html", {"form": form, "campaign": campaign})


def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    results = selectors.campaign_results(campaign=campaign)
    order = _call_order(request)
    return render(
        request,
        "outreach/campaign_detail.html",
        {
            "campaign": campaign,
            "counts": selectors.list_counts(campaign=campaign),
            "results": results,
            "chart": {
                "labels": [date_format(day, "j M") for day, _row in results.by_day],
                "values": [row.reached for _day, row in results.by_day],
                "label": _("Reached"),
                "totals": [row.attempts for _day, row in results.by_day],
                "totals_label": _("Attempts"),
            },
            "may_run": selectors.may_run_campaigns(request.user),
            "is_agent": campaign.agents.filter(pk=request.user.pk).exists(),
            "filter_labels": _filter_labels(campaign),
            "history": audit_trail_for(instance=campaign),
            "statuses": CallCampaign.Status,
            "order": order,
            "next_up": list(selectors.call_list(campaign=campaign, order=order)[:NEXT_UP]),
        },
    )


def _filter_labels(campaign: CallCampaign) -> list[tuple[str, str]]:
    """The campaign's filter in words, as the campaign form would show it."""
    form = CampaignForm()
    labels = []
    for name, value in campaign.contact_filter.items():
        field = form.fields.get(f"filter_{name}")
        if field is None:
            continue
        shown = dict(getattr(field, "choices", [])).get(value, value)
        labels.append((str(field.label), str(shown)))
    return labels


@require_POST
def campaign_build(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    report = services.campaign_build_list(actor=request.user, campaign=campaign)
    messages.success(
        request,
        _("%(added)s people added to the call list (%(matched)s matched the filter).")
        % {"added": report["added"], "matched": report["matched"]},
    )
    if report["excluded"]:
        messages.info(
            request,
            _("Left off by the calling rules: %(reasons)s")
            % {
                "reasons": "; ".join(
                    f"{rules.EXCLUSION_LABELS[name]}: {count}"
                    for name, count in report["excluded"].items()
                )
            },
        )
    if report["more"]:
        messages.warning(
            request,
            _("Only the first %(count)s were added; build again to add more.")
            % {"count": services.MAX_BUILD},
        )
    return redirect(campaign)


@require_POST
def campaign_status(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    try:
        services.campaign_set_status(
            actor=request.user, campaign=campaign, status=request.POST.get("status", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(campaign)


def call_screen(request: HttpRequest, pk: int, form: OutcomeForm | None = None) -> HttpResponse:
    """The agent's screen: the next person to call, why it is allowed, the script."""
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    entry = None
    order = _call_order(request)
    if campaign.status == CallCampaign.Status.ACTIVE:
        entry = selectors.next_entry(campaign=campaign, agent=request.user, order=order)
        if entry is not None:
            services.entry_claim(actor=request.user, entry=entry)
    today = timezone.localdate()
    return render(
        request,
        "outreach/call_screen.html",
        {
            "campaign": campaign,
            "entry": entry,
            "contact": entry.contact if entry else None,
            "basis": rules.lawful_basis(entry.contact, today=today) if entry else None,
            "recent": recent_activities(contact_id=entry.contact_id) if entry else [],
            "form": form or OutcomeForm(),
            "left": selectors.call_list(campaign=campaign, today=today).count(),
            "today": today,
            "order": order,
        },
        status=400 if form is not None else 200,
    )


@require_POST
def call_outcome(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    entry = selectors.entry_get(campaign=campaign, pk=entry_pk)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        meeting_at = None
        if data["meeting_on"]:
            meeting_at = timezone.make_aware(
                datetime.combine(data["meeting_on"], data["meeting_time"] or time(10))
            )
        try:
            services.call_record(
                actor=request.user,
                entry=entry,
                outcome=data["outcome"],
                note=data["note"],
                call_back_on=data["call_back_on"],
                reason=data["reason"],
                right_person=data["right_person"],
                meeting_at=meeting_at,
                account_executive=data["account_executive"],
                qualification=data["qualification"],
            )
        except ValidationError as error:
            # "meeting_at" is two fields here (date and time): shown above the form.
            errors = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
            for field, messages_ in errors.items():
                form.add_error(field if field in form.fields else None, messages_)
        else:
            messages.success(
                request,
                _("Recorded for %(name)s: %(outcome)s.")
                % {
                    "name": entry.contact.full_name,
                    "outcome": Activity.Outcome(data["outcome"]).label,
                },
            )
            return redirect("outreach:call", pk=campaign.pk)
    return call_screen(request, campaign.pk, form=form)
