"""Tracked email: the pixel and signed click redirects record opens and clicks."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from koers.crm.factories import ContactFactory
from koers.tracking import tokens
from koers.tracking.email import tracked_html
from koers.tracking.models import Event, Site

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


@pytest.fixture
def contact(db):
    return ContactFactory()


def paths(html):
    import re

    return re.findall(r'(?:href|src)="https://crm\.example\.nl(/t/[^"]+)"', html)


def test_links_and_pixel_record_an_open_and_a_click(contact):
    Site.objects.create(name="Web", allowed_domains="example.nl")
    html = tracked_html(
        '<p><a href="https://example.nl/pricing?a=1&amp;b=2">Prijzen</a></p>',
        contact_id=contact.pk,
        message="Nieuwsbrief november",
        base_url="https://crm.example.nl/",
    )
    click, pixel = paths(html)

    opened = Client().get(pixel, HTTP_USER_AGENT=BROWSER)
    assert opened["Content-Type"] == "image/gif"
    response = Client().get(click.replace("&amp;", "&"), HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 302
    target = response["Location"]
    assert target.startswith("https://example.nl/pricing?a=1&b=2&koers_id=")
    identify = parse_qs(urlsplit(target).query)["koers_id"][0]
    assert tokens.identify_contact_id(identify) == contact.pk
    assert list(Event.objects.order_by("id").values_list("kind", "contact", "title")) == [
        ("email_open", contact.pk, "Nieuwsbrief november"),
        ("email_click", contact.pk, "Nieuwsbrief november"),
    ]


def test_a_link_elsewhere_carries_no_identification(contact):
    token = tokens.email_click_token(
        contact_id=contact.pk, message="m", url="https://other.example/"
    )
    response = Client().get(f"/t/c/{token}", HTTP_USER_AGENT=BROWSER)
    assert response["Location"] == "https://other.example/"


@pytest.mark.parametrize("path", ["/t/c/forged", "/t/o/forged.gif"])
def test_a_forged_token_is_refused_and_recorded_nowhere(contact, path):
    assert Client().get(path).status_code == 404
    assert not Event.objects.exists()


def test_an_altered_redirect_target_cannot_be_signed_by_a_stranger(contact):
    token = tokens.email_click_token(contact_id=contact.pk, message="m", url="https://example.nl/")
    payload, signature = token.rsplit(":", 1)
    forged = tokens._dumps([contact.pk, "m", "https://evil.example/"], "wrong-salt")
    assert Client().get(f"/t/c/{forged}").status_code == 404
    assert Client().get(f"/t/c/{payload}:{signature[::-1]}").status_code == 404


def test_opening_or_clicking_again_within_the_hour_counts_once(contact):
    pixel = f"/t/o/{tokens.email_open_token(contact_id=contact.pk, message='m')}.gif"
    click = f"/t/c/{tokens.email_click_token(contact_id=contact.pk, message='m', url='https://x.example/')}"
    for _again in range(3):
        Client().get(pixel, HTTP_USER_AGENT=BROWSER)
        Client().get(click, HTTP_USER_AGENT=BROWSER)
    assert Event.objects.filter(kind="email_open").count() == 1
    assert Event.objects.filter(kind="email_click").count() == 1


def test_a_malformed_link_is_left_alone_and_a_bad_target_is_refused(contact):
    html = tracked_html(
        '<a href="http://[oops/">x</a>', contact_id=contact.pk, message="m", base_url="https://crm"
    )
    assert '<a href="http://[oops/">' in html
    token = tokens.email_click_token(contact_id=contact.pk, message="m", url="http://[oops/")
    assert Client().get(f"/t/c/{token}").status_code == 404
    assert not Event.objects.exists()
