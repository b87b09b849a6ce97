from django import forms
from django.utils.translation import gettext_lazy as _

from koers.core.forms import DATE_INPUT, StyledForm, StyledFormMixin
from koers.core.models import User
from koers.core.paging import PAGE_SIZES
from koers.core.selectors import user_list_active
from koers.crm.models import Company, Contact
from koers.crm.selectors import company_visible_to
from koers.crm.widgets import CompanyPicker
from koers.pipeline import advisor
from koers.pipeline.models import Deal, Pipeline, SalesModel, Stage
from koers.pipeline.selectors import DEAL_SORTS, pipeline_list


def _owner_choices() -> list[tuple[str, str]]:
    return [
        ("", _("Any owner")),
        ("me", _("Me")),
        ("none", _("No owner")),
        *[(str(user.pk), str(user)) for user in user_list_active()],
    ]


class DealForm(StyledFormMixin, forms.ModelForm):
    """Parses what a person typed; the services check the rules and write the deal."""

    class Meta:
        model = Deal
        fields = [
            "name",
            "pipeline",
            "company",
            "amount_one_off",
            "amount_recurring",
            "expected_close_on",
            "probability",
            "owner",
            "source",
        ]
        widgets = {"expected_close_on": DATE_INPUT}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = user_list_active()
        self.fields["pipeline"].queryset = pipeline_list(active_only=True)
        self.fields["pipeline"].empty_label = None
        choices = company_visible_to(user=user)
        if self.instance.company_id:
            choices = choices | Company.objects.filter(pk=self.instance.company_id)
        self.fields["company"].widget = CompanyPicker(attrs={"class": "form-control"})
        self.fields["company"].queryset = choices
        for name in ("amount_one_off", "amount_recurring"):
            self.fields[name].widget.attrs.update({"min": "0", "step": "0.01"})
        if self.instance.pk:
            del self.fields["pipeline"]  # a deal moves between stages, not between pipelines

    def _post_clean(self):
        pass  # the services validate the deal


class LostForm(StyledForm):
    reason = forms.ChoiceField(label=_("lost reason"), choices=Deal.LostReason.choices)
    note = forms.CharField(label=_("what happened"), max_length=300, required=False)


class DealContactForm(StyledForm):
    contact = forms.ModelChoiceField(label=_("contact"), queryset=Contact.objects.none())
    dmu_role = forms.ChoiceField(
        label=_("DMU role"), choices=[("", "—"), *Contact.DMURole.choices], required=False
    )

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts


class HandOffForm(StyledForm):
    owner = forms.ModelChoiceField(
        label=_("account executive"),
        queryset=User.objects.none(),
        help_text=_("Who takes the deal from here; they are notified."),
    )
    pipeline = forms.ModelChoiceField(label=_("pipeline"), queryset=Pipeline.objects.none())
    name = forms.CharField(label=_("name of the deal"), max_length=200)
    amount_one_off = forms.DecimalField(label=_("one-off amount"), min_value=0, required=False)
    amount_recurring = forms.DecimalField(
        label=_("recurring amount per month"), min_value=0, required=False
    )
    expected_close_on = forms.DateField(
        label=_("expected close date"), required=False, widget=DATE_INPUT
    )
    qualification_budget = forms.CharField(
        label=_("Budget"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Is there money for this, and how much?"),
    )  # fmt: skip
    qualification_authority = forms.CharField(
        label=_("Authority"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Who decides, and who else is involved?"),
    )  # fmt: skip
    qualification_need = forms.CharField(
        label=_("Need"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Which problem do they want solved?"),
    )  # fmt: skip
    qualification_timing = forms.CharField(
        label=_("Timing"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("By when, and what sets that date?"),
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = user_list_active().filter(
            role__in=[User.Role.SALES, User.Role.MANAGER, User.Role.ADMIN]
        )
        self.fields["pipeline"].queryset = pipeline_list(active_only=True)
        self.fields["pipeline"].empty_label = None


class PipelineForm(StyledForm):
    name = forms.CharField(label=_("name"), max_length=100)
    stall_days = forms.IntegerField(
        label=_("stalled after days without activity"), min_value=1, max_value=365
    )
    is_active = forms.BooleanField(label=_("in use"), required=False)

    def __init__(self, *args, can_manage: bool, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.disabled = not can_manage


class StageForm(StyledForm):
    name = forms.CharField(label=_("name"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("kind"), choices=Stage.Kind.choices)
    probability = forms.IntegerField(label=_("win probability (%)"), min_value=0, max_value=100)
    required = forms.MultipleChoiceField(
        label=_("required before entering"),
        choices=Stage.Requirement.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, stage: Stage | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if stage is not None and stage.key:
            self.fields["name"].widget.attrs["placeholder"] = stage.label
            self.fields["name"].help_text = _(
                "Empty: the name of the template, in each user's language."
            )


class NewPipelineForm(StyledForm):
    sales_model = forms.ChoiceField(label=_("sales model"), choices=SalesModel.choices)
    name = forms.CharField(label=_("name"), max_length=100, required=False)


class AdvisorForm(StyledForm):
    lead_origin = forms.ChoiceField(
        label=_("Where do most of your leads come from?"),
        choices=advisor.LeadOrigin.choices,
        widget=forms.RadioSelect,
    )
    existing_revenue = forms.ChoiceField(
        label=_("How much of your revenue comes from existing customers?"),
        choices=advisor.ExistingRevenue.choices,
        widget=forms.RadioSelect,
    )
    people_per_sale = forms.ChoiceField(
        label=_("How many people on your side work on each sale?"),
        choices=advisor.PeoplePerSale.choices,
        widget=forms.RadioSelect,
    )
    people_at_account = forms.ChoiceField(
        label=_("Do you talk to one person at the customer, or to many?"),
        choices=advisor.PeopleAtAccount.choices,
        widget=forms.RadioSelect,
    )


class BoardFilterForm(StyledForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    owner = forms.ChoiceField(label=_("owner"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = _owner_choices()
        self.fields["q"].widget.attrs["placeholder"] = _("Name of the deal…")

    def filters(self) -> dict:
        self.is_valid()
        return {name: value for name, value in getattr(self, "cleaned_data", {}).items() if value}


class DealFilterForm(BoardFilterForm):
    pipeline_id = forms.TypedChoiceField(
        label=_("pipeline"), required=False, coerce=int, empty_value=None
    )
    stage_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("status"), required=False, choices=[("", _("Any status")), *Deal.Status.choices]
    )
    stalled = forms.BooleanField(label=_("stalled"), required=False)
    trash = forms.BooleanField(required=False, widget=forms.HiddenInput)
    company_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in DEAL_SORTS])
    per_page = forms.TypedChoiceField(
        required=False, coerce=int, choices=[(size, size) for size in PAGE_SIZES]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pipeline_id"].choices = [
            ("", _("Any pipeline")),
            *[(pipeline.pk, pipeline.name) for pipeline in pipeline_list()],
        ]

    def filters(self) -> dict:
        return {name: value for name, value in super().filters().items() if name != "per_page"}
