from django.contrib.auth import views as auth_views
from django.urls import path

from koers.core import views

app_name = "core"

urlpatterns = [
    path("", views.start, name="start"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("health/", views.health, name="health"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set-language"),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("settings/users/", views.user_list, name="user-list"),
    path("settings/users/new/", views.user_form, name="user-create"),
    path("settings/users/<int:pk>/", views.user_form, name="user-edit"),
    path("settings/teams/new/", views.team_form, name="team-create"),
    path("settings/teams/<int:pk>/", views.team_form, name="team-edit"),
    path("settings/visibility/", views.visibility, name="visibility"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/read/", views.notifications_read_all, name="notifications-read-all"),
    path("notifications/<int:pk>/", views.notification_open, name="notification-open"),
    path("saved-views/", views.saved_view_save, name="saved-view-save"),
    path("saved-views/<int:pk>/delete/", views.saved_view_delete, name="saved-view-delete"),
]
