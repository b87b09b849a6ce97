"""Calling the API in tests as a token of a user."""

from django.test import Client

from koers.api.scopes import all_scopes
from koers.api.services import api_token_create


def bearer(user, scopes=None) -> Client:
    """A client that sends a fresh token of the user with these scopes (all by default)."""
    user.language = "en"  # messages come in the token user's language
    user.save(update_fields=["language"])
    _token, secret = api_token_create(
        user=user, name="test", scopes=scopes or all_scopes(), days=30
    )
    return Client(headers={"Authorization": f"Bearer {secret}"})


def call(client, method, url, body=None, **headers):
    if method in ("post", "patch"):
        return getattr(client, method)(
            url, body or {}, content_type="application/json", headers=headers
        )
    return getattr(client, method)(url, headers=headers)
