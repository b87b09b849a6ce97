from django.urls import path

from koers.outreach import views

app_name = "outreach"

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/new/", views.campaign_form, name="campaign-create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_form, name="campaign-edit"),
    path("campaigns/<int:pk>/build/", views.campaign_build, name="campaign-build"),
    path("campaigns/<int:pk>/status/", views.campaign_status, name="campaign-status"),
    path("campaigns/<int:pk>/call/", views.call_screen, name="call"),
    path("campaigns/<int:pk>/call/<int:entry_pk>/", views.call_outcome, name="call-outcome"),
]
