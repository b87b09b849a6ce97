from django.urls import path

from koers.activities import views

app_name = "activities"

urlpatterns = [
    path("my-day/", views.my_day, name="my-day"),
    path("timeline/<str:subject>/<int:pk>/", views.timeline_entries, name="timeline"),
    path("timeline/<str:subject>/<int:pk>/log/", views.activity_log, name="log"),
    path("timeline/<str:subject>/<int:pk>/task/", views.task_create, name="task-create"),
    path("activities/<int:pk>/done/", views.activity_done, name="done"),
    path("activities/<int:pk>/delete/", views.activity_delete, name="delete"),
    path("activities/<int:pk>/calendar.ics", views.activity_calendar, name="calendar"),
    path("companies/<int:pk>/team/", views.account_team_add, name="account-team-add"),
    path("account-team/<int:pk>/remove/", views.account_team_remove, name="account-team-remove"),
]
