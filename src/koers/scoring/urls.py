from django.urls import path

from koers.scoring import icp_views, model_views, views

app_name = "scoring"

urlpatterns = [
    path("marketing/scoring/", views.rules, name="rules"),
    path("marketing/scoring/rules/new/", views.rule_create, name="rule-create"),
    path("marketing/scoring/rules/<int:pk>/edit/", views.rule_edit, name="rule-edit"),
    path("marketing/scoring/rules/<int:pk>/delete/", views.rule_delete, name="rule-delete"),
    path("marketing/scoring/settings/", views.settings_edit, name="settings"),
    path("marketing/scoring/recompute/", views.recompute, name="recompute"),
    path("marketing/scoring/jobs/<int:pk>/", views.job, name="job"),
    path("sales/prediction/", model_views.model_card, name="model"),
    path("sales/prediction/retrain/", model_views.model_retrain, name="model-retrain"),
    path("sales/priority/", model_views.priority, name="priority"),
    path("marketing/icp/", icp_views.icp, name="icp"),
    path(
        "marketing/icp/criteria/new/", icp_views.icp_criterion_create, name="icp-criterion-create"
    ),
    path(
        "marketing/icp/criteria/<int:pk>/edit/",
        icp_views.icp_criterion_edit,
        name="icp-criterion-edit",
    ),
    path(
        "marketing/icp/criteria/<int:pk>/delete/",
        icp_views.icp_criterion_delete,
        name="icp-criterion-delete",
    ),
    path("marketing/icp/learn/", icp_views.icp_learn, name="icp-learn"),
    path("marketing/icp/lookalikes/", icp_views.icp_lookalikes, name="icp-lookalikes"),
]
