from django.test import Client
from django.urls import reverse


def test_the_ui_is_dutch_by_default_whatever_the_browser_asks(sales_a):
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    client.force_login(sales_a)

    response = client.get(reverse("crm:company-list"))

    assert response["Content-Language"] == "nl"
    assert "Bedrijven" in response.content.decode()


def test_switching_language_is_remembered_for_the_user(sales_a):
    client = Client()
    client.force_login(sales_a)

    response = client.post(
        reverse("core:set-language"), {"language": "en", "next": reverse("crm:company-list")}
    )

    assert response.url == reverse("crm:company-list")
    sales_a.refresh_from_db()
    assert sales_a.language == "en"
    other_device = Client()
    other_device.force_login(sales_a)
    assert "Companies" in other_device.get(reverse("crm:company-list")).content.decode()


def test_the_login_page_switches_language_with_a_cookie(db):
    client = Client()
    client.post(reverse("core:set-language"), {"language": "en", "next": reverse("core:login")})

    assert "Log in to Koers" in client.get(reverse("core:login")).content.decode()


def test_an_unknown_language_or_foreign_next_url_is_ignored(sales_a):
    client = Client()
    client.force_login(sales_a)

    response = client.post(
        reverse("core:set-language"), {"language": "xx", "next": "https://evil.example/"}
    )

    assert response.url == reverse("core:start")
    sales_a.refresh_from_db()
    assert sales_a.language == ""


def test_a_user_who_chose_the_installation_language_gets_it_whatever_the_cookie(sales_a):
    client = Client()
    client.cookies["koers_language"] = "en"
    client.force_login(sales_a)  # sales_a.language is "", the installation's language

    response = client.get(reverse("crm:company-list"))

    assert response["Content-Language"] == "nl"
