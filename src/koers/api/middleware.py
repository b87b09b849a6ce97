"""API calls skip the parts of the request cycle that serve people in a browser."""

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import patch_vary_headers

from koers.core.middleware import language_for


class ApiFirst:
    """Answer /api/v1/ calls before sessions, users, CSRF, messages and login lock-outs are
    set up: a call carries its own token (checked by the API, which also activates the
    token user's language) and uses none of them. They are the calls a program makes
    thousands of times; the pages and /api/docs take the whole way."""

    PREFIX = "/api/v1/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(self.PREFIX):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)  # Django's own 404
        request.resolver_match = match
        # Until the token says whose language it is: the installation's, or the cookie's.
        with translation.override(language_for(request)):
            response = match.func(request, *match.args, **match.kwargs)
            response.headers.setdefault("Content-Language", translation.get_language())
        patch_vary_headers(response, ("Cookie",))
        return response
