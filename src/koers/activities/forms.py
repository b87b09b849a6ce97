from django import forms
from django.utils.translation import gettext_lazy as _

from koers.activities.models import AccountTeamMember, Activity
from koers.core.forms import DATE_INPUT, StyledForm
from koers.core.selectors import user_list_active

# The kinds a person logs from the timeline with one click, in the order of the buttons.
QUICK_KINDS = [
    Activity.Kind.NOTE,
    Activity.Kind.CALL,
    Activity.Kind.EMAIL,
    Activity.Kind.MEETING,
    Activity.Kind.VISIT,
    Activity.Kind.LINKEDIN,
    Activity.Kind.WHATSAPP,
]


class QuickLogForm(StyledForm):
    """One line and a kind: the button pressed says the kind."""

    subject = forms.CharField(label=_("What happened?"), max_length=2000)
    body = forms.CharField(
        label=_("details"), required=False, max_length=20000, widget=forms.Textarea({"rows": 3})
    )
    kind = forms.ChoiceField(label=_("kind"), choices=[(k.value, k.label) for k in QUICK_KINDS])
    direction = forms.ChoiceField(
        label=_("direction"),
        required=False,
        choices=[("", _("Not applicable")), *Activity.Direction.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].widget.attrs.update(
            {
                "placeholder": _("One line: what happened? Mention a colleague with @name"),
                "autocomplete": "off",
            }
        )


class TaskForm(StyledForm):
    subject = forms.CharField(label=_("task"), max_length=200)
    kind = forms.ChoiceField(
        label=_("kind"),
        choices=[
            (kind.value, kind.label)
            for kind in (
                Activity.Kind.TASK,
                Activity.Kind.CALL,
                Activity.Kind.EMAIL,
                Activity.Kind.MEETING,
                Activity.Kind.VISIT,
            )
        ],
    )
    due_on = forms.DateField(label=_("due"), widget=DATE_INPUT)
    due_time = forms.TimeField(
        label=_("time"), required=False, widget=forms.TimeInput({"type": "time"}, format="%H:%M")
    )
    owner = forms.ModelChoiceField(label=_("for"), queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = user_list_active()
        self.fields["owner"].empty_label = _("Me")
        self.fields["subject"].widget.attrs["placeholder"] = _("What needs doing?")


class AccountTeamForm(StyledForm):
    user = forms.ModelChoiceField(label=_("colleague"), queryset=None)
    role = forms.ChoiceField(label=_("role"), choices=AccountTeamMember.Role.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = user_list_active()
