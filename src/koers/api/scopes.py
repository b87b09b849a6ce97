"""What a token may do: read or write, per kind of object.

A new app's endpoints add their object here, so a token can be given exactly the access
its program needs.
"""

from django.utils.translation import gettext_lazy as _

OBJECTS = {
    "companies": _("Companies"),
    "contacts": _("Contacts"),
}
READ, WRITE = "read", "write"


def all_scopes() -> list[str]:
    return [f"{name}:{access}" for name in OBJECTS for access in (READ, WRITE)]


def scope(name: str, access: str) -> str:
    return f"{name}:{access}"
