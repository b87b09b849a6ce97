from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from koers.core.models import AuditEntry, RoleVisibility, SavedView, Team, User


@admin.register(User)
class KoersUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "team", "is_active"]
    list_filter = ["role", "team", "is_active"]
    fieldsets = [
        *UserAdmin.fieldsets,
        (_("Koers"), {"fields": ["role", "team", "language"]}),
    ]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(RoleVisibility)
class RoleVisibilityAdmin(admin.ModelAdmin):
    list_display = ["role", "scope"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "content_type", "object_repr"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr"]
    date_hierarchy = "at"

    # The audit trail is a record of what happened: nobody edits it.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "list_name", "owner", "is_shared"]
