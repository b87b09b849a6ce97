from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from koers.activities.services import MENTION

register = template.Library()

ICONS = {
    "call": "ti-phone",
    "email": "ti-mail",
    "meeting": "ti-users",
    "visit": "ti-map-pin",
    "note": "ti-note",
    "task": "ti-checkbox",
    "linkedin": "ti-brand-linkedin",
    "whatsapp": "ti-brand-whatsapp",
}
COLOURS = {
    "call": "green",
    "email": "blue",
    "meeting": "orange",
    "visit": "orange",
    "note": "yellow",
    "task": "secondary",
    "linkedin": "azure",
    "whatsapp": "teal",
}
OUTCOME_COLOURS = {
    "conversation": "green",
    "meeting_booked": "green",
    "qualified": "green",
    "send_information": "blue",
    "call_back": "blue",
    "no_answer": "secondary",
    "voicemail": "secondary",
    "wrong_person": "yellow",
    "not_interested": "red",
    "objected": "red",
    "not_qualified": "yellow",
    "no_show": "red",
}


@register.filter
def activity_icon(kind: str) -> str:
    return ICONS.get(kind, "ti-point")


@register.filter
def activity_colour(kind: str) -> str:
    return COLOURS.get(kind, "secondary")


@register.filter
def outcome_colour(outcome: str) -> str:
    return OUTCOME_COLOURS.get(outcome, "secondary")


@register.filter
def mentions(text: str) -> str:
    """The text, escaped, with each @mention marked."""
    escaped = str(conditional_escape(text))
    return mark_safe(  # noqa: S308 - the text is escaped above, the mark is ours
        MENTION.sub(
            lambda match: format_html('<span class="mention">@{}</span>', match.group(1)),
            escaped,
        )
    )
