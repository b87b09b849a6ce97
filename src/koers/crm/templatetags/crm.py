import phonenumbers
from django import template

register = template.Library()


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
