"""Tracked email: an open pixel and signed click redirects, for emails Koers sends.

The redirect only goes where the signed token says, so it can never be used to send
people elsewhere (no open redirect); a link into one of the team's own sites also carries
an identification token, so the script there knows who arrived.
"""

import re
from html import escape, unescape

from django.urls import reverse

from koers.tracking import tokens
from koers.tracking.ingest import host_of

_LINK = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"']+)\2""", re.IGNORECASE)


def tracked_html(html: str, *, contact_id: int, message: str, base_url: str) -> str:
    """The email's HTML with every http(s) link going through Koers and a pixel at the end.

    `message` names the email (such as a campaign mailing's id); `base_url` is where
    Koers answers, such as https://crm.example.nl.
    """
    base = base_url.rstrip("/")

    def through_koers(match: re.Match) -> str:
        url = unescape(match.group(3))
        if not host_of(url):
            return match.group(0)  # not a link anyone can follow: left as it is
        token = tokens.email_click_token(contact_id=contact_id, message=message, url=url)
        redirect = base + reverse("tracking:email-click", args=[token])
        return f"{match.group(1)}{match.group(2)}{escape(redirect)}{match.group(2)}"

    pixel_token = tokens.email_open_token(contact_id=contact_id, message=message)
    pixel = base + reverse("tracking:email-open", args=[pixel_token])
    return _LINK.sub(through_koers, html) + (
        f'<img src="{escape(pixel)}" width="1" height="1" alt="" style="display:none">'
    )
