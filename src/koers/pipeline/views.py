import itertools
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from koers.core.listing import list_page
from koers.core.selectors import audit_trail_for
from koers.core.services import check_can_edit_records
from koers.crm import panels
from koers.crm.selectors import contact_get_for_user, contact_visible_to
from koers.crm.services import record_delete, record_restore
from koers.pipeline import advisor, metrics, selectors, services
from koers.pipeline.forms import (
    AdvisorForm,
    BoardFilterForm,
    DealContactForm,
    DealFilterForm,
    DealForm,
    HandOffForm,
    LostForm,
    NewPipelineForm,
    PipelineForm,
    StageForm,
)
from koers.pipeline.models import Deal, Stage
from koers.pipeline.templates_catalog import TEMPLATES

PERIODS = {"90": 90, "180": 180, "365": 365}


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


# Pipelines


def deal_home(request: HttpRequest) -> HttpResponse:
    """The Deals menu: the board of the first pipeline in use, or the way to make one."""
    pipeline = selectors.pipeline_list(active_only=True).first()
    return redirect(pipeline.get_absolute_url() if pipeline else "pipeline:pipeline-list")


def pipeline_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "pipeline/pipeline_list.html",
        {
            "pipelines": selectors.pipeline_list(),
            "templates": TEMPLATES,
            "form": NewPipelineForm(),
            "can_manage": request.user.can_manage_settings,
        },
    )


@require_POST
def pipeline_create(request: HttpRequest) -> HttpResponse:
    form = NewPipelineForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the sales models."))
        return redirect("pipeline:pipeline-list")
    pipeline = services.pipeline_create_from_template(actor=request.user, **form.cleaned_data)
    messages.success(request, _("Pipeline %(pipeline)s is ready.") % {"pipeline": pipeline})
    return redirect(pipeline.get_absolute_url())


def sales_model_advisor(request: HttpRequest) -> HttpResponse:
    form = AdvisorForm(request.GET or None)
    advice = advisor.advise(**form.cleaned_data) if form.is_valid() else None
    return render(request, "pipeline/advisor.html", {"form": form, "advice": advice})


def pipeline_settings(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = selectors.pipeline_get(pk=pk)
    form = PipelineForm(
        request.POST or None,
        initial={
            "name": pipeline.name,
            "stall_days": pipeline.stall_days,
            "is_active": pipeline.is_active,
        },
        can_manage=request.user.can_manage_settings,
    )
    if request.method == "POST":
        services.check_can_manage_pipelines(request.user)
        if form.is_valid():
            try:
                services.pipeline_update(actor=request.user, pipeline=pipeline, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The pipeline has been saved."))
                return redirect("pipeline:pipeline-settings", pk=pipeline.pk)
    return render(
        request,
        "pipeline/pipeline_settings.html",
        {
            "pipeline": pipeline,
            "form": form,
            "stages": selectors.stage_list(pipeline=pipeline),
            "requirements": dict(Stage.Requirement.choices),
            "can_manage": request.user.can_manage_settings,
        },
    )


def stage_form(request: HttpRequest, pk: int, stage_pk: int | None = None) -> HttpResponse:
    services.check_can_manage_pipelines(request.user)
    pipeline = selectors.pipeline_get(pk=pk)
    stage = get_object_or_404(pipeline.stages, pk=stage_pk) if stage_pk else None
    initial = (
        {
            "name": stage.name,
            "kind": stage.kind,
            "probability": stage.probability,
            "required": stage.required,
        }
        if stage
        else {"kind": Stage.Kind.OPEN, "probability": 10}
    )
    form = StageForm(request.POST or None, initial=initial, stage=stage)
    if request.method == "POST" and form.is_valid():
        try:
            services.stage_save(
                actor=request.user, pipeline=pipeline, stage=stage, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("pipeline:pipeline-settings", pk=pipeline.pk)
    return render(
        request, "pipeline/stage_form.html", {"form": form, "pipeline": pipeline, "stage": stage}
    )


@require_POST
def stage_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = selectors.pipeline_get(pk=pk)
    try:
        ids = [int(value) for value in request.POST.getlist("stage")]
        services.stage_reorder(actor=request.user, pipeline=pipeline, stage_ids=ids)
    except (ValueError, ValidationError):
        messages.error(request, _("The stages could not be put in that order."))
    return redirect("pipeline:pipeline-settings", pk=pipeline.pk)


@require_POST
def stage_delete(request: HttpRequest, pk: int, stage_pk: int) -> HttpResponse:
    pipeline = selectors.pipeline_get(pk=pk)
    try:
        services.stage_delete(
            actor=request.user, stage=get_object_or_404(pipeline.stages, pk=stage_pk)
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    return redirect("pipeline:pipeline-settings", pk=pipeline.pk)


# The board


def _render_board(
    request, pipeline, *, message: str = "", lost_deal: Deal | None = None
) -> HttpResponse:
    form = BoardFilterForm(request.GET)
    board = selectors.board_for_user(user=request.user, pipeline=pipeline, **form.filters())
    context = {
        "board": board,
        "pipeline": pipeline,
        "form": form,
        "message": message,
        "lost_deal": lost_deal,
        "lost_form": LostForm() if lost_deal else None,
        "pipelines": selectors.pipeline_list(active_only=True),
        "today": timezone.localdate(),
    }
    is_htmx = (
        request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "board"
    )
    return render(
        request, "pipeline/partials/board.html" if is_htmx else "pipeline/board.html", context
    )


def board(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_board(request, selectors.pipeline_get(pk=pk))


@require_POST
def deal_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a deal to a stage, from the board (answers with the board) or its page."""
    deal = selectors.deal_get_for_user(user=request.user, pk=pk)
    stage_id = request.POST.get("stage", "")
    stage = get_object_or_404(
        Stage, pk=stage_id if stage_id.isdigit() else 0, pipeline=deal.pipeline
    )
    message, lost_deal = "", None
    try:
        services.deal_move(
            actor=request.user,
            deal=deal,
            to_stage=stage,
            lost_reason=request.POST.get("reason", ""),
            lost_note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        if stage.kind == Stage.Kind.LOST and "lost_reason" in error.message_dict:
            lost_deal = deal  # ask why, then move it
        else:
            message = _error_text(error)
    if request.POST.get("from") == "board":
        return _render_board(request, deal.pipeline, message=message, lost_deal=lost_deal)
    if message:
        messages.error(request, message)
    elif lost_deal:
        return redirect(reverse("pipeline:deal-lost", args=[deal.pk]))
    return redirect(deal.get_absolute_url())


# Deals


def deal_list(request: HttpRequest) -> HttpResponse:
    form = DealFilterForm(request.GET)
    filters = form.filters()
    deals = selectors.deal_list_for_user(user=request.user, **filters)
    return list_page(
        request,
        deals,
        template="pipeline/deal_list.html",
        partial="pipeline/partials/deal_table.html",
        context={
            "form": form,
            "is_filtered": bool(set(filters) - {"sort"}),
            "trash": filters.get("trash", False),
            "trash_days": settings.KOERS_TRASH_DAYS,
        },
    )


def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deal = selectors.deal_get_for_user(user=request.user, pk=pk)
    history = selectors.stage_history(deal=deal)
    left = [later.at - earlier.at for earlier, later in itertools.pairwise(history)]
    contacts = selectors.deal_contacts(deal=deal)
    return render(
        request,
        "pipeline/deal_detail.html",
        {
            "deal": deal,
            "stages": selectors.stage_list(pipeline=deal.pipeline),
            "contacts": contacts,
            "moves": list(zip(history, [*left, timezone.now() - history[-1].at], strict=True))
            if history
            else [],
            "history": audit_trail_for(instance=deal),
            "contact_form": DealContactForm(contacts=contact_visible_to(user=request.user)),
            "lost_form": LostForm(),
            "panels": panels.panels_for("deal", user=request.user, record=deal),
        },
    )


def _deal_form(request, *, deal: Deal | None, initial: dict | None = None) -> HttpResponse:
    check_can_edit_records(request.user)
    form = DealForm(request.POST or None, instance=deal, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if deal:
                deal = services.deal_update(actor=request.user, deal=deal, **data)
            else:
                stage = None
                stage_id = request.POST.get("stage", "")
                if stage_id.isdigit():
                    stage = data["pipeline"].stages.filter(pk=stage_id).first()
                deal = services.deal_create(actor=request.user, stage=stage, **data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(record)s has been saved.") % {"record": deal})
            return redirect(deal.get_absolute_url())
    return render(
        request,
        "pipeline/deal_form.html",
        {"form": form, "deal": deal, "stage_id": request.GET.get("stage", "")},
    )


def deal_create(request: HttpRequest) -> HttpResponse:
    initial = {"owner": request.user}
    pipeline = request.GET.get("pipeline", "")
    if pipeline.isdigit():
        initial["pipeline"] = pipeline
    company = request.GET.get("company", "")
    if company.isdigit():
        initial["company"] = company
    return _deal_form(request, deal=None, initial=initial)


def deal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _deal_form(request, deal=selectors.deal_get_for_user(user=request.user, pk=pk))


@require_POST
def deal_won(request: HttpRequest, pk: int) -> HttpResponse:
    deal = selectors.deal_get_for_user(user=request.user, pk=pk)
    try:
        services.deal_mark_won(actor=request.user, deal=deal)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("%(deal)s is won.") % {"deal": deal})
    return redirect(deal.get_absolute_url())


def deal_lost(request: HttpRequest, pk: int) -> HttpResponse:
    deal = selectors.deal_get_for_user(user=request.user, pk=pk)
    form = LostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.deal_mark_lost(
            actor=request.user,
            deal=deal,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("%(deal)s is lost.") % {"deal": deal})
        return redirect(deal.get_absolute_url())
    return render(request, "pipeline/deal_lost.html", {"deal": deal, "form": form})


@require_POST
def deal_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    deal = selectors.deal_get_for_user(user=request.user, pk=pk)
    try:
        services.deal_reopen(actor=request.user, deal=deal)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    return redirect(deal.get_absolute_url())


@require_POST
def deal_contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    deal = selectors.deal_get_for_user(user=request.user, pk=pk)
    form = DealContactForm(request.POST, contacts=contact_visible_to(user=request.user))
    if form.is_valid():
        services.deal_contact_set(actor=request.user, deal=deal, **form.cleaned_data)
    else:
        messages.error(request, _("Choose a contact you can see."))
    return redirect(deal.get_absolute_url())


@require_POST
def deal_contact_remove(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    deal = selectors.deal_get_for_user(user=request.user, pk=pk)
    link = get_object_or_404(deal.deal_contacts.select_related("contact"), contact_id=contact_pk)
    services.deal_contact_remove(actor=request.user, deal=deal, contact=link.contact)
    return redirect(deal.get_absolute_url())


def deal_contact_pick(request: HttpRequest, pk: int) -> HttpResponse:
    deal = selectors.deal_get_for_user(user=request.user, pk=pk)
    query = request.GET.get("q", "")[:200]
    contacts = selectors.deal_pick_contacts_for_user(user=request.user, deal=deal, q=query)
    return render(
        request, "pipeline/partials/contact_pick.html", {"contacts": contacts, "query": query}
    )


@require_POST
def deal_delete(request: HttpRequest, pk: int) -> HttpResponse:
    deal = selectors.deal_get_for_user(user=request.user, pk=pk)
    record_delete(actor=request.user, record=deal)
    messages.success(
        request,
        _("%(record)s has been moved to the trash.") % {"record": deal},
        extra_tags="undo:" + reverse("pipeline:deal-restore", args=[deal.pk]),
    )
    return redirect(deal.pipeline.get_absolute_url())


@require_POST
def deal_restore(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_object_or_404(selectors.deal_visible_to(user=request.user, trash=True), pk=pk)
    record_restore(actor=request.user, record=deal)
    messages.success(request, _("%(record)s has been restored.") % {"record": deal})
    return redirect(deal.get_absolute_url())


def deal_hand_off(request: HttpRequest, contact_pk: int) -> HttpResponse:
    check_can_edit_records(request.user)
    contact = contact_get_for_user(user=request.user, pk=contact_pk)
    company = contact.company.name if contact.company else contact.full_name
    form = HandOffForm(request.POST or None, initial={"name": company})
    if request.method == "POST" and form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if value is not None}
        try:
            deal = services.deal_hand_off(actor=request.user, contact=contact, **data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("The deal is %(owner)s's now; they have been told.") % {"owner": deal.owner},
            )
            return redirect(deal.get_absolute_url())
    return render(request, "pipeline/hand_off.html", {"form": form, "contact": contact})


# Figures


def insights(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = selectors.pipeline_get(pk=pk)
    period = request.GET.get("period", "365")
    days = PERIODS.get(period, 365)
    end = timezone.now()
    figures = metrics.pipeline_metrics_for_user(
        user=request.user, pipeline=pipeline, start=end - timedelta(days=days), end=end
    )
    by_month, by_owner = metrics.forecast_for_user(
        user=request.user, pipeline=pipeline, today=timezone.localdate()
    )
    return render(
        request,
        "pipeline/insights.html",
        {
            "pipeline": pipeline,
            "figures": figures,
            "period": str(days),
            "periods": PERIODS,
            "forecast_by_month": by_month,
            "forecast_by_owner": by_owner,
            "charts": _insight_charts(figures, by_month),
            "lto_segments": [
                ("size", _("Deal size")),
                ("industry", _("Industry")),
                ("employees", _("Employees")),
                ("owner", _("Owner")),
            ],
        },
    )


def _insight_charts(figures: metrics.PipelineMetrics, by_month) -> dict:
    return {
        "funnel": {
            "labels": [flow.stage.label for flow in figures.stages],
            "values": [flow.reached for flow in figures.stages],
        },
        "time_in_stage": {
            "labels": [
                flow.stage.label for flow in figures.stages if flow.average_days is not None
            ],
            "values": [
                round(flow.average_days, 1)
                for flow in figures.stages
                if flow.average_days is not None
            ],
        },
        "forecast": {
            "labels": [
                date_format(row.month, "M Y") if row.month else row.label for row in by_month
            ],
            "values": [float(row.weighted) for row in by_month],
            "totals": [float(row.value) for row in by_month],
            "label": _("Weighted"),
            "totals_label": _("Value"),
        },
    }
