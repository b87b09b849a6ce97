from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


def language_for(request) -> str:
    """A logged-in user's chosen language, else the site's; before logging in, the one
    picked on the login page."""
    languages = dict(settings.LANGUAGES)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.language if user.language in languages else settings.LANGUAGE_CODE
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return chosen if chosen in languages else settings.LANGUAGE_CODE


class UserLanguageMiddleware:
    """Activate the language of the user, not the browser's: a Dutch team's browsers are
    often set to English, and the installation's language should win unless the user
    chose otherwise."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = language_for(request)
        request.LANGUAGE_CODE = language
        # override() puts back the previous language: nothing leaks into the next request.
        with translation.override(language):
            response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response
