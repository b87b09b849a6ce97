import pytest

from koers.core.models import RoleVisibility, User
from koers.core.selectors import visibility_scope
from koers.core.services import role_visibility_set


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (User.Role.ADMIN, "all"),
        (User.Role.MANAGER, "all"),
        (User.Role.MARKETING, "all"),
        (User.Role.SALES, "team"),
        (User.Role.SUCCESS, "team"),
        (User.Role.READ_ONLY, "team"),
    ],
)
def test_each_role_has_a_default_visibility(make_user, role, scope):
    assert visibility_scope(user=make_user(role)) == scope


def test_an_admin_rule_overrides_the_default(admin_user, sales_a):
    role_visibility_set(actor=admin_user, scopes={User.Role.SALES: RoleVisibility.Scope.OWN})

    assert visibility_scope(user=User.objects.get(pk=sales_a.pk)) == RoleVisibility.Scope.OWN
