from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from koers.core.forms import StyledForm
from koers.crm import sbi
from koers.crm.models import Company
from koers.scoring.models import IcpCriterion

Attribute = IcpCriterion.Attribute
CRITERION = IcpCriterion._meta

# Which form field holds the values of each attribute.
VALUE_FIELDS = {
    Attribute.INDUSTRY: "industry_values",
    Attribute.EMPLOYEE_BAND: "employee_band_values",
    Attribute.REVENUE_BAND: "revenue_band_values",
    Attribute.COUNTRY: "country_values",
    Attribute.REGION: "region_values",
    Attribute.TECHNOLOGY: "technology_values",
    Attribute.CUSTOM: "custom_values",
}
TEXT_FIELDS = {"region_values", "technology_values", "custom_values"}
# One value per line: a value may hold a comma or semicolon ("Zorg, welzijn").
MAX_VALUE_LENGTH = 200
MAX_VALUES = 100


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _values_area() -> forms.Textarea:
    return forms.Textarea(attrs={"rows": 4})


class CriterionForm(StyledForm):
    attribute = forms.ChoiceField(
        label=CRITERION.get_field("attribute").verbose_name,
        choices=Attribute.choices,
        # The page shows the values field of the chosen attribute (Alpine.js).
        widget=forms.Select(attrs={"x-model": "attribute"}),
    )
    industry_values = forms.MultipleChoiceField(
        label=_("industries that fit"),
        choices=[
            (section, [(code, format_lazy("{} · {}", code, label)) for code, label in divisions])
            for section, divisions in sbi.SECTIONS
        ],
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("Hold Ctrl (or ⌘) to choose more than one."),
    )
    employee_band_values = forms.MultipleChoiceField(
        label=_("numbers of employees that fit"),
        choices=Company.EmployeeBand.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    revenue_band_values = forms.MultipleChoiceField(
        label=_("annual revenues that fit"),
        choices=Company.RevenueBand.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    country_values = forms.MultipleChoiceField(
        label=_("countries that fit"),
        choices=lambda: list(countries),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Hold Ctrl (or ⌘) to choose more than one."),
    )
    region_values = forms.CharField(
        label=_("postcode areas that fit"),
        required=False,
        widget=_values_area(),
        help_text=_(
            "The first two digits of Dutch postcodes, one per line: 10 and 35 for "
            "Amsterdam and Utrecht."
        ),
    )
    technology_values = forms.CharField(
        label=_("technologies that fit"),
        required=False,
        widget=_values_area(),
        help_text=_(
            "One per line, such as Exact Online and AFAS. A company that uses any of them "
            "matches; capitals do not matter."
        ),
    )
    field = forms.CharField(
        label=CRITERION.get_field("field").verbose_name,
        required=False,
        max_length=100,
        help_text=_("The name of the field as companies have it, such as Fleet size."),
    )
    custom_values = forms.CharField(
        label=_("values that fit"),
        required=False,
        widget=_values_area(),
        help_text=_("One per line; capitals do not matter. Or give a range below."),
    )
    minimum = forms.FloatField(
        label=CRITERION.get_field("minimum").verbose_name,
        required=False,
        help_text=_("For a number: the lowest value that fits."),
    )
    maximum = forms.FloatField(
        label=CRITERION.get_field("maximum").verbose_name,
        required=False,
        help_text=_("For a number: the highest value that fits."),
    )
    weight = forms.IntegerField(
        label=CRITERION.get_field("weight").verbose_name,
        min_value=-10,
        max_value=10,
        help_text=CRITERION.get_field("weight").help_text,
    )

    @classmethod
    def initial_for(cls, criterion: IcpCriterion) -> dict:
        initial = {
            "attribute": criterion.attribute,
            "field": criterion.field,
            "minimum": criterion.minimum,
            "maximum": criterion.maximum,
            "weight": criterion.weight,
        }
        name = VALUE_FIELDS[criterion.attribute]
        values = list(criterion.values or [])
        initial[name] = "\n".join(values) if name in TEXT_FIELDS else values
        return initial

    @property
    def current_attribute(self) -> str:
        if self.is_bound:
            return self.data.get("attribute", "")
        return self.initial.get("attribute", "") or Attribute.INDUSTRY

    def values_field(self) -> str:
        return VALUE_FIELDS.get(self.current_attribute, "attribute")

    def clean(self) -> dict:
        data = super().clean()
        attribute = data.get("attribute", "")
        name = VALUE_FIELDS.get(attribute)
        raw = data.get(name) if name else None
        values = _lines(raw) if name in TEXT_FIELDS else list(raw or [])
        if name in TEXT_FIELDS:
            self._check_values(name, values)
        return {
            "attribute": attribute,
            "field": data.get("field", ""),
            "values": values,
            "minimum": data.get("minimum"),
            "maximum": data.get("maximum"),
            **({"weight": data["weight"]} if "weight" in data else {}),
        }

    def _check_values(self, name: str, values: list[str]) -> None:
        """A criterion holds at most MAX_VALUES values of at most MAX_VALUE_LENGTH each."""
        if len(values) > MAX_VALUES:
            self.add_error(
                name,
                gettext("Give at most %(maximum)d values, one per line; these are %(count)d.")
                % {"maximum": MAX_VALUES, "count": len(values)},
            )
        too_long = [value for value in values if len(value) > MAX_VALUE_LENGTH]
        if too_long:
            self.add_error(
                name,
                gettext("Each value may have at most %(maximum)d characters; one has %(length)d.")
                % {"maximum": MAX_VALUE_LENGTH, "length": len(too_long[0])},
            )

    def add_error(self, field, error):
        # The service names the values "values"; on this form they are in the attribute's
        # own field.
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            errors = dict(error.error_dict)
            if "values" in errors:
                errors[self.values_field()] = errors.pop("values")
                error = ValidationError(errors)
        super().add_error(field, error)
