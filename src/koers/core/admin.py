from django.contrib import admin

from koers.core.models import AuditEntry, RoleVisibility, SavedView, Team, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """The back office shows records; Koers changes them, through services that audit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = [
        "username",
        "first_name",
        "last_name",
        "role",
        "team",
        "is_active",
        "last_login",
    ]
    list_filter = ["role", "team", "is_active"]
    search_fields = ["username", "first_name", "last_name", "email"]
    fields = [
        "username", "first_name", "last_name", "email", "role", "team", "language",
        "is_active", "last_login", "date_joined",
    ]  # fmt: skip


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    search_fields = ["name"]


@admin.register(RoleVisibility)
class RoleVisibilityAdmin(ReadOnlyAdmin):
    list_display = ["role", "scope"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "content_type", "object_repr"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr"]
    date_hierarchy = "at"


@admin.register(SavedView)
class SavedViewAdmin(ReadOnlyAdmin):
    list_display = ["name", "list_name", "owner", "is_shared"]
