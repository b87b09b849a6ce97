"""What a token may do: read or write, per kind of object.

A new app's endpoints add their object here, so a token can be given exactly the access
its program needs.
"""

from django.utils.translation import gettext_lazy as _

OBJECTS = {
    "companies": _("Companies"),
    "contacts": _("Contacts"),
    "deals": _("Deals"),
    "pipelines": _("Pipelines"),
    "activities": _("Activities"),
    "campaigns": _("Call campaigns"),
    "imports": _("Imports"),
    "events": _("Events (visits, opens, usage)"),
    "marketing_campaigns": _("Marketing campaigns"),
}
READ, WRITE = "read", "write"
# Objects the API only reads. They get no write scope until they have write endpoints:
# a token given it now would otherwise gain those endpoints' power unasked.
READ_ONLY = {"campaigns"}


def accesses(name: str) -> tuple[str, ...]:
    return (READ,) if name in READ_ONLY else (READ, WRITE)


def all_scopes() -> list[str]:
    return [scope(name, access) for name in OBJECTS for access in accesses(name)]


def scope(name: str, access: str) -> str:
    return f"{name}:{access}"
