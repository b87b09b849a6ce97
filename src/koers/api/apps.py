from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "koers.api"
    label = "api"
    verbose_name = _("API")

    def ready(self):
        from koers.api import webhooks
        from koers.core import events

        events.subscribe(webhooks.listen)
