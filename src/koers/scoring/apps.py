from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "koers.scoring"
    label = "scoring"
    verbose_name = _("Scoring")

    def ready(self):
        from koers.crm import panels
        from koers.scoring import tasks
        from koers.scoring.panels import engagement_panel
        from koers.tracking.services.events import on_events_stored

        on_events_stored(lambda contact_ids: tasks.contacts_score(sorted(contact_ids)))
        panels.register(
            "contact",
            panels.Panel(
                "engagement", "scoring/partials/engagement_panel.html", engagement_panel, 15
            ),
        )
