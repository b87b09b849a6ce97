from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class BackOfficeSite(admin.AdminSite):
    """The Django admin as a back office, open to the admin role only."""

    site_header = _("Koers back office")
    site_title = _("Koers back office")
    index_title = _("Back office")

    def has_permission(self, request) -> bool:
        user = request.user
        return user.is_active and user.is_authenticated and user.is_admin
