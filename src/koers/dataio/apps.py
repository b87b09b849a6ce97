from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataioConfig(AppConfig):
    name = "koers.dataio"
    label = "dataio"
    verbose_name = _("Import, export and clean data")

    def ready(self):
        # Registers the import targets.
        from koers.core.selectors import AUDIT_LABELS
        from koers.dataio import service_writers, writers  # noqa: F401

        AUDIT_LABELS["merged_with"] = _("merged with")
        AUDIT_LABELS["merged_into"] = _("merged into")
