"""The visibility rules of core, applied to companies."""

from koers.core.models import RoleVisibility, User
from koers.core.services import role_visibility_set
from koers.crm.factories import CompanyFactory
from koers.crm.selectors import company_visible_to


def visible_names(user):
    return set(company_visible_to(user=user).values_list("name", flat=True))


def test_team_scope_sees_own_and_teammates_records_only(sales_a, colleague_a, sales_b):
    CompanyFactory(name="Mine", owner=sales_a)
    CompanyFactory(name="Teammate's", owner=colleague_a)
    CompanyFactory(name="Other team's", owner=sales_b)
    CompanyFactory(name="Unowned", owner=None)

    assert visible_names(sales_a) == {"Mine", "Teammate's"}
    assert visible_names(sales_b) == {"Other team's"}


def test_all_scope_sees_every_record_including_unowned(manager, sales_b):
    CompanyFactory(name="Other team's", owner=sales_b)
    CompanyFactory(name="Unowned", owner=None)

    assert visible_names(manager) == {"Other team's", "Unowned"}


def test_team_scope_without_a_team_sees_only_own_records(make_user, sales_a):
    loner = make_user(User.Role.SALES, None)
    CompanyFactory(name="Loner's", owner=loner)
    CompanyFactory(name="Daan's", owner=sales_a)

    assert visible_names(loner) == {"Loner's"}


def test_admin_can_narrow_a_role_to_own_records(admin_user, sales_a, colleague_a):
    CompanyFactory(name="Mine", owner=sales_a)
    CompanyFactory(name="Teammate's", owner=colleague_a)

    role_visibility_set(actor=admin_user, scopes={User.Role.SALES: RoleVisibility.Scope.OWN})

    fresh = User.objects.get(pk=sales_a.pk)
    assert visible_names(fresh) == {"Mine"}


def test_among_answers_as_in_also_negated_and_for_a_list(sales_a, colleague_a, sales_b):
    """The team filter's lookup (= ANY(ARRAY(…)) on PostgreSQL) against Django's IN."""
    from django.db.models import Q

    from koers.crm.models import Company

    for name, owner in [("A", sales_a), ("B", colleague_a), ("C", sales_b), ("D", None)]:
        CompanyFactory(name=name, owner=owner)
    team_a = User.objects.filter(team_id=sales_a.team_id).values("id")
    nobody = User.objects.filter(team_id=-1).values("id")

    def names(companies):
        return sorted(companies.values_list("name", flat=True))

    for among, within in [
        (Q(owner__among=team_a), Q(owner__in=team_a)),
        (~Q(owner__among=team_a), ~Q(owner__in=team_a)),
        (Q(owner__among=nobody), Q(owner__in=nobody)),
        (Q(owner__among=[sales_b.pk]), Q(owner__in=[sales_b.pk])),
    ]:
        assert names(Company.objects.filter(among)) == names(Company.objects.filter(within))
    assert names(Company.objects.filter(owner__among=team_a)) == ["A", "B"]
    assert names(Company.objects.exclude(owner__among=team_a)) == ["C", "D"]
