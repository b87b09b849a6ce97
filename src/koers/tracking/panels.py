"""What tracking adds to the start page."""

from koers.core.models import User
from koers.tracking import selectors

HOT_NOW_SHOWN = 5


def hot_now_section_context(user: User) -> dict:
    """The people the user may see who are on the website now, the latest five."""
    return {"visitors": selectors.hot_now(user=user, limit=HOT_NOW_SHOWN)}
