from django.urls import path

from koers.crm import views

app_name = "crm"

urlpatterns = [
    path("companies/", views.company_list, name="company-list"),
    path("companies/new/", views.company_create, name="company-create"),
    path("companies/pick/", views.company_pick, name="company-pick"),
    path("companies/<int:pk>/", views.company_detail, name="company-detail"),
    path("companies/<int:pk>/edit/", views.company_edit, name="company-edit"),
    path("companies/<int:pk>/delete/", views.company_delete, name="company-delete"),
    path("companies/<int:pk>/restore/", views.company_restore, name="company-restore"),
    path("contacts/", views.contact_list, name="contact-list"),
    path("contacts/new/", views.contact_create, name="contact-create"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact-detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact-delete"),
    path("contacts/<int:pk>/restore/", views.contact_restore, name="contact-restore"),
    path("trash/", views.trash, name="trash"),
    path("search/", views.search, name="search"),
]
