"""The Ideal Customer Profile pages: its criteria and the fit of companies, the learned
profile ("people like us") and lookalikes. Everyone may read them, each counted over the
companies the reader may see; admins, managers and marketing change the profile and follow
the fit job."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from koers.core.forms import save_with
from koers.core.models import User
from koers.crm.models import Company
from koers.scoring import fit, jobs, learn, selectors
from koers.scoring.icp_forms import VALUE_FIELDS, CriterionForm
from koers.scoring.models import IcpCriterion, ScoringJob
from koers.scoring.services import may_change_scoring

REFITTING = gettext_lazy("Every company's fit is being computed again; this takes a moment.")
GRADE_RANGES = {"A": "75–100", "B": "50–74", "C": "25–49", "D": "0–24"}


def _top_only(request: HttpRequest) -> bool:
    return request.GET.get("top") == "1" or request.POST.get("top") == "1"


def icp(request: HttpRequest) -> HttpResponse:
    criteria = list(IcpCriterion.objects.all())
    counts = selectors.fit_grade_counts(user=request.user)
    may_change = may_change_scoring(request.user)
    profile = fit.Profile(tuple(fit.Rule.of(criterion) for criterion in criteria))
    return render(
        request,
        "scoring/icp.html",
        {
            "criteria": [
                (
                    criterion,
                    fit.criterion_attribute_label(criterion),
                    fit.criterion_values_label(criterion),
                )
                for criterion in criteria
            ],
            "positive_weight": profile.positive_weight,
            "grades": [(grade, GRADE_RANGES[grade], counts[grade]) for grade in counts],
            "fitted": sum(counts.values()),
            "chart": {
                "labels": [f"{grade} ({GRADE_RANGES[grade]})" for grade in counts],
                "values": list(counts.values()),
                "label": _("Companies"),
            },
            # The job's message counts every company: only those who change the profile
            # follow it (scoring:job refuses the others).
            "job": jobs.job_latest(ScoringJob.Kind.FIT) if may_change else None,
            "may_change": may_change,
        },
    )


def _criterion_form_page(request, form: CriterionForm, criterion: IcpCriterion | None):
    return render(
        request,
        "scoring/icp_criterion_form.html",
        {
            "form": form,
            "criterion": criterion,
            "attribute": form.current_attribute,
            "value_fields": [
                (str(attribute), form[name]) for attribute, name in VALUE_FIELDS.items()
            ],
        },
    )


def icp_criterion_create(request: HttpRequest) -> HttpResponse:
    fit.check_may_change_icp(request.user)
    form = CriterionForm(request.POST or None)
    if request.method == "POST":
        criterion = save_with(form, lambda **data: fit.criterion_create(actor=request.user, **data))
        if criterion is not None:
            messages.success(request, _("The criterion has been added."))
            messages.info(request, REFITTING)
            return redirect("scoring:icp")
    return _criterion_form_page(request, form, None)


def icp_criterion_edit(request: HttpRequest, pk: int) -> HttpResponse:
    fit.check_may_change_icp(request.user)
    criterion = get_object_or_404(IcpCriterion, pk=pk)
    form = CriterionForm(request.POST or None, initial=CriterionForm.initial_for(criterion))
    if request.method == "POST":
        started = jobs.job_latest(ScoringJob.Kind.FIT)
        saved = save_with(
            form,
            lambda **data: fit.criterion_update(actor=request.user, criterion=criterion, **data),
        )
        if saved is not None:
            messages.success(request, _("The criterion has been saved."))
            if jobs.job_latest(ScoringJob.Kind.FIT) != started:  # it changed what fits
                messages.info(request, REFITTING)
            return redirect("scoring:icp")
    return _criterion_form_page(request, form, criterion)


def icp_criterion_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask before removing a criterion; the confirmation posts back here."""
    fit.check_may_change_icp(request.user)
    criterion = get_object_or_404(IcpCriterion, pk=pk)
    if request.method == "POST":
        fit.criterion_delete(actor=request.user, criterion=criterion)
        messages.success(request, _("The criterion has been removed."))
        messages.info(request, REFITTING)
        return redirect("scoring:icp")
    return render(
        request,
        "scoring/icp_criterion_delete.html",
        {
            "criterion": criterion,
            "attribute": fit.criterion_attribute_label(criterion),
            "values": fit.criterion_values_label(criterion),
        },
    )


def icp_learn(request: HttpRequest) -> HttpResponse:
    top_only = _top_only(request)
    if request.method == "POST":
        return _learned_apply(request, top_only=top_only)
    return render(
        request,
        "scoring/icp_learn.html",
        {
            "learned": learn.icp_learn_for_user(user=request.user, top_only=top_only),
            "top_only": top_only,
            "top_percent": round(learn.TOP_SHARE * 100),
            "min_group": learn.MIN_GROUP,
            "min_holders": learn.MIN_HOLDERS,
            "has_criteria": IcpCriterion.objects.exists(),
            "may_change": may_change_scoring(request.user),
        },
    )


def _learned_apply(request: HttpRequest, *, top_only: bool) -> HttpResponse:
    fit.check_may_change_icp(request.user)
    try:
        learn.learned_weights_apply(actor=request.user, top_only=top_only)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(f"{request.path}?top=1" if top_only else request.path)
    messages.success(request, _("The profile now holds the learned weights."))
    messages.info(request, REFITTING)
    return redirect("scoring:icp")


def icp_lookalikes(request: HttpRequest) -> HttpResponse:
    top_only = _top_only(request)
    return render(
        request,
        "scoring/icp_lookalikes.html",
        {
            "result": learn.lookalikes_for_user(user=request.user, top_only=top_only),
            "top_only": top_only,
            "top_percent": round(learn.TOP_SHARE * 100),
            "min_group": learn.MIN_GROUP,
            "limit": learn.LOOKALIKES,
        },
    )


def fit_panel(user: User, company: Company) -> dict:
    """The company page's panel: its fit by the current profile and every criterion,
    matched or not."""
    return {"company": company, "explained": fit.fit_explained(company)}
