from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "koers.pipeline"
    label = "pipeline"
    verbose_name = _("Pipelines and deals")

    def ready(self):
        from koers.core import startpage
        from koers.crm import panels
        from koers.pipeline import panels as pipeline_panels

        startpage.register(
            startpage.StartSection(
                name="pipeline",
                template="pipeline/partials/start_section.html",
                context=pipeline_panels.start_section_context,
                order=5,
            )
        )
        panels.register(
            "company",
            panels.Panel(
                "deals", "pipeline/partials/company_deals.html", pipeline_panels.company_deals, 10
            ),
        )
        panels.register(
            "contact",
            panels.Panel(
                "deals", "pipeline/partials/contact_deals.html", pipeline_panels.contact_deals, 10
            ),
        )
