from django.urls import path

from koers.pipeline import views

app_name = "pipeline"

urlpatterns = [
    path("deals/", views.deal_list, name="deal-list"),
    path("deals/board/", views.deal_home, name="deal-home"),
    path("deals/new/", views.deal_create, name="deal-create"),
    path("deals/<int:pk>/", views.deal_detail, name="deal-detail"),
    path("deals/<int:pk>/edit/", views.deal_edit, name="deal-edit"),
    path("deals/<int:pk>/move/", views.deal_move, name="deal-move"),
    path("deals/<int:pk>/won/", views.deal_won, name="deal-won"),
    path("deals/<int:pk>/lost/", views.deal_lost, name="deal-lost"),
    path("deals/<int:pk>/reopen/", views.deal_reopen, name="deal-reopen"),
    path("deals/<int:pk>/delete/", views.deal_delete, name="deal-delete"),
    path("deals/<int:pk>/restore/", views.deal_restore, name="deal-restore"),
    path("deals/<int:pk>/contacts/", views.deal_contact_add, name="deal-contact-add"),
    path("deals/<int:pk>/contacts/pick/", views.deal_contact_pick, name="deal-contact-pick"),
    path(
        "deals/<int:pk>/contacts/<int:contact_pk>/remove/",
        views.deal_contact_remove,
        name="deal-contact-remove",
    ),
    path("contacts/<int:contact_pk>/hand-off/", views.deal_hand_off, name="deal-hand-off"),
    path("pipelines/", views.pipeline_list, name="pipeline-list"),
    path("pipelines/new/", views.pipeline_create, name="pipeline-create"),
    path("pipelines/advisor/", views.sales_model_advisor, name="advisor"),
    path("pipelines/<int:pk>/", views.board, name="board"),
    path("pipelines/<int:pk>/settings/", views.pipeline_settings, name="pipeline-settings"),
    path("pipelines/<int:pk>/insights/", views.insights, name="insights"),
    path("pipelines/<int:pk>/stages/new/", views.stage_form, name="stage-create"),
    path("pipelines/<int:pk>/stages/order/", views.stage_reorder, name="stage-reorder"),
    path("pipelines/<int:pk>/stages/<int:stage_pk>/", views.stage_form, name="stage-edit"),
    path(
        "pipelines/<int:pk>/stages/<int:stage_pk>/delete/", views.stage_delete, name="stage-delete"
    ),
]
