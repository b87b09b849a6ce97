from django.contrib import admin
from django.urls import include, path

from koers.api.mount import api_urls

urlpatterns = [
    # First: a program's calls come by the thousand, and Django tries the patterns in order.
    path("api/", api_urls()),
    path("", include("koers.core.urls")),
    path("", include("koers.crm.urls")),
    path("", include("koers.pipeline.urls")),
    path("", include("koers.activities.urls")),
    path("", include("koers.tracking.urls")),
    path("", include("koers.scoring.urls")),
    path("", include("koers.outreach.urls")),
    path("", include("koers.dataio.urls")),
    path("", include("koers.api.urls")),
    path("admin/", admin.site.urls),
]
