from django.urls import path

from koers.scoring import views

app_name = "scoring"

urlpatterns = [
    path("marketing/scoring/", views.rules, name="rules"),
    path("marketing/scoring/rules/new/", views.rule_create, name="rule-create"),
    path("marketing/scoring/rules/<int:pk>/edit/", views.rule_edit, name="rule-edit"),
    path("marketing/scoring/rules/<int:pk>/delete/", views.rule_delete, name="rule-delete"),
    path("marketing/scoring/settings/", views.settings_edit, name="settings"),
    path("marketing/scoring/recompute/", views.recompute, name="recompute"),
]
