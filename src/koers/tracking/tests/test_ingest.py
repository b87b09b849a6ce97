"""The ingest endpoint: what it accepts is stored, what it refuses stores nothing."""

import json

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koers.crm.factories import ContactFactory
from koers.tracking import ingest, tokens
from koers.tracking.models import Event, Inbox, Site, Visitor

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
VISITOR = "Vis1tor-abcdefghijklm"


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    ingest._sites.clear()


@pytest.fixture
def site(db):
    return Site.objects.create(name="Webshop", allowed_domains="example.nl\nshop.example.com")


def page_view(url="https://example.nl/pricing", page="page12345", **more):
    return {"k": "page_view", "u": url, "t": "Prijzen", "r": "", "p": page, **more}


def post(body, *, origin="https://example.nl", agent=BROWSER):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    headers = {"HTTP_USER_AGENT": agent}
    if origin:
        headers["HTTP_ORIGIN"] = origin
    return Client().post("/t/e", data=data, content_type="text/plain", **headers)


def nothing_stored():
    return (
        not Event.objects.exists() and not Visitor.objects.exists() and not Inbox.objects.exists()
    )


def test_a_page_view_and_its_engaged_time_are_stored(site):
    token = tokens.site_token(site)
    assert post({"s": token, "v": VISITOR, "e": [page_view()]}).status_code == 204
    assert (
        post(
            {"s": token, "v": VISITOR, "e": [{"k": "engage", "p": "page12345", "d": 42}]}
        ).status_code
        == 204
    )

    event = Event.objects.get()
    assert (event.kind, event.url, event.title, event.engaged_seconds) == (
        "page_view",
        "https://example.nl/pricing",
        "Prijzen",
        42,
    )
    assert event.visitor.uid == VISITOR
    assert event.contact is None
    assert not Inbox.objects.exists()  # drained


def test_a_subdomain_of_an_allowed_domain_is_accepted(site):
    body = {"s": tokens.site_token(site), "v": VISITOR, "e": [page_view("https://www.example.nl/")]}
    assert post(body, origin="https://www.example.nl").status_code == 204
    assert Event.objects.count() == 1


def test_an_identification_token_joins_the_visitors_history_to_the_contact(site):
    contact = ContactFactory()
    token = tokens.site_token(site)
    post({"s": token, "v": VISITOR, "e": [page_view(page="first1234")]})
    body = {"s": token, "v": VISITOR, "i": tokens.identify_token(contact.pk), "e": [page_view()]}
    assert post(body).status_code == 204

    assert Event.objects.filter(contact=contact).count() == 2
    assert Visitor.objects.get().contact == contact


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[]", 400),
        (b"\xff\xfe", 400),
        ({"v": VISITOR, "e": [page_view()]}, 400),  # no site
        ({"s": "forged:token", "v": VISITOR, "e": [page_view()]}, 403),  # unsigned
        ({"s": "SITE", "v": "short", "e": [page_view()]}, 400),
        ({"s": "SITE", "v": VISITOR, "e": []}, 400),
        ({"s": "SITE", "v": VISITOR, "e": [page_view()] * 21}, 400),
        ({"s": "SITE", "v": VISITOR, "e": [page_view("https://evil.example/")]}, 403),
        ({"s": "SITE", "v": VISITOR, "e": [page_view("javascript:alert(1)")]}, 400),
        ({"s": "SITE", "v": VISITOR, "e": [page_view(extra=1)]}, 400),
        ({"s": "SITE", "v": VISITOR, "e": [{"k": "engage", "p": "page12345", "d": True}]}, 400),
        ({"s": "SITE", "v": VISITOR, "e": [{"k": "purchase"}]}, 400),
        ({"s": "SITE", "v": VISITOR, "i": "made-up", "e": [page_view()]}, 403),
        ({"s": "SITE", "e": [page_view()]}, 403),  # no consent, and the site wants it
        ({"s": "SITE", "v": VISITOR, "e": [page_view(t="x" * 301)]}, 400),
        ({"s": "SITE", "v": VISITOR, "e": [page_view(r="x" * 9000)]}, 413),
    ],
)
def test_bad_requests_are_refused_and_store_nothing(site, body, status):
    if isinstance(body, dict):
        body = json.loads(json.dumps(body).replace('"SITE"', json.dumps(tokens.site_token(site))))
    response = post(body)
    assert response.status_code == status, response.content
    assert "error" in response.json()
    assert nothing_stored()


def test_a_request_from_a_foreign_page_is_refused(site):
    body = {"s": tokens.site_token(site), "v": VISITOR, "e": [page_view()]}
    assert post(body, origin="https://evil.example").status_code == 403
    assert nothing_stored()


def test_an_inactive_site_is_refused(site):
    site.active = False
    site.save()
    body = {"s": tokens.site_token(site), "v": VISITOR, "e": [page_view()]}
    assert post(body).status_code == 403
    assert nothing_stored()


def test_bots_are_answered_and_forgotten(site):
    body = {"s": tokens.site_token(site), "v": VISITOR, "e": [page_view()]}
    assert post(body, agent="Mozilla/5.0 (compatible; Googlebot/2.1)").status_code == 204
    assert nothing_stored()


def test_an_anonymous_site_counts_page_views_without_a_visitor(site):
    site.consent_mode = Site.ConsentMode.ANONYMOUS
    site.save()
    token = tokens.site_token(site)
    assert post({"s": token, "e": [page_view()]}).status_code == 204
    event = Event.objects.get()
    assert event.visitor is None
    assert event.contact is None
    assert not Visitor.objects.exists()
    # …but nothing beyond page views before consent.
    download = {"k": "download", "u": "https://example.nl/", "h": "https://example.nl/a.pdf"}
    assert post({"s": token, "e": [download]}).status_code == 400


def test_a_visitor_over_the_rate_limit_gets_429(site, settings):
    settings.KOERS_TRACKING_RATE_VISITOR = 3
    body = {"s": tokens.site_token(site), "v": VISITOR, "e": [page_view()]}
    statuses = [post(body).status_code for _ in range(5)]
    assert statuses == [204, 204, 204, 429, 429]
    assert post(body)["Retry-After"] == "60"
    assert Event.objects.count() == 3


def test_get_is_not_allowed(site):
    assert Client().get("/t/e").status_code == 405


def test_utm_values_tie_a_visit_to_its_campaign(site):
    from koers.tracking.models import Campaign

    campaign = Campaign.objects.create(name="Voorjaar", channel="social", utm_campaign="voorjaar")
    url = "https://example.nl/?utm_source=linkedin&utm_campaign=Voorjaar"
    post({"s": tokens.site_token(site), "v": VISITOR, "e": [page_view(url)]})
    event = Event.objects.get()
    assert event.campaign == campaign
    assert event.properties["utm"] == {"utm_source": "linkedin", "utm_campaign": "Voorjaar"}


# Any text at all: control characters, NUL, lone surrogates.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=50)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)
event_like = st.fixed_dictionaries(
    {"k": st.sampled_from(["page_view", "engage", "download", "form_submit", "x"])},
    optional={
        "u": st.sampled_from(["https://example.nl/a", "http://x", "", "ftp://example.nl"])
        | st.builds(lambda tail: "https://example.nl/" + tail, any_text)
        | any_text,
        "t": any_text,
        "r": any_text,
        "p": any_text | st.just("page12345"),
        "d": json_values,
        "h": any_text,
        "f": json_values,
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "s": st.just("SITE") | st.text(max_size=30),
            "v": st.just(VISITOR) | st.text(max_size=40),
            "i": json_values,
            "e": st.lists(event_like, max_size=3) | json_values,
        },
    )
    | json_values,
    raw=st.binary(max_size=40) | st.builds(lambda depth: b"[" * depth, st.integers(0, 8000)),
    use_raw=st.booleans(),
    origin=st.sampled_from(["https://example.nl", "", "null", "http://[", "https://evil.example"])
    | any_text,
)
def test_no_input_makes_the_endpoint_fail_and_a_refusal_stores_nothing(
    site, body, raw, use_raw, origin
):
    cache.clear()
    data = (
        raw if use_raw else json.dumps(body).replace('"SITE"', json.dumps(tokens.site_token(site)))
    )
    before = Event.objects.count(), Visitor.objects.count()
    response = post(data, origin=origin)
    assert response.status_code in (204, 400, 403, 413), response.content
    if response.status_code != 204:
        assert (Event.objects.count(), Visitor.objects.count()) == before


@pytest.mark.parametrize(
    ("body", "origin"),
    [
        (b"[" * 5000, "https://example.nl"),  # nested deeper than the parser goes
        ({"s": "SITE", "v": VISITOR, "e": [page_view()]}, "http://["),
        ({"s": "SITE", "v": VISITOR, "e": [page_view(t="\ud800")]}, "https://example.nl"),
        ({"s": "SITE", "v": VISITOR, "e": [page_view("http://[/")]}, "https://example.nl"),
    ],
)
def test_odd_input_is_refused_without_failing(site, body, origin):
    if isinstance(body, dict):
        body = json.dumps(body).replace('"SITE"', json.dumps(tokens.site_token(site)))
    response = post(body, origin=origin)
    assert response.status_code in (400, 403)
    assert nothing_stored()


def test_before_consent_a_page_view_keeps_only_the_page_and_its_campaign(site):
    site.consent_mode = Site.ConsentMode.ANONYMOUS
    site.save()
    url = "https://example.nl/offerte?email=eva%40example.nl&utm_campaign=voorjaar#top"
    referrer = "https://mail.example.com/inbox?id=123"
    post({"s": tokens.site_token(site), "e": [page_view(url, r=referrer)]})
    event = Event.objects.get()
    assert event.url == "https://example.nl/offerte?utm_campaign=voorjaar"
    assert event.referrer == "https://mail.example.com"


def test_consent_on_a_page_makes_its_anonymous_view_the_visitors_without_counting_twice(site):
    site.consent_mode = Site.ConsentMode.ANONYMOUS
    site.save()
    token = tokens.site_token(site)
    post({"s": token, "e": [page_view()]})
    post({"s": token, "v": VISITOR, "e": [page_view()]})  # the same page, after consent
    post({"s": token, "v": VISITOR, "e": [{"k": "engage", "p": "page12345", "d": 30}]})
    event = Event.objects.get()
    assert event.visitor.uid == VISITOR
    assert event.engaged_seconds == 30


def test_control_characters_in_utm_values_are_dropped(site):
    url = "https://example.nl/?utm_source=%00news%01"
    assert (
        post({"s": tokens.site_token(site), "v": VISITOR, "e": [page_view(url)]}).status_code == 204
    )
    assert Event.objects.get().properties["utm"] == {"utm_source": "news"}
