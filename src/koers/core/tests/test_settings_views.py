import pytest
from django.urls import reverse

from koers.core.models import AuditEntry, RoleVisibility, User


@pytest.mark.parametrize(
    "url",
    [
        reverse("core:user-list"),
        reverse("core:user-create"),
        reverse("core:team-create"),
        reverse("core:visibility"),
    ],
)
def test_only_admins_manage_users_teams_and_visibility(manager, client_for, url):
    assert client_for(manager).get(url).status_code == 403
    assert client_for(manager).post(url, {"name": "x"}).status_code == 403


def test_an_admin_creates_a_user_in_a_team(admin_user, team_a, client_for):
    response = client_for(admin_user).post(
        reverse("core:user-create"),
        {
            "username": "noah",
            "first_name": "Noah",
            "last_name": "de Jong",
            "email": "Noah@Stroomlijn.nl",
            "role": "success",
            "team": team_a.pk,
            "password": "lange-zin-als-wachtwoord",
        },
    )

    assert response.url == reverse("core:user-list")
    noah = User.objects.get(username="noah")
    assert noah.team == team_a
    assert noah.email == "noah@stroomlijn.nl"
    assert noah.check_password("lange-zin-als-wachtwoord")
    assert not noah.is_staff
    assert AuditEntry.objects.filter(object_id=noah.pk, action="created", actor=admin_user).exists()


def test_a_weak_password_is_refused_naming_the_field(admin_user, client_for):
    response = client_for(admin_user).post(
        reverse("core:user-create"),
        {"username": "noah", "role": "sales", "password": "12345678"},
    )

    assert "password" in response.context["form"].errors
    assert not User.objects.filter(username="noah").exists()


def test_making_someone_admin_opens_the_back_office_to_them(admin_user, sales_a, client_for):
    client_for(admin_user).post(
        reverse("core:user-edit", args=[sales_a.pk]),
        {"first_name": "Daan", "last_name": "Bakker", "role": "admin", "is_active": "on"},
    )

    sales_a.refresh_from_db()
    assert sales_a.is_staff
    assert sales_a.is_superuser
    assert client_for(sales_a).get("/admin/").status_code == 200


def test_an_admin_cannot_demote_themselves(admin_user, client_for):
    response = client_for(admin_user).post(
        reverse("core:user-edit", args=[admin_user.pk]),
        {"first_name": "Anouk", "role": "sales", "is_active": "on"},
    )

    assert "role" in response.context["form"].errors
    admin_user.refresh_from_db()
    assert admin_user.role == User.Role.ADMIN


def test_visibility_rules_are_saved_per_role(admin_user, client_for):
    data = dict.fromkeys(User.Role.values, "team")
    data["marketing"] = "own"

    client_for(admin_user).post(reverse("core:visibility"), data)

    assert RoleVisibility.objects.get(role="marketing").scope == "own"
    assert RoleVisibility.objects.get(role="admin").scope == "team"
    # Recorded against the default the role had before its first rule; sales kept "team".
    changed = {
        entry.changes["scope"][0] + "→" + entry.changes["scope"][1]
        for entry in AuditEntry.objects.filter(content_type__model="rolevisibility")
    }
    assert changed == {"all→own", "all→team"}
    assert AuditEntry.objects.filter(content_type__model="rolevisibility").count() == 3


def test_everyone_edits_their_own_profile(sales_a, client_for):
    client_for(sales_a).post(
        reverse("core:profile"),
        {"first_name": "Daan", "last_name": "Bakker-Smit", "email": "daan@x.nl", "language": "en"},
    )

    sales_a.refresh_from_db()
    assert sales_a.last_name == "Bakker-Smit"
    assert sales_a.language == "en"
    entry = AuditEntry.objects.get(object_id=sales_a.pk, action="updated")
    assert entry.actor == sales_a
    assert entry.changes["last_name"] == ["Bakker", "Bakker-Smit"]


def test_a_profile_error_is_shown_on_the_form(sales_a, client_for):
    response = client_for(sales_a).post(
        reverse("core:profile"), {"first_name": "D" * 200, "email": "daan@x.nl"}
    )

    assert response.status_code == 200
    assert "first_name" in response.context["form"].errors


def test_a_changed_password_is_recorded_and_keeps_the_user_logged_in(sales_a, client_for):
    from koers.core.factories import DEMO_PASSWORD

    client = client_for(sales_a)
    response = client.post(
        reverse("core:password-change"),
        {
            "old_password": DEMO_PASSWORD,
            "new_password1": "een-nieuw-lang-wachtwoord",
            "new_password2": "een-nieuw-lang-wachtwoord",
        },
    )

    assert response.url == reverse("core:profile")
    sales_a.refresh_from_db()
    assert sales_a.check_password("een-nieuw-lang-wachtwoord")
    assert client.get(reverse("core:profile")).status_code == 200
    entry = AuditEntry.objects.get(object_id=sales_a.pk, action="updated")
    assert list(entry.changes) == ["password"]
