from django import forms

from koers.core.forms import StyledForm
from koers.scoring import services
from koers.scoring.models import EngagementRule, EngagementSettings

RULE = EngagementRule._meta
SETTINGS = EngagementSettings._meta


def _label(meta, name: str) -> str:
    return meta.get_field(name).verbose_name


def _help(meta, name: str) -> str:
    return meta.get_field(name).help_text


class RuleForm(StyledForm):
    name = forms.CharField(label=_label(RULE, "name"), max_length=150)
    category = forms.ChoiceField(
        label=_label(RULE, "category"), choices=EngagementRule.Weight.choices
    )
    kind = forms.ChoiceField(label=_label(RULE, "kind"), choices=RULE.get_field("kind").choices)
    pattern = forms.CharField(
        label=_label(RULE, "pattern"),
        max_length=200,
        required=False,
        help_text=_help(RULE, "pattern"),
    )
    min_engaged_seconds = forms.IntegerField(
        label=_label(RULE, "min_engaged_seconds"), min_value=0, max_value=86_400, initial=0
    )
    points = forms.IntegerField(label=_label(RULE, "points"), min_value=-1000, max_value=1000)
    active = forms.BooleanField(label=_label(RULE, "active"), required=False, initial=True)

    @classmethod
    def initial_for(cls, rule: EngagementRule) -> dict:
        return {name: getattr(rule, name) for name in services.RULE_FIELDS}


class EngagementSettingsForm(StyledForm):
    half_life_days = forms.IntegerField(
        label=_label(SETTINGS, "half_life_days"),
        min_value=services.HALF_LIFE_DAYS[0],
        max_value=services.HALF_LIFE_DAYS[1],
        help_text=_help(SETTINGS, "half_life_days"),
    )
    mql_threshold = forms.IntegerField(
        label=_label(SETTINGS, "mql_threshold"),
        min_value=services.MQL_THRESHOLD[0],
        max_value=services.MQL_THRESHOLD[1],
        help_text=_help(SETTINGS, "mql_threshold"),
    )
    action = forms.ChoiceField(
        label=_label(SETTINGS, "action"),
        choices=EngagementSettings.Action.choices,
        widget=forms.RadioSelect,
    )

    @classmethod
    def initial_for(cls, settings: EngagementSettings) -> dict:
        return {name: getattr(settings, name) for name in services.SETTINGS_FIELDS}
