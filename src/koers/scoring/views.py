"""The engagement score's set-up: its rules and settings. Everyone may read how contacts
are scored; admins, managers and marketing change it."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from koers.core.forms import save_with
from koers.scoring import services
from koers.scoring.forms import EngagementSettingsForm, RuleForm
from koers.scoring.models import EngagementRule, EngagementSettings, ScoringJob

RECOMPUTING = gettext_lazy("All scores are being recomputed; this takes a moment.")


def _rule_groups() -> list[tuple[str, str, list[EngagementRule]]]:
    """(category, label, rules) in the order seed 002 weighs them: progress first."""
    rules = list(EngagementRule.objects.all())
    return [
        (value, label, [rule for rule in rules if rule.category == value])
        for value, label in EngagementRule.Weight.choices
    ]


def rules(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "scoring/rules.html",
        {
            "settings": EngagementSettings.current(),
            "groups": _rule_groups(),
            "may_change": services.may_change_scoring(request.user),
        },
    )


def rule_create(request: HttpRequest) -> HttpResponse:
    services.check_may_change_scoring(request.user)
    form = RuleForm(request.POST or None)
    if request.method == "POST":
        rule = save_with(form, lambda **data: services.rule_create(actor=request.user, **data))
        if rule is not None:
            messages.success(request, _("%(record)s has been saved.") % {"record": rule})
            if rule.active:
                messages.info(request, RECOMPUTING)
            return redirect("scoring:rules")
    return render(request, "scoring/rule_form.html", {"form": form, "rule": None})


def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    services.check_may_change_scoring(request.user)
    rule = get_object_or_404(EngagementRule, pk=pk)
    form = RuleForm(request.POST or None, initial=RuleForm.initial_for(rule))
    if request.method == "POST":
        saved = save_with(
            form, lambda **data: services.rule_update(actor=request.user, rule=rule, **data)
        )
        if saved is not None:
            messages.success(request, _("%(record)s has been saved.") % {"record": saved})
            scoring_changed = set(form.changed_data) & services.RULE_SCORING_FIELDS
            if scoring_changed and (saved.active or "active" in scoring_changed):
                messages.info(request, RECOMPUTING)
            return redirect("scoring:rules")
    return render(request, "scoring/rule_form.html", {"form": form, "rule": rule})


def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask before deleting a rule; the confirmation posts back here."""
    services.check_may_change_scoring(request.user)
    rule = get_object_or_404(EngagementRule, pk=pk)
    if request.method == "POST":
        was_active = rule.active
        services.rule_delete(actor=request.user, rule=rule)
        messages.success(request, _("%(record)s has been deleted.") % {"record": rule})
        if was_active:
            messages.info(request, RECOMPUTING)
        return redirect("scoring:rules")
    return render(request, "scoring/rule_delete.html", {"rule": rule})


def settings_edit(request: HttpRequest) -> HttpResponse:
    services.check_may_change_scoring(request.user)
    current = EngagementSettings.current()
    form = EngagementSettingsForm(
        request.POST or None, initial=EngagementSettingsForm.initial_for(current)
    )
    if request.method == "POST":
        saved = save_with(
            form,
            lambda **data: services.engagement_settings_update(actor=request.user, **data),
        )
        if saved is not None:
            messages.success(request, _("The engagement settings have been saved."))
            if "half_life_days" in form.changed_data:
                messages.info(request, RECOMPUTING)
            return redirect("scoring:rules")
    return render(request, "scoring/settings_form.html", {"form": form})


@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    services.scores_recompute_queue(actor=request.user)
    messages.success(request, RECOMPUTING)
    return redirect("scoring:rules")


def job(request: HttpRequest, pk: int) -> HttpResponse:
    """A scoring job's progress, polled by the page that started it. Only those who may
    change scoring follow jobs: a job's message counts over every company."""
    services.check_may_change_scoring(request.user)
    return render(
        request, "scoring/partials/job_status.html", {"job": get_object_or_404(ScoringJob, pk=pk)}
    )
