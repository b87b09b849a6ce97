"""The fields of a lead form, as the script draws them and as a submission is checked."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from koers.crm.normalise import normalise_email, normalise_phone
from koers.tracking.ingest import clean_text
from koers.tracking.models import LeadForm


class Submission(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    email = forms.EmailField(label=_("Email"), max_length=254)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    message = forms.CharField(
        label=_("Message"), max_length=2000, required=False, widget=forms.Textarea
    )

    def __init__(self, *args, lead_form: LeadForm, **kwargs):
        super().__init__(*args, **kwargs)
        for name, asked in (
            ("phone", lead_form.ask_phone),
            ("company", lead_form.ask_company),
            ("message", lead_form.ask_message),
        ):
            if not asked:
                del self.fields[name]

    # Everything is checked here, before anyone is looked up: a known and an unknown
    # address get the same answer, so the form tells nobody who is a contact.
    def clean(self):
        for name, value in list(self.cleaned_data.items()):
            if clean_text(value) is None:
                self.add_error(name, _("Use letters, digits and punctuation only."))
            else:
                self.cleaned_data[name] = clean_text(value)
        return self.cleaned_data

    def clean_email(self) -> str:
        return _normalised(normalise_email, self.cleaned_data["email"])

    def clean_phone(self) -> str:
        return _normalised(normalise_phone, self.cleaned_data["phone"])

    def describe(self) -> list[dict]:
        """The fields for the script: name, label, input type, required, maximum length."""
        kinds = {"email": "email", "phone": "tel", "message": "textarea"}
        return [
            {
                "name": name,
                "label": str(field.label),
                "type": kinds.get(name, "text"),
                "required": field.required,
                "max": field.max_length,
            }
            for name, field in self.fields.items()
        ]


def _normalised(normalise, value: str) -> str:
    try:
        return normalise(value) if value else ""
    except ValidationError as error:
        raise forms.ValidationError(error.messages) from None
