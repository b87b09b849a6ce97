"""Settings for the test suite: the real settings, with work done in-process."""

from koers.settings import *  # noqa: F403
from koers.settings import HUEY, STORAGES

# Tasks run when queued, in the test's transaction.
HUEY = {**HUEY, "immediate": True}
# Templates resolve static files from the finders; no collectstatic needed.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Static files come from the finders; there is no collected STATIC_ROOT to scan.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tracked events are stored when they arrive, so tests see them at once.
KOERS_TRACKING_DRAIN_DELAY = 0
