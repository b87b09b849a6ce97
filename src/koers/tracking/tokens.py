"""Signed tokens for everything public: the site in a snippet, and links in emails.

The script, emails and forms travel to strangers, so every id in them is signed by the
server; a forged or altered one is refused without a database query.
"""

import time
from typing import Any

from django.core import signing

from koers.tracking.models import Site

_SITE = signing.Signer(salt="koers.tracking.site")
IDENTIFY_MAX_AGE = 30 * 24 * 3600  # a click in an email identifies for a month
FORM_MAX_AGE = 24 * 3600


def site_token(site: Site) -> str:
    return _SITE.sign(site.key)


def site_key(token: str) -> str | None:
    """The site key in a snippet's token, or None when the token is not one of ours."""
    try:
        return _SITE.unsign(token)
    except signing.BadSignature:
        return None


def _dumps(value: Any, salt: str) -> str:
    return signing.dumps(value, salt=salt, compress=True)


def _loads(token: str, salt: str, max_age: int | None = None) -> Any:
    try:
        return signing.loads(token, salt=salt, max_age=max_age)
    except (signing.BadSignature, ValueError):
        return None


def identify_token(contact_id: int) -> str:
    """Added to links into the team's sites: the script hands it back to tie the visitor."""
    return _dumps(contact_id, "koers.tracking.identify")


def identify_contact_id(token: str) -> int | None:
    value = _loads(token, "koers.tracking.identify", IDENTIFY_MAX_AGE)
    return value if isinstance(value, int) else None


def email_open_token(*, contact_id: int, message: str) -> str:
    return _dumps([contact_id, message], "koers.tracking.open")


def email_click_token(*, contact_id: int, message: str, url: str) -> str:
    return _dumps([contact_id, message, url], "koers.tracking.click")


def email_open_data(token: str) -> tuple[int, str] | None:
    value = _loads(token, "koers.tracking.open")
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], int):
        return value[0], str(value[1])
    return None


def email_click_data(token: str) -> tuple[int, str, str] | None:
    value = _loads(token, "koers.tracking.click")
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], int):
        return value[0], str(value[1]), str(value[2])
    return None


def form_token(form_key: str) -> str:
    """Handed out with a lead form; a submission needs one at least a few seconds old."""
    return _dumps([form_key, int(time.time())], "koers.tracking.form")


def form_token_age(token: str, form_key: str) -> float | None:
    """Seconds since the form was handed out, or None when the token is bad or stale."""
    value = _loads(token, "koers.tracking.form", FORM_MAX_AGE)
    if not (isinstance(value, list) and len(value) == 2 and value[0] == form_key):
        return None
    return time.time() - value[1]
