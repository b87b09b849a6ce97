from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrackingConfig(AppConfig):
    name = "koers.tracking"
    label = "tracking"
    verbose_name = _("Website and email tracking")

    def ready(self):
        from koers.activities import timeline as activity_timeline
        from koers.core import events, startpage
        from koers.tracking import panels, timeline
        from koers.tracking.services.events import deal_stage_reached

        activity_timeline.register(
            activity_timeline.Source("web", timeline.kinds, timeline.event_entries)
        )
        events.subscribe(deal_stage_reached)
        startpage.register(
            startpage.StartSection(
                name="hot-now",
                template="tracking/partials/hot_now_section.html",
                context=panels.hot_now_section_context,
                order=2,
            )
        )
