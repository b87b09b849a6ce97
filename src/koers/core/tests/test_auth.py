import pytest
from django.test import Client
from django.urls import reverse

from koers.core.models import User


def test_passwords_are_hashed_with_argon2(sales_a):
    assert User.objects.get(pk=sales_a.pk).password.startswith("argon2$")


def test_login_with_the_right_password_opens_the_start_page(sales_a, demo_password):
    client = Client()
    response = client.post(
        reverse("core:login"), {"username": "daan", "password": demo_password}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("core:start")
    assert response.context["user"] == sales_a


def test_five_failed_logins_lock_the_username_out_even_with_the_right_password(
    sales_a, demo_password
):
    client = Client()
    for _ in range(5):
        response = client.post(reverse("core:login"), {"username": "daan", "password": "wrong"})
    response = client.post(reverse("core:login"), {"username": "daan", "password": demo_password})

    assert response.status_code == 429
    assert "core/locked_out.html" in [template.name for template in response.templates]
    assert "_auth_user_id" not in client.session


def test_a_successful_login_resets_the_failure_count(sales_a, demo_password):
    client = Client()
    for _ in range(4):
        client.post(reverse("core:login"), {"username": "daan", "password": "wrong"})
    client.post(reverse("core:login"), {"username": "daan", "password": demo_password})
    client.post(reverse("core:logout"))
    for _ in range(4):
        client.post(reverse("core:login"), {"username": "daan", "password": "wrong"})
    response = client.post(reverse("core:login"), {"username": "daan", "password": demo_password})

    assert response.status_code == 302


@pytest.mark.parametrize("url", ["/", "/companies/", "/contacts/", "/trash/", "/search/?q=x"])
def test_pages_send_anonymous_visitors_to_the_login_page(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("core:login"))


def test_back_office_is_open_to_the_admin_role_only(admin_user, make_user, client_for):
    # is_staff alone, Django's own key to the admin, does not open it.
    staff_manager = make_user(User.Role.MANAGER, None, is_staff=True, is_superuser=True)
    assert client_for(admin_user).get("/admin/").status_code == 200
    response = client_for(staff_manager).get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_the_back_office_shows_users_but_changes_them_only_through_koers(admin_user, client_for):
    client = client_for(admin_user)
    assert client.get(f"/admin/core/user/{admin_user.pk}/change/").status_code == 200
    response = client.post(
        f"/admin/core/user/{admin_user.pk}/change/", {"username": "x", "role": "sales"}
    )
    assert response.status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.role == User.Role.ADMIN


def test_createsuperuser_makes_an_admin_who_can_open_the_back_office(db, client_for):
    user = User.objects.create_superuser("beheer", "beheer@example.nl", "een-lang-wachtwoord")
    assert user.role == User.Role.ADMIN
    assert client_for(user).get("/admin/").status_code == 200


def test_one_address_trying_many_usernames_is_stopped(sales_a, demo_password, settings):
    settings.KOERS_LOGIN_FAILURES_PER_ADDRESS = 6
    client = Client()
    for n in range(6):
        client.post(reverse("core:login"), {"username": f"guess{n}", "password": "wrong"})

    response = client.post(reverse("core:login"), {"username": "daan", "password": demo_password})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_behind_a_proxy_the_lock_out_follows_the_forwarded_address(
    sales_a, demo_password, settings
):
    settings.KOERS_PROXY_COUNT = 1
    attacker = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.66")
    for _ in range(5):
        attacker.post(reverse("core:login"), {"username": "daan", "password": "wrong"})
    owner = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.10")

    locked = attacker.post(reverse("core:login"), {"username": "daan", "password": demo_password})
    allowed = owner.post(reverse("core:login"), {"username": "daan", "password": demo_password})

    assert locked.status_code == 429
    assert allowed.status_code == 302


def test_the_health_check_answers_without_logging_in(client):
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
