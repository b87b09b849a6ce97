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
        self._ready_fit()
        self._ready_prediction()

    def _ready_fit(self):
        from koers.core import events
        from koers.crm import panels
        from koers.scoring import fit, icp_views

        events.subscribe(fit.on_company_event)
        panels.register(
            "company",
            panels.Panel("fit", "scoring/partials/fit_panel.html", icp_views.fit_panel, 12),
        )

    def _ready_prediction(self):
        from koers.core import startpage
        from koers.crm import list_extras, panels
        from koers.scoring import model_views

        panels.register(
            "contact",
            panels.Panel(
                "conversion",
                "scoring/partials/conversion_panel.html",
                model_views.conversion_panel,
                16,
            ),
        )
        startpage.register(
            startpage.StartSection(
                name="priority",
                template="scoring/partials/priority_section.html",
                context=model_views.priority_section,
                order=3,
            )
        )
        for item in (
            model_views.FIT_FILTER,
            model_views.ENGAGEMENT_FILTER,
            model_views.OPEN_FILTER,
        ):
            list_extras.register_filter("contact", item)
        list_extras.register_sort("contact", model_views.CHANCE_SORT)
        list_extras.register_column("contact", model_views.PRIORITY_COLUMN)
