from django.urls import path

from koers.dataio.views import duplicates, exports, imports

app_name = "dataio"

urlpatterns = [
    # imports
    path("import/", imports.job_list, name="import-list"),
    path("import/<int:pk>/", imports.job_detail, name="import-detail"),
    path("import/<int:pk>/mapping/", imports.job_mapping, name="import-mapping"),
    path("import/<int:pk>/start/", imports.job_start, name="import-start"),
    path("import/<int:pk>/delete/", imports.job_delete, name="import-delete"),
    path("import/<int:pk>/rejected.csv", imports.job_rejections, name="import-rejections"),
    # duplicates and merges
    path("duplicates/", duplicates.duplicate_list, name="duplicate-list"),
    path(
        "duplicates/<slug:kind>/<int:first>/<int:second>/",
        duplicates.duplicate_pair,
        name="duplicate-pair",
    ),
    path("merges/<int:pk>/undo/", duplicates.merge_undo_view, name="merge-undo"),
    # exports
    path("export/<slug:list_name>.<slug:file_format>", exports.export, name="export"),
]
