from django import forms
from django.utils.translation import gettext_lazy as _

from koers.api.scopes import OBJECTS, READ, WRITE, accesses, scope
from koers.api.webhooks import EVENT_GROUPS
from koers.core.forms import StyledForm
from koers.core.models import User

DAY_CHOICES = [(30, _("30 days")), (90, _("90 days")), (365, _("1 year"))]
ACCESS_LABELS = {READ: _("read"), WRITE: _("write")}


def scope_label(value: str) -> str:
    """A scope as people read it, such as "Contacts · read"; unknown ones as they are."""
    name, _sep, access = value.partition(":")
    if name not in OBJECTS or access not in ACCESS_LABELS:
        return value
    return f"{OBJECTS[name]} · {ACCESS_LABELS[access]}"


class ScopeCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes of which some can be shown but not ticked."""

    def __init__(self, *args, disabled_values=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled_values = set(disabled_values)

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


class ApiTokenForm(StyledForm):
    name = forms.CharField(
        label=_("name"),
        max_length=100,
        help_text=_("Such as the program that uses it: “Website form”, “Accounting”."),
    )
    scopes = forms.MultipleChoiceField(label=_("access"), widget=ScopeCheckboxes)
    days = forms.TypedChoiceField(label=_("valid for"), choices=DAY_CHOICES, coerce=int, initial=90)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_write = user.can_edit_records
        field = self.fields["scopes"]
        field.choices = [
            (scope(name, access), scope_label(scope(name, access)))
            for name in OBJECTS
            for access in accesses(name)
        ]
        if not self.can_write:
            field.widget.disabled_values = {
                scope(name, WRITE) for name in OBJECTS if WRITE in accesses(name)
            }

    def scope_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField | None]]:
        """Per kind of object: its label, its read checkbox and its write checkbox (None for
        an object the API only reads)."""
        boxes = {box.data["value"]: box for box in self["scopes"]}
        return [
            (label, boxes[scope(name, READ)], boxes.get(scope(name, WRITE)))
            for name, label in OBJECTS.items()
        ]


class WebhookSubscriptionForm(StyledForm):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_(
            "The address of the program that receives the events, such as "
            "https://example.com/koers-webhook."
        ),
    )
    events = forms.MultipleChoiceField(
        label=_("events"),
        widget=forms.CheckboxSelectMultiple,
        choices=[
            (group, [(name, label) for name, label in events]) for group, events in EVENT_GROUPS
        ],
    )

    def event_groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """Per kind of record: its label and its events' checkboxes."""
        boxes = {box.data["value"]: box for box in self["events"]}
        return [(group, [boxes[name] for name, _label in events]) for group, events in EVENT_GROUPS]
