from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html
from django.utils.translation import ngettext

from koers.pipeline.templates_catalog import STAGE_NAMES

register = template.Library()


@register.filter
def euro(value: Decimal | None) -> str:
    """An amount in whole euros with the user's thousands separator: € 12.500 / € 12,500."""
    return format_html("€\u00a0{}", floatformat(value or 0, "0g"))


@register.filter
def days(value: float | None) -> str:
    return "—" if value is None else floatformat(value, "0g")


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{floatformat(value * 100, 0)}%"


@register.filter
def timesince_duration(value) -> str:
    """A timedelta as people say it: "3 days", "5 hours", "12 minutes"."""
    seconds = int(value.total_seconds())
    if seconds >= 86400:
        count = seconds // 86400
        return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}
    if seconds >= 3600:
        count = seconds // 3600
        return ngettext("%(count)d hour", "%(count)d hours", count) % {"count": count}
    count = max(seconds // 60, 0)
    return ngettext("%(count)d minute", "%(count)d minutes", count) % {"count": count}


@register.filter
def stage_name(key: str) -> str:
    """A template stage's name in the user's language."""
    return str(STAGE_NAMES.get(key, key))


@register.filter
def dict_get(mapping: dict, key: str):
    return mapping.get(key, [])
