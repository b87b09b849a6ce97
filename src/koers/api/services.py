"""Personal access tokens: made (shown once), checked on every call, revoked."""

import hashlib
import secrets
import threading
import time
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from koers.api.models import ApiToken, IdempotentRequest
from koers.api.scopes import WRITE, all_scopes
from koers.core.models import User
from koers.core.selectors import visibility_scope

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
        _forget(token.secret_hash)


def _cache_key(secret_hash: str) -> str:
    return f"api-token:{secret_hash}"


def _generation_key(secret_hash: str) -> str:
    return f"api-token-generation:{secret_hash}"


# A token and its user are read from the cache for up to this long. Revoking the token or
# changing its user moves the token's generation on, which makes every cached copy stale,
# also one a request was just putting back from before the change committed.
TOKEN_CACHE_SECONDS = 60


def _move_generation(secret_hash: str) -> None:
    global _drops
    key = _generation_key(secret_hash)
    cache.add(key, 0, timeout=None)
    cache.incr(key)
    with _read_here_lock:  # the other processes see the new generation
        _drops += 1  # and another thread here does not put back a copy it read before
        _read_here.pop(secret_hash, None)


def _forget(secret_hash: str) -> None:
    """Now, and again once the change commits: a request in between may cache the old row."""
    _move_generation(secret_hash)
    transaction.on_commit(lambda: _move_generation(secret_hash))


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The usable token with this secret, its user active; None otherwise."""
    if not secret.startswith(TOKEN_START) or len(secret) > 100:
        return None
    token = _token_with(_hash(secret))
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    _note_use(token)
    return token


# The tokens this process read in the last seconds: hash → (generation, read at, checked
# at, token). A call within a second of the last check takes the copy as it is; a later
# one asks the shared cache for the generation alone (not for the token and its user to
# unpickle) and goes on with the copy while it matches. So a token revoked or a user changed
# in another process stops working here within a second, without a round trip per call.
# The calls of those seconds share the token and its user: read them, never change them.
_read_here: dict[str, tuple[int, float, float, ApiToken]] = {}
_read_here_lock = threading.Lock()
_drops = 0  # copies dropped here so far
CHECK_EVERY_SECONDS = 1.0
READ_HERE_SECONDS = 10
READ_HERE_MAX = 1000


def _token_with(secret_hash: str) -> ApiToken | None:
    key, generation_key = _cache_key(secret_hash), _generation_key(secret_hash)
    here, now, drops = _read_here.get(secret_hash), time.monotonic(), _drops
    if here is not None and now - here[1] < READ_HERE_SECONDS:
        if now - here[2] < CHECK_EVERY_SECONDS:
            return here[3]
        generation, cached = cache.get(generation_key), None
        if generation == here[0]:
            _keep_here(secret_hash, (generation, here[1], now, here[3]), drops)
            return here[3]
    else:
        found = cache.get_many([key, generation_key])
        generation, cached = found.get(generation_key), found.get(key)
    if generation is None:
        # Lost (evicted, flushed): no copy made before may count as current, so it starts
        # again where none of them can be.
        cache.add(generation_key, secrets.randbelow(2**62) + 1, timeout=None)
        generation, cached = cache.get(generation_key), None
    if cached is not None and cached[0] == generation:
        token = cached[1]
    else:
        token = ApiToken.objects.select_related("user").filter(secret_hash=secret_hash).first()
        if token is None:
            return None
        # Cached with the user: what the user's role sees (a query on every call otherwise).
        visibility_scope(user=token.user)
        # Under the generation read before the row: a change since then makes it stale.
        cache.set(key, (generation, token), TOKEN_CACHE_SECONDS)
    _keep_here(secret_hash, (generation, now, now, token), drops)
    return token


def _keep_here(secret_hash: str, copy: tuple, drops: int) -> None:
    """Keep this process's copy, unless a copy was dropped since the call began."""
    with _read_here_lock:
        if drops != _drops:
            return
        if len(_read_here) >= READ_HERE_MAX:
            _read_here.clear()
        _read_here[secret_hash] = copy


# When this process last wrote each token's last_used_at. The cached copy of a token keeps
# the time it was cached with (re-caching it could bring back a revoked token), so without
# this every call on a cached token would write.
_last_noted: dict[str, datetime] = {}


def _note_use(token: ApiToken) -> None:
    """Keep last_used_at to the minute: a busy token should not write on every call."""
    now = timezone.now()
    last = max(filter(None, (token.last_used_at, _last_noted.get(token.secret_hash))), default=None)
    if last is None or now - last > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        if len(_last_noted) >= READ_HERE_MAX:
            _last_noted.clear()
        _last_noted[token.secret_hash] = token.last_used_at = now


def api_tokens_forget_user(*, user_id: int) -> None:
    """Make the cached tokens of a user whose role, team or access just changed stale."""
    for secret_hash in ApiToken.objects.filter(user_id=user_id).values_list(
        "secret_hash", flat=True
    ):
        _forget(secret_hash)


def api_tokens_forget_role(*, role: str) -> None:
    """Make the cached tokens of every user of a role whose visibility just changed stale."""
    for secret_hash in ApiToken.objects.filter(user__role=role).values_list(
        "secret_hash", flat=True
    ):
        _forget(secret_hash)


# A retry comes within minutes; a day is plenty, and the stored answers hold personal data.
IDEMPOTENCY_HOURS = 24


def idempotent_requests_prune() -> int:
    """Forget the answers kept for Idempotency-Keys older than a day."""
    cutoff = timezone.now() - timedelta(hours=IDEMPOTENCY_HOURS)
    return IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()[0]
