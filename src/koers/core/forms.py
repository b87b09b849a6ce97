from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from koers.core.models import RoleVisibility, Team, User

LANGUAGE_CHOICES = [("", _("Language of this installation")), *settings.LANGUAGES]


def _quiet_empty_choice(field: forms.Field) -> None:
    """Show an empty choice as a dash instead of Django's "---------"."""
    if isinstance(field, forms.ModelChoiceField):
        if field.empty_label is not None:
            field.empty_label = "—"
    elif isinstance(field, forms.ChoiceField):
        choices = list(field.choices)
        if choices and choices[0] == ("", "---------"):
            field.choices = [("", "—"), *choices[1:]]


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StyledFormMixin:
    """Give a form's widgets Tabler's classes and mark the fields in error."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            _quiet_empty_choice(field)
            widget = field.widget
            if isinstance(
                widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple
            ):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            attrs = self.fields[name].widget.attrs if name in self.fields else {}
            if "is-invalid" not in attrs.get("class", ""):
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()

    def error_summary(self) -> list[tuple[str, str]]:
        """Return (field label, message) for every error, for the summary above the form."""
        summary = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            summary.extend((capfirst(str(label or "")), error) for error in errors)
        return summary


class StyledForm(StyledFormMixin, forms.Form):
    pass


def save_with(form: forms.Form, write) -> object | None:
    """Call the service `write` with the form's data, or None when the form is not valid;
    what the service refuses goes on the form (the services name the form's own fields)."""
    if not form.is_valid():
        return None
    try:
        return write(**form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return None


class ProfileForm(StyledForm):
    first_name = forms.CharField(label=_("first name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("email"), max_length=254, required=False)
    language = forms.ChoiceField(label=_("language"), choices=LANGUAGE_CHOICES, required=False)


class UserForm(StyledForm):
    username = forms.CharField(label=_("username"), max_length=150)
    first_name = forms.CharField(label=_("first name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("email"), max_length=254, required=False)
    role = forms.ChoiceField(label=_("role"), choices=User.Role.choices)
    team = forms.ModelChoiceField(label=_("team"), queryset=Team.objects.all(), required=False)
    is_active = forms.BooleanField(label=_("may log in"), required=False, initial=True)
    password = forms.CharField(
        label=_("password"),
        widget=forms.PasswordInput(render_value=False),
        help_text=_("At least 10 characters; not a common password."),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            # A user's password is theirs to change; an admin only sets the first one.
            del self.fields["password"]
            self.fields["username"].disabled = True


class TeamForm(StyledForm):
    name = forms.CharField(label=_("name"), max_length=100)


class VisibilityForm(StyledForm):
    def __init__(self, *args, rules: list[tuple[str, str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        for role, label, scope in rules:
            self.fields[role] = forms.ChoiceField(
                label=label, choices=RoleVisibility.Scope.choices, initial=scope
            )
