from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_search_indexes(sender, using, **kwargs):
    from django.db import connections

    from koers.crm.search import ensure_search_indexes

    ensure_search_indexes(connections[using])


class CrmConfig(AppConfig):
    name = "koers.crm"
    label = "crm"
    verbose_name = _("Companies and contacts")

    def ready(self):
        from koers.core import startpage
        from koers.crm import views

        # Search indexes live outside the migrations (see crm/search.py).
        post_migrate.connect(_ensure_search_indexes, sender=self)
        startpage.register(
            startpage.StartSection(
                name="crm",
                template="crm/partials/start_section.html",
                context=views.start_section_context,
                order=10,
            )
        )
