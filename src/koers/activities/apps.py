from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "koers.activities"
    label = "activities"
    verbose_name = _("Activities and timelines")

    def ready(self):
        from koers.activities import panels as activity_panels
        from koers.activities import selectors, timeline
        from koers.activities.models import Activity
        from koers.core import startpage
        from koers.crm import panels

        timeline.register(
            timeline.Source(
                "activity", lambda: list(Activity.Kind.choices), selectors.activity_entries
            )
        )
        timeline.register(
            timeline.Source(
                "stage",
                lambda: [("stage", _("Stage changes"))],
                selectors.stage_change_entries,
            )
        )
        startpage.register(
            startpage.StartSection(
                name="my-day",
                template="activities/partials/start_section.html",
                context=activity_panels.start_section_context,
                order=1,
            )
        )
        panels.register(
            "company",
            panels.Panel(
                "account-team",
                "activities/partials/account_team.html",
                activity_panels.account_team_panel,
                5,
            ),
        )
        for kind in ("company", "contact", "deal"):
            panels.register(
                kind,
                panels.Panel(
                    "timeline",
                    "activities/partials/timeline_panel.html",
                    activity_panels.timeline_panel(kind),
                    50,
                ),
            )
