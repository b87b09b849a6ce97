from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from koers.core.forms import DATE_INPUT, StyledForm
from koers.core.models import User
from koers.core.selectors import user_list_active
from koers.tracking.attribution import DEFAULT_DAYS, AttributionModel
from koers.tracking.models import Campaign, LeadForm, Site


class SiteForm(StyledForm):
    name = forms.CharField(label=_("name"), max_length=150)
    allowed_domains = forms.CharField(
        label=_("allowed domains"),
        widget=forms.Textarea({"rows": 3, "placeholder": "example.nl"}),
        help_text=Site.allowed_domains.field.help_text,
    )
    consent_mode = forms.ChoiceField(
        label=_("before consent"),
        choices=Site.ConsentMode.choices,
        widget=forms.RadioSelect,
        initial=Site.ConsentMode.REQUIRED,
    )
    active = forms.BooleanField(label=_("active"), required=False, initial=True)

    @classmethod
    def initial_for(cls, site: Site) -> dict:
        return {
            "name": site.name,
            "allowed_domains": "\n".join(site.domains),
            "consent_mode": site.consent_mode,
            "active": site.active,
        }


class LeadFormForm(StyledForm):
    name = forms.CharField(label=_("name"), max_length=150)
    ask_phone = forms.BooleanField(label=_("ask for a phone number"), required=False, initial=True)
    ask_company = forms.BooleanField(label=_("ask for the company"), required=False, initial=True)
    ask_message = forms.BooleanField(label=_("ask for a message"), required=False, initial=True)
    thanks = forms.CharField(
        label=_("thank-you text"),
        max_length=300,
        required=False,
        widget=forms.Textarea({"rows": 2}),
        help_text=_("Shown after sending. Empty: a standard thank-you."),
    )
    owner = forms.ModelChoiceField(label=_("owner of new contacts"), queryset=User.objects.none())
    campaign = forms.ModelChoiceField(
        label=_("campaign"), queryset=Campaign.objects.none(), required=False
    )
    active = forms.BooleanField(label=_("active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = user_list_active().exclude(role=User.Role.READ_ONLY)
        self.fields["campaign"].queryset = Campaign.objects.order_by("name")

    @classmethod
    def initial_for(cls, lead_form: LeadForm) -> dict:
        return {name: getattr(lead_form, name) for name in cls.base_fields}


class CampaignForm(StyledForm):
    name = forms.CharField(label=_("name"), max_length=150)
    channel = forms.ChoiceField(label=_("channel"), choices=Campaign.Channel.choices)
    starts_on = forms.DateField(label=_("starts on"), required=False, widget=DATE_INPUT)
    ends_on = forms.DateField(label=_("ends on"), required=False, widget=DATE_INPUT)
    spend = forms.DecimalField(
        label=_("spend (EUR)"), max_digits=12, decimal_places=2, min_value=0, initial=0
    )
    utm_campaign = forms.CharField(
        label=_("UTM campaign"),
        max_length=100,
        required=False,
        help_text=Campaign.utm_campaign.field.help_text,
    )
    owner = forms.ModelChoiceField(label=_("owner"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = user_list_active()

    @classmethod
    def initial_for(cls, campaign: Campaign) -> dict:
        return {name: getattr(campaign, name) for name in cls.base_fields}


class AttributionFilterForm(forms.Form):
    """The report's model and period; a wrong value falls back to the default."""

    model = forms.ChoiceField(choices=AttributionModel.choices, required=False)
    start = forms.DateField(label=_("from"), required=False, widget=DATE_INPUT)
    end = forms.DateField(label=_("to"), required=False, widget=DATE_INPUT)

    def values(self) -> tuple[str, date, date]:
        self.is_valid()  # the fields that are valid are in cleaned_data either way
        data = self.cleaned_data
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS)
        if start > end:
            start, end = end, start
        return data.get("model") or AttributionModel.FIRST_TOUCH, start, end
