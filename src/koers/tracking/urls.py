from django.urls import path

from koers.tracking.views import manage, public

app_name = "tracking"

urlpatterns = [
    # Public: called from the team's websites and from emails, without a login.
    path("t.js", public.script, name="script"),
    path("t/e", public.collect, name="collect"),
    path("t/f/<str:key>", public.lead_form, name="lead-form"),
    path("t/o/<str:token>.gif", public.email_open, name="email-open"),
    path("t/c/<str:token>", public.email_click, name="email-click"),
    # Marketing pages.
    path("marketing/sites/", manage.site_list, name="site-list"),
    path("marketing/sites/new/", manage.site_create, name="site-create"),
    path("marketing/sites/<int:pk>/", manage.site_detail, name="site-detail"),
    path("marketing/sites/<int:pk>/edit/", manage.site_edit, name="site-edit"),
    path("marketing/sites/<int:pk>/forms/new/", manage.form_create, name="form-create"),
    path("marketing/forms/<int:pk>/edit/", manage.form_edit, name="form-edit"),
    path("marketing/campaigns/", manage.campaign_list, name="campaign-list"),
    path("marketing/campaigns/new/", manage.campaign_create, name="campaign-create"),
    path("marketing/campaigns/<int:pk>/", manage.campaign_detail, name="campaign-detail"),
    path("marketing/campaigns/<int:pk>/edit/", manage.campaign_edit, name="campaign-edit"),
    path("marketing/attribution/", manage.attribution, name="attribution"),
    path("marketing/hot/", manage.hot_now, name="hot-now"),
]
