from django.urls import path

from koers.api import views

app_name = "api"

# The token and webhook pages; the Ninja API itself is mounted in koers.urls via api.mount.
urlpatterns = [
    path("profile/tokens/", views.token_list, name="token-list"),
    path("profile/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("profile/webhooks/", views.webhook_list, name="webhook-list"),
    path("profile/webhooks/<int:pk>/", views.webhook_detail, name="webhook-detail"),
    path("profile/webhooks/<int:pk>/pause/", views.webhook_pause, name="webhook-pause"),
    path("profile/webhooks/<int:pk>/resume/", views.webhook_resume, name="webhook-resume"),
    path("profile/webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook-delete"),
    path(
        "profile/webhooks/<int:pk>/deliveries/<int:delivery_pk>/replay/",
        views.webhook_delivery_replay,
        name="webhook-delivery-replay",
    ),
]
