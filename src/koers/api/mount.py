"""The Ninja API's URLs, mounted at /api/ by koers.urls."""

from koers.api.api import api


def _without_login_page(patterns):
    """The API answers with JSON errors of its own instead of sending programs to the
    login page (Django's LoginRequiredMiddleware)."""
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            _without_login_page(pattern.url_patterns)
        else:
            pattern.callback.login_required = False
    return patterns


def api_urls():
    patterns, app_name, namespace = api.urls
    return _without_login_page(patterns), app_name, namespace
