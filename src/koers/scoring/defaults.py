"""The rules a new installation starts with, after seed 002: progress in the buying process
counts most, then touchpoints, then the kind of content read."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _


def _rule(name: str, kind: str, points: int, category: str, **more) -> dict:
    return {"name": name, "kind": kind, "points": points, "category": category, **more}


def default_rules() -> list[dict]:
    with translation.override(settings.LANGUAGE_CODE):
        return [
            _rule(_("Reached a deal stage"), "stage_reached", 30, "buying"),
            _rule(_("Viewed a quote"), "quote_view", 25, "buying"),
            _rule(_("Filled in a form"), "form_submit", 20, "buying"),
            _rule(_("Read the pricing page"), "page_view", 15, "buying", pattern="/pric"),
            _rule(_("Read the pricing page (Dutch)"), "page_view", 15, "buying", pattern="/prij"),
            _rule(_("Clicked a link in an email"), "email_click", 5, "touchpoint"),
            _rule(_("Opened an email"), "email_open", 1, "touchpoint"),
            _rule(_("Visited a page"), "page_view", 1, "touchpoint"),
            _rule(_("Downloaded a document"), "download", 8, "content"),
            _rule(
                _("Read a page for a minute or more"),
                "page_view",
                3,
                "content",
                min_engaged_seconds=60,
            ),
        ]
