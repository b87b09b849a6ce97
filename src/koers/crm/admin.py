from django.contrib import admin

from koers.core.admin import ReadOnlyAdmin
from koers.crm.models import Company, Contact


@admin.register(Company)
class CompanyAdmin(ReadOnlyAdmin):
    list_display = ["name", "city", "kvk_number", "lifecycle_stage", "owner", "deleted_at"]
    list_filter = ["lifecycle_stage", "legal_form", "industry"]
    search_fields = ["name", "kvk_number", "domain"]
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = [
        "last_name",
        "first_name",
        "email",
        "company",
        "lifecycle_stage",
        "owner",
        "deleted_at",
    ]
    list_filter = ["lifecycle_stage", "dmu_role", "function"]
    search_fields = ["last_name", "email"]
    list_select_related = ["company", "owner"]
    show_full_result_count = False
