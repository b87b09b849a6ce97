from django.contrib import admin

from koers.core.admin import ReadOnlyAdmin
from koers.pipeline.models import Deal, Pipeline, Stage, StageChange


@admin.register(Pipeline)
class PipelineAdmin(ReadOnlyAdmin):
    list_display = ["name", "sales_model", "is_active"]


@admin.register(Stage)
class StageAdmin(ReadOnlyAdmin):
    list_display = ["label", "pipeline", "position", "kind", "probability"]
    list_filter = ["pipeline"]


@admin.register(Deal)
class DealAdmin(ReadOnlyAdmin):
    list_display = ["name", "pipeline", "stage", "status", "value", "owner"]
    list_filter = ["pipeline", "status"]
    list_select_related = ["pipeline", "stage", "owner"]
    search_fields = ["name"]
    show_full_result_count = False


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyAdmin):
    list_display = ["deal", "from_stage", "to_stage", "actor", "at"]
    list_select_related = ["deal", "from_stage", "to_stage", "actor"]
