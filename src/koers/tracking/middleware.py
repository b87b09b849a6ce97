"""The beacon endpoint skips the parts of the request cycle it has no use for."""

from django.http import HttpRequest, HttpResponse


class IngestFirst:
    """Answer the tracking script's beacons before sessions, users, CSRF, languages and
    messages are set up: a beacon uses none of them (it is public, carries a signed site
    token and is refused on every other ground in the view), and it is the one request
    that arrives thousands of times a second."""

    def __init__(self, get_response):
        from koers.tracking.views.public import collect  # the apps are loaded by now

        self.get_response, self.collect = get_response, collect

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/t/e":
            return self.collect(request)
        return self.get_response(request)
