from django import forms

from koers.crm.models import Company


class CompanyPicker(forms.Widget):
    """Choose one company by typing part of its name: a list of 100,000 does not fit a select."""

    template_name = "crm/widgets/company_picker.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        label = ""
        if value:
            label = Company.objects.filter(pk=value).values_list("name", flat=True).first() or ""
        context["widget"]["label"] = label
        return context
