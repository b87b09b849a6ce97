from django import forms
from django.utils.translation import gettext_lazy as _

from koers.core.forms import StyledForm
from koers.dataio import targets


class ImportUploadForm(StyledForm):
    target = forms.ChoiceField(label=_("Import into"), initial="contacts")
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (any delimiter or encoding) or Excel (.xlsx), with a header row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [
            (target.key, target.label) for target in targets.all_targets()
        ]
