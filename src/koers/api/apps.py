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
        events.subscribe(_forget_changed_user)


def _forget_changed_user(name, record, payload) -> None:
    """A cached token carries its user and what the user's role sees: forget it when either
    changes."""
    from koers.api.services import api_tokens_forget_role, api_tokens_forget_user

    if name == "user.updated":
        api_tokens_forget_user(user_id=record.pk)
    elif name == "role_visibility.updated":
        api_tokens_forget_role(role=payload["role"])
