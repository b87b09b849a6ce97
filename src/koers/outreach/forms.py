from django import forms
from django.utils.translation import gettext_lazy as _

from koers.activities.models import Activity
from koers.core.forms import DATE_INPUT, StyledForm
from koers.core.models import User
from koers.core.selectors import user_list_active
from koers.crm.forms import ContactFilterForm
from koers.outreach.models import CallCampaign
from koers.outreach.services import CAMPAIGN_FIELDS

FILTER_FIELDS = ("lifecycle_stage", "city", "dmu_role", "function", "owner", "q")


class CampaignForm(StyledForm):
    name = forms.CharField(label=_("name"), max_length=150)
    goal = forms.CharField(
        label=_("goal"),
        widget=forms.Textarea({"rows": 2}),
        help_text=CallCampaign.goal.field.help_text,
    )
    script = forms.CharField(
        label=_("script"),
        required=False,
        widget=forms.Textarea({"rows": 6}),
        help_text=CallCampaign.script.field.help_text,
    )
    agents = forms.ModelMultipleChoiceField(
        label=_("agents"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    cool_off_days = forms.IntegerField(
        label=CallCampaign.cool_off_days.field.verbose_name,
        min_value=0,
        max_value=3650,
        initial=365,
        help_text=CallCampaign.cool_off_days.field.help_text,
    )
    recent_call_days = forms.IntegerField(
        label=CallCampaign.recent_call_days.field.verbose_name,
        min_value=0,
        max_value=3650,
        initial=30,
        help_text=CallCampaign.recent_call_days.field.help_text,
    )
    max_attempts = forms.IntegerField(
        label=CallCampaign.max_attempts.field.verbose_name,
        min_value=1,
        max_value=20,
        initial=5,
        help_text=CallCampaign.max_attempts.field.help_text,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agents"].queryset = user_list_active().exclude(role=User.Role.READ_ONLY)
        # Who to call: the contact list's own filters.
        contact_filters = ContactFilterForm()
        for name in FILTER_FIELDS:
            field = contact_filters.fields[name]
            field.required = False
            self.fields[f"filter_{name}"] = field

    def filter_fields(self):
        return [self[f"filter_{name}"] for name in FILTER_FIELDS]

    def contact_filter(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(f"filter_{name}") or "" for name in FILTER_FIELDS}

    def campaign_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in CAMPAIGN_FIELDS}


class OutcomeForm(StyledForm):
    outcome = forms.ChoiceField(choices=Activity.Outcome.choices)
    note = forms.CharField(required=False, max_length=5000)
    call_back_on = forms.DateField(label=_("call back on"), required=False, widget=DATE_INPUT)
    reason = forms.CharField(label=_("reason"), required=False, max_length=500)
    right_person = forms.CharField(label=_("the right person"), required=False, max_length=200)
    meeting_on = forms.DateField(label=_("meeting date"), required=False, widget=DATE_INPUT)
    meeting_time = forms.TimeField(
        label=_("time"), required=False, widget=forms.TimeInput({"type": "time"}, format="%H:%M")
    )
    account_executive = forms.ModelChoiceField(
        label=_("account executive"), required=False, queryset=User.objects.none()
    )
    qualification = forms.CharField(
        label=_("qualification notes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea({"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_executive"].queryset = user_list_active().exclude(
            role=User.Role.READ_ONLY
        )
        self.fields["qualification"].widget.attrs["placeholder"] = _(
            "Budget, authority, need, timing"
        )
