"""Personal access tokens: made (shown once), checked on every call, revoked."""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from koers.api.models import ApiToken
from koers.api.scopes import WRITE, all_scopes
from koers.core.models import User

# Every secret starts so, to be recognised (by people and secret scanners); not a secret.
TOKEN_START = "koers_"  # noqa: S105
MAX_DAYS = 366


def _hash(secret: str) -> str:
    # A token is 32 random bytes; a fast hash is enough (nothing to guess from it).
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, user: User, name: str, scopes: list[str], days: int
) -> tuple[ApiToken, str]:
    """Make a token for the user; return it and its secret, which is not kept anywhere."""
    errors = {}
    if not name.strip():
        errors["name"] = _("Give the token a name, such as the program that uses it.")
    unknown = set(scopes) - set(all_scopes())
    if not scopes or unknown:
        errors["scopes"] = _("Choose what the token may read or change.")
    elif not user.can_edit_records and any(s.endswith(f":{WRITE}") for s in scopes):
        # A token acts as its user: it may not do more than the user may.
        errors["scopes"] = _("Your role may read records but not change them.")
    if not 1 <= days <= MAX_DAYS:
        errors["days"] = _("A token lasts from 1 day to a year.")
    if errors:
        raise ValidationError(errors)
    secret = TOKEN_START + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=secret[: len(TOKEN_START) + 6],
        secret_hash=_hash(secret),
        scopes=sorted(set(scopes)),
        expires_at=timezone.now() + timedelta(days=days),
    )
    return token, secret


def api_token_revoke(*, user: User, token: ApiToken) -> None:
    """Stop a token from working; its owner or an admin may."""
    if token.user_id != user.pk and not user.is_admin:
        raise ValidationError(_("This is someone else's token."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The usable token with this secret, its user active; None otherwise."""
    if not secret.startswith(TOKEN_START) or len(secret) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(secret_hash=_hash(secret), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    # Written at most once a minute: a busy token should not write on every call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
