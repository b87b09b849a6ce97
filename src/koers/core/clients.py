from django.conf import settings
from django.http import HttpRequest


def client_ip_address(request: HttpRequest) -> str | None:
    """The address of the person at the other end.

    Behind KOERS_PROXY_COUNT reverse proxies, each proxy appends the address it saw to
    X-Forwarded-For, so the client's is that many places from the end; what comes before
    it is whatever the client sent and cannot be trusted.
    """
    proxies = settings.KOERS_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
