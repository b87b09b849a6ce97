"""The marketing pages: websites and their lead forms, campaigns, attribution, who is on the
site now. Everyone may read campaigns and reports; admins, managers and marketing set up."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from koers.core.forms import save_with
from koers.core.selectors import audit_trail_for
from koers.tracking import selectors
from koers.tracking.attribution import AttributionModel, AttributionReport, attribution_report
from koers.tracking.forms import AttributionFilterForm, CampaignForm, LeadFormForm, SiteForm
from koers.tracking.models import LeadForm, Site
from koers.tracking.services import setup
from koers.tracking.tokens import site_token


def _saved(request: HttpRequest, record) -> HttpResponse:
    messages.success(request, _("%(record)s has been saved.") % {"record": record})
    return redirect(record)


def _render(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """Render a marketing page; its tabs show the set-up pages only to those who set up."""
    context["may_manage"] = selectors.may_manage_marketing(request.user)
    return render(request, template, context)


def _report(request: HttpRequest) -> tuple[AttributionFilterForm, AttributionReport]:
    filters = AttributionFilterForm(request.GET)
    model, start, end = filters.values()
    report = attribution_report(user=request.user, model=model, start=start, end=end)
    return filters, report


def _models(request: HttpRequest) -> list[tuple[str, str, str]]:
    """(value, label, query string) of each attribution model, keeping the period."""
    query = request.GET.copy()
    links = []
    for value, label in AttributionModel.choices:
        query["model"] = value
        links.append((value, label, query.urlencode()))
    return links


# Websites


def site_list(request: HttpRequest) -> HttpResponse:
    return _render(
        request,
        "tracking/site_list.html",
        {"sites": selectors.site_list_for_user(user=request.user)},
    )


def site_create(request: HttpRequest) -> HttpResponse:
    selectors.check_may_manage_marketing(request.user)
    form = SiteForm(request.POST or None)
    if request.method == "POST":
        site = save_with(form, lambda **data: setup.site_create(actor=request.user, **data))
        if site is not None:
            return _saved(request, site)
    return _render(request, "tracking/site_form.html", {"form": form, "site": None})


def site_edit(request: HttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_get_for_user(user=request.user, pk=pk)
    form = SiteForm(request.POST or None, initial=SiteForm.initial_for(site))
    if request.method == "POST":
        saved = save_with(
            form, lambda **data: setup.site_update(actor=request.user, site=site, **data)
        )
        if saved is not None:
            return _saved(request, saved)
    return _render(request, "tracking/site_form.html", {"form": form, "site": site})


def site_snippet(request: HttpRequest, site: Site) -> str:
    """The script tag a website carries; with anonymous counting it says so up front."""
    script_url = request.build_absolute_uri(reverse("tracking:script"))
    anonymous = ' data-anonymous="1"' if site.consent_mode == Site.ConsentMode.ANONYMOUS else ""
    return f'<script async src="{script_url}" data-site="{site_token(site)}"{anonymous}></script>'


def lead_form_snippet(lead_form: LeadForm) -> str:
    return f'<div data-koers-form="{lead_form.key}" data-lang="{settings.LANGUAGE_CODE}"></div>'


def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_get_for_user(user=request.user, pk=pk)
    by_day = selectors.site_page_views_by_day(site=site)
    return _render(
        request,
        "tracking/site_detail.html",
        {
            "site": site,
            "snippet": site_snippet(request, site),
            "lead_forms": [
                (lead_form, lead_form_snippet(lead_form))
                for lead_form in selectors.lead_form_list(site=site)
            ],
            "page_views": sum(count for _day, count in by_day),
            "chart": {
                "labels": [date_format(day, "j M") for day, _count in by_day],
                "values": [count for _day, count in by_day],
                "label": _("Page views"),
            },
            "history": audit_trail_for(instance=site),
        },
    )


# Lead forms


def form_create(request: HttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_get_for_user(user=request.user, pk=pk)
    form = LeadFormForm(request.POST or None, initial={"owner": request.user})
    if request.method == "POST":
        lead_form = save_with(
            form, lambda **data: setup.lead_form_create(actor=request.user, site=site, **data)
        )
        if lead_form is not None:
            messages.success(request, _("%(record)s has been saved.") % {"record": lead_form})
            return redirect(site)
    return _render(
        request, "tracking/lead_form_form.html", {"form": form, "site": site, "lead_form": None}
    )


def form_edit(request: HttpRequest, pk: int) -> HttpResponse:
    lead_form = selectors.lead_form_get_for_user(user=request.user, pk=pk)
    form = LeadFormForm(request.POST or None, initial=LeadFormForm.initial_for(lead_form))
    if request.method == "POST":
        saved = save_with(
            form,
            lambda **data: setup.lead_form_update(actor=request.user, lead_form=lead_form, **data),
        )
        if saved is not None:
            messages.success(request, _("%(record)s has been saved.") % {"record": saved})
            return redirect(lead_form.site)
    return _render(
        request,
        "tracking/lead_form_form.html",
        {"form": form, "site": lead_form.site, "lead_form": lead_form},
    )


# Campaigns


def campaign_list(request: HttpRequest) -> HttpResponse:
    filters, report = _report(request)
    return _render(
        request,
        "tracking/campaign_list.html",
        {
            "report": report,
            "filters": filters,
            "models": _models(request),
        },
    )


def campaign_create(request: HttpRequest) -> HttpResponse:
    selectors.check_may_manage_marketing(request.user)
    form = CampaignForm(request.POST or None)
    if request.method == "POST":
        campaign = save_with(form, lambda **data: setup.campaign_create(actor=request.user, **data))
        if campaign is not None:
            return _saved(request, campaign)
    return _render(request, "tracking/campaign_form.html", {"form": form, "campaign": None})


def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a campaign, or delete it: the delete button posts here with `delete`."""
    selectors.check_may_manage_marketing(request.user)
    campaign = selectors.campaign_get(pk=pk)
    if request.method == "POST" and "delete" in request.POST:
        setup.campaign_delete(actor=request.user, campaign=campaign)
        messages.success(request, _("%(record)s has been deleted.") % {"record": campaign})
        return redirect("tracking:campaign-list")
    form = CampaignForm(request.POST or None, initial=CampaignForm.initial_for(campaign))
    if request.method == "POST":
        saved = save_with(
            form,
            lambda **data: setup.campaign_update(actor=request.user, campaign=campaign, **data),
        )
        if saved is not None:
            return _saved(request, saved)
    return _render(request, "tracking/campaign_form.html", {"form": form, "campaign": campaign})


def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get(pk=pk)
    filters, report = _report(request)
    return _render(
        request,
        "tracking/campaign_detail.html",
        {
            "campaign": campaign,
            "row": report.row_for(campaign),
            "report": report,
            "filters": filters,
            "models": _models(request),
            "counts": selectors.campaign_touch_counts_for_user(
                user=request.user, campaign=campaign
            ),
            "lead_forms": campaign.forms.select_related("site").order_by("name"),
            "history": audit_trail_for(instance=campaign),
        },
    )


# Reports


def attribution(request: HttpRequest) -> HttpResponse:
    filters, report = _report(request)
    shown = [row for row in report.rows if row.spend or row.contacts or row.deals]
    return _render(
        request,
        "tracking/attribution.html",
        {
            "report": report,
            "rows": shown,
            "filters": filters,
            "models": _models(request),
            "chart": {
                "labels": [row.campaign.name for row in shown],
                "values": [float(row.won_revenue) for row in shown],
                "label": _("Won revenue (EUR)"),
                "totals": [float(row.spend) for row in shown],
                "totals_label": _("Spend (EUR)"),
                "links": [row.campaign.get_absolute_url() for row in shown],
            },
        },
    )


def hot_now(request: HttpRequest) -> HttpResponse:
    return _render(
        request,
        "tracking/hot_now.html",
        {"visitors": selectors.hot_now(user=request.user), "minutes": 60},
    )
