import re

from django import forms
from django.utils.translation import gettext_lazy as _

from koers.core.forms import DATE_INPUT, StyledForm, StyledFormMixin
from koers.core.models import User
from koers.core.paging import PAGE_SIZES
from koers.core.selectors import user_list_active
from koers.crm import sbi
from koers.crm.models import Company, Contact, LifecycleStage
from koers.crm.selectors import COMPANY_SORTS, CONTACT_SORTS, company_visible_to
from koers.crm.services import COMPANY_FIELDS, CONTACT_FIELDS
from koers.crm.widgets import CompanyPicker


class NameListField(forms.CharField):
    """Names typed on one line, separated by commas (or semicolons), as a list; the service
    trims them, drops repeats and checks their length."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        return [name.strip() for name in re.split(r"[,;]", text) if name.strip()]

    def has_changed(self, initial, data) -> bool:
        # Compared as typed: a name written elsewhere with a comma in it ("Foo, Inc.")
        # reads as two here, and must not be split by saving the form unchanged.
        return self.to_python(data) != self.to_python(self.prepare_value(initial or []))


def _form_fields(fields: list[str]) -> list[str]:
    # Custom fields are written by imports and the API; the detail page shows them.
    return [name for name in fields if name != "custom_fields"]


class RecordForm(StyledFormMixin, forms.ModelForm):
    """Parses what a person typed; the service normalises, validates and writes the record."""

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = user_list_active()
        company_field = "parent" if "parent" in self.fields else "company"
        choices = company_visible_to(user=user)
        current = getattr(self.instance, f"{company_field}_id", None)
        if current:
            # The company a record already has stays a valid choice, even when it is in
            # the trash or belongs to another team: editing the record must not fail on it.
            choices = choices | Company.objects.filter(pk=current)
        self.fields[company_field].widget = CompanyPicker(attrs={"class": "form-control"})
        self.fields[company_field].queryset = choices  # also hands the choices to the widget

    def _post_clean(self):
        # Model validation belongs to the service, after normalisation: "020-123 4567" is
        # too long for the phone column until it becomes "+31201234567".
        pass


class CompanyForm(RecordForm):
    # Wider than the columns: the service shortens what people type to the stored form.
    phone = forms.CharField(label=_("phone"), max_length=40, required=False)
    kvk_number = forms.CharField(
        label=_("KvK number"),
        max_length=20,
        required=False,
        help_text=Company.kvk_number.field.help_text,
    )
    establishment_number = forms.CharField(
        label=_("establishment number"),
        max_length=20,
        required=False,
        help_text=Company.establishment_number.field.help_text,
    )
    vat_number = forms.CharField(
        label=_("VAT number"),
        max_length=30,
        required=False,
        help_text=Company.vat_number.field.help_text,
    )
    technologies = NameListField(
        label=_("technologies"),
        required=False,
        help_text=_("Separate them with commas, such as: Exact Online, Salesforce."),
    )

    class Meta:
        model = Company
        fields = _form_fields(COMPANY_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "customer_until": DATE_INPUT,
        }

    def clean(self):
        cleaned = super().clean()
        if "technologies" not in self.changed_data:
            cleaned.pop("technologies", None)  # kept exactly as they are
        return cleaned


class ContactForm(RecordForm):
    phone = forms.CharField(label=_("phone"), max_length=40, required=False)
    mobile = forms.CharField(label=_("mobile"), max_length=40, required=False)
    linkedin_url = forms.URLField(
        label=_("LinkedIn profile"), max_length=300, required=False, assume_scheme="https"
    )

    class Meta:
        model = Contact
        fields = _form_fields(CONTACT_FIELDS)
        widgets = {
            "phone_opt_in_on": DATE_INPUT,
            "customer_until": DATE_INPUT,
            "call_back_on": DATE_INPUT,
        }


def _owner_choices(users) -> list[tuple[str, str]]:
    return [
        ("", _("Any owner")),
        ("me", _("Me")),
        ("none", _("No owner")),
        *[(str(user.pk), str(user)) for user in users],
    ]


class ListFilterForm(StyledForm):
    """The filters of a list page; a value that does not fit is ignored, not an error."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    owner = forms.ChoiceField(label=_("owner"), required=False)
    lifecycle_stage = forms.ChoiceField(
        label=_("lifecycle stage"),
        required=False,
        choices=[("", _("Any stage")), *LifecycleStage.choices],
    )
    city = forms.CharField(label=_("city"), required=False, max_length=100)
    per_page = forms.TypedChoiceField(
        required=False, coerce=int, choices=[(size, size) for size in PAGE_SIZES]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = _owner_choices(user_list_active())
        self.fields["q"].widget.attrs["placeholder"] = _("Name, email, KvK number…")
        self.fields["city"].widget.attrs["placeholder"] = _("City")

    def filters(self) -> dict:
        """Return the valid, non-empty filters for the selector."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            name: value
            for name, value in cleaned.items()
            if value not in ("", None) and name not in ("per_page",)
        }


class CompanyFilterForm(ListFilterForm):
    industry = forms.ChoiceField(
        label=_("industry (SBI)"), required=False, choices=[("", _("Any industry")), *sbi.SECTIONS]
    )
    legal_form = forms.ChoiceField(
        label=_("legal form"),
        required=False,
        choices=[("", _("Any legal form")), *Company.LegalForm.choices],
    )
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in COMPANY_SORTS])


class ContactFilterForm(ListFilterForm):
    dmu_role = forms.ChoiceField(
        label=_("DMU role"),
        required=False,
        choices=[("", _("Any DMU role")), *Contact.DMURole.choices],
    )
    function = forms.ChoiceField(
        label=_("function"),
        required=False,
        choices=[("", _("Any function")), *Contact.Function.choices],
    )
    company_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in CONTACT_SORTS])
