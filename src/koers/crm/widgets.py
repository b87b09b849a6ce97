from django import forms


class CompanyPicker(forms.Widget):
    """Choose one company by typing part of its name: a list of 100,000 does not fit a select."""

    template_name = "crm/widgets/company_picker.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        label = ""
        if value:
            # Only from the companies this form offers: the posted id may be anyone's.
            label = self.choices.queryset.filter(pk=value).values_list("name", flat=True).first()
        context["widget"]["label"] = label or ""
        return context
