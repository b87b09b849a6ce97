import phonenumbers
from django import template
from django.utils.html import format_html

from koers.crm import sbi
from koers.crm.models import LifecycleStage

register = template.Library()

STAGE_CSS = {
    LifecycleStage.LEAD: "bg-blue-lt",
    LifecycleStage.MQL: "bg-blue-lt",
    LifecycleStage.SQL: "bg-orange-lt",
    LifecycleStage.OPPORTUNITY: "bg-orange-lt",
    LifecycleStage.CUSTOMER: "bg-green-lt",
    LifecycleStage.FORMER_CUSTOMER: "bg-secondary-lt",
}


@register.filter
def stage_badge(stage: str) -> str:
    """The lifecycle stage as a coloured badge; a filter, not an include, as lists show 100."""
    label = LifecycleStage(stage).label if stage in LifecycleStage.values else stage
    return format_html(
        '<span class="badge {}">{}</span>', STAGE_CSS.get(stage, "bg-azure-lt"), label
    )


@register.filter
def industry(code: str) -> str:
    # A dictionary look-up; get_industry_display rebuilds the grouped choices every call.
    return sbi.DIVISIONS.get(code, "")


@register.filter
def custom_field_items(fields: dict) -> list[tuple[str, object]]:
    """A record's custom fields by name: the database keeps no order of its own."""
    return sorted((fields or {}).items(), key=lambda item: item[0].casefold())


@register.filter
def phone(value: str) -> str:
    """Show an E.164 number the way people read it: Dutch numbers nationally, others with +."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 31
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


@register.inclusion_tag("crm/partials/sort_header.html", takes_context=True)
def sort_header(context, key: str, label: str, toggle: bool = True):
    """A column header that sorts the list by `key`, and the other way round when clicked again."""
    current = context["request"].GET.get("sort") or "name"
    if not toggle:
        target, direction = key, "desc" if current == key else ""
    elif current == key:
        target, direction = f"-{key}", "asc"
    elif current == f"-{key}":
        target, direction = key, "desc"
    else:
        target, direction = key, ""
    return {"request": context["request"], "target": target, "direction": direction, "label": label}
