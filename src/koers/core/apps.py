from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "koers.core"
    label = "core"
    verbose_name = _("Users and audit trail")
    default = True

    def ready(self):
        from koers.core import lookups  # noqa: F401 (registers them on their fields)


class BackOfficeConfig(admin_apps.AdminConfig):
    """The Django admin as a back office, open to the admin role only."""

    default = False
    default_site = "koers.core.backoffice.BackOfficeSite"
