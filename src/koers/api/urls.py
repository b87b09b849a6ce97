from django.urls import path

from koers.api import views

app_name = "api"

# The token pages; the Ninja API itself is mounted in koers.urls via api.mount.
urlpatterns = [
    path("profile/tokens/", views.token_list, name="token-list"),
    path("profile/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
