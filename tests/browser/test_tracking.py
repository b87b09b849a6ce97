"""A visitor on the team's website: the tracking script, its consent rules and lead form.

The website is a tiny HTTP server of its own, reached as http://localhost:…, while the
browser reaches Koers at http://127.0.0.1:…: two origins, as between a customer's site
and Koers. A relay in front of Koers notes what the script sends, even from a page that
is unloading (which Playwright does not see), and passes one request at a time: the live
server shares the test's single in-memory SQLite connection between its threads.
"""

import html
import http.client
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import expect

from koers.crm.factories import ContactFactory
from koers.crm.models import Contact
from koers.tracking.models import Event, LeadForm, Site, Visitor
from koers.tracking.tokens import identify_token, site_token

from .conftest import CHROMIUM, CHROMIUM_ARGS, log_in

pytestmark = pytest.mark.browser

DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)
SCREENSHOTS = settings.VAR_DIR / "screenshots"

PAGE = """<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<title>{title}</title>
<script>
  window.koers = window.koers || function () {{ (koers.q = koers.q || []).push(arguments); }};
  if (new URLSearchParams(location.search).get("consent") === "1") koers("consent", true);
</script>
{snippet}
</head>
<body>
<h1>{title}</h1>
{body}
<p><a href="/about">Over ons</a> <a href="/brochure.pdf">Brochure</a></p>
</body>
</html>
"""


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _Website(SimpleHTTPRequestHandler):
    def do_GET(self):
        page = self.server.pages.get(urlsplit(self.path).path)
        if page is None:
            self.send_error(404)
            return
        body = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


class _Relay(BaseHTTPRequestHandler):
    HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}

    def relay(self):
        relay = self.server
        with relay.state:
            relay.busy += 1
        try:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in self.HOP_BY_HOP}
            with relay.one_at_a_time:
                koers = http.client.HTTPConnection("localhost", relay.koers_port, timeout=30)
                koers.request(self.command, self.path, body=body or None, headers=headers)
                response = koers.getresponse()
                answer = response.read()
                koers.close()
            if self.command == "POST" and self.path == "/t/e":
                relay.beacons.append(json.loads(body))
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in self.HOP_BY_HOP | {"server", "date"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        finally:
            with relay.state:
                relay.busy -= 1
                relay.last = time.monotonic()

    do_GET = do_POST = do_OPTIONS = relay

    def log_message(self, format, *args):
        pass


@pytest.fixture
def website():
    """A website on its own port; tests put pages in `website.pages` by path."""
    server = serve(_Website)
    server.pages = {}
    server.url = f"http://localhost:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def koers(live_server):
    """The relay to Koers that the website's snippet names; `beacons` holds the event
    requests Koers has answered, in order."""
    relay = serve(_Relay)
    relay.koers_port = urlsplit(live_server.url).port
    relay.url = f"http://127.0.0.1:{relay.server_address[1]}"
    relay.beacons = []
    relay.busy, relay.last = 0, time.monotonic()
    relay.state, relay.one_at_a_time = threading.Lock(), threading.Lock()

    def settle(quiet=0.4, timeout=10.0):
        """Wait until Koers has answered everything and nothing more came for a while."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with relay.state:
                if not relay.busy and time.monotonic() - relay.last >= quiet:
                    return
            time.sleep(0.05)
        raise AssertionError("the script kept sending to Koers")

    def received(count, timeout=10.0):
        """Wait until Koers has answered `count` event requests, then for quiet."""
        deadline = time.monotonic() + timeout
        while len(relay.beacons) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        settle()
        return relay.beacons

    relay.settle, relay.received = settle, received
    yield relay
    relay.shutdown()
    relay.server_close()


@pytest.fixture(scope="module")
def visitor_browser(browser):
    """A Chromium that calls itself desktop Chrome in every request.

    Koers drops events from bots, and headless Chromium says "HeadlessChrome". A context's
    user agent does not cover the beacons a page sends while it unloads, so the browser
    itself is told.
    """
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, f"--user-agent={DESKTOP_CHROME}"],
    )
    yield chromium
    chromium.close()


@pytest.fixture
def visitor_page(visitor_browser, koers):
    """Open a tab as a visitor would, without a Koers login."""
    pages = []

    def open_page():
        context = visitor_browser.new_context(
            viewport={"width": 1400, "height": 900}, locale="nl-NL"
        )
        context.set_default_timeout(10_000)
        pages.append(context.new_page())
        return pages[-1]

    yield open_page
    # Leaving a page sends its last beacon; let it land before the database goes away.
    for page in pages:
        page.goto("about:blank")
    koers.settle()
    for page in pages:
        page.context.close()


def publish(website, koers, site, *, anonymous=False, form=None):
    """Put the snippet for `site` on the website's pages, and `form` on /contact."""
    snippet = '<script async src="{}/t.js" data-site="{}"{}></script>'.format(
        koers.url, html.escape(site_token(site)), ' data-anonymous="1"' if anonymous else ""
    )
    contact_form = (
        f'<div data-koers-form="{html.escape(form.key)}" data-lang="en"></div>' if form else ""
    )
    for path, title, body in (
        ("/pricing", "Prijzen", "<p>Vanaf 49 euro per maand.</p>"),
        ("/contact", "Contact", contact_form),
        ("/about", "Over ons", "<p>Wij bouwen software.</p>"),
    ):
        website.pages[path] = PAGE.format(title=title, snippet=snippet, body=body)


def wait_for_script(page):
    page.wait_for_function("typeof window.koers === 'function' && window.koers.loaded === true")


def stored_visitor_id(page):
    return page.evaluate(
        "[localStorage.getItem('koers_vid'), "
        "document.cookie.split('; ').some((c) => c.startsWith('koers_vid='))]"
    )


def test_a_visitor_who_consents_and_sends_the_form_becomes_a_contact_with_their_visit(
    visitor_page, open_page, koers, website, sales_a, demo_password
):
    sales_a.language = "en"
    sales_a.save(update_fields=["language"])
    site = Site.objects.create(
        name="Stroomlijn Software", allowed_domains="localhost", consent_mode="required"
    )
    form = LeadForm.objects.create(
        site=site,
        name="Demo aanvragen",
        owner=sales_a,
        thanks="Dank je wel! We bellen je binnen een werkdag.",
    )
    publish(website, koers, site, form=form)

    # The visitor reads the pricing page after consenting, and moves the mouse about.
    page = visitor_page()
    page.goto(f"{website.url}/pricing?consent=1")
    page.wait_for_function("localStorage.getItem('koers_vid') !== null")
    uid, in_cookie = stored_visitor_id(page)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", uid)
    assert in_cookie
    page.mouse.move(200, 200)
    page.wait_for_timeout(1200)
    page.mouse.move(600, 400)
    page.wait_for_timeout(1300)

    # On the contact page the script draws the form; leaving pricing sent its engaged time.
    page.goto(f"{website.url}/contact?consent=1")
    expect(page.get_by_role("heading", name="Demo aanvragen")).to_be_visible()
    page.get_by_label("First name").fill("Lotte")
    page.get_by_label("Last name").fill("Jansen")
    page.get_by_label("Email").fill("lotte@bakkerij")
    page.get_by_label("Company").fill("Bakkerij Jansen")
    page.get_by_label("Message").fill("Graag een demo voor ons team van vijf.")
    # Koers ignores forms sent within 2 s of being drawn, as only scripts are that quick.
    page.wait_for_timeout(2100)
    page.get_by_role("button", name="Send").click()

    # A typo in the address: Koers names the field, and the visitor puts it right.
    email = page.get_by_label("Email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".koers-field-email .koers-error")).to_have_text(
        "Enter a valid email address."
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "tracking-form.png", full_page=True)
    email.fill("lotte@bakkerij-jansen.nl")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_have_text(form.thanks)
    expect(page.locator("form.koers-form")).to_have_count(0)

    # What the script sent: the two page views and the engaged time, all under the id,
    # and no form_submit of its own for a Koers form (Koers records that one itself).
    kinds = [(event["k"], body["v"]) for body in koers.received(3) for event in body["e"]]
    assert kinds == [("page_view", uid), ("engage", uid), ("page_view", uid)]

    contact = Contact.objects.get(email="lotte@bakkerij-jansen.nl")
    assert (contact.first_name, contact.last_name, contact.owner) == ("Lotte", "Jansen", sales_a)
    assert list(Visitor.objects.filter(site=site).values_list("uid", "contact")) == [
        (uid, contact.pk)
    ]
    # The visit before the form joined the contact, with the time spent reading.
    pricing = Event.objects.get(kind=Event.Kind.PAGE_VIEW, url=f"{website.url}/pricing?consent=1")
    assert (pricing.title, pricing.contact, pricing.visitor.uid) == ("Prijzen", contact, uid)
    assert pricing.engaged_seconds >= 1
    submits = Event.objects.filter(kind=Event.Kind.FORM_SUBMIT)
    assert list(submits.values_list("contact", "title")) == [(contact.pk, "Demo aanvragen")]

    # The salesperson finds the visit and the form on the new contact's timeline.
    page = open_page()
    log_in(page, "daan", demo_password)
    page.goto(contact.get_absolute_url())
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Prijzen")
    expect(timeline).to_contain_text(re.compile(r"Form submitted\s*Demo aanvragen"))
    page.screenshot(path=SCREENSHOTS / "tracking-contact-desktop.png", full_page=True)
    phone = open_page(width=390, height=844)
    log_in(phone, "daan", demo_password)
    phone.goto(contact.get_absolute_url())
    expect(phone.get_by_test_id("timeline")).to_contain_text("Prijzen")
    phone.screenshot(path=SCREENSHOTS / "tracking-contact-phone.png", full_page=True)


def test_without_consent_the_script_keeps_and_sends_nothing(visitor_page, koers, website):
    site = Site.objects.create(
        name="Stroomlijn Software", allowed_domains="localhost", consent_mode="required"
    )
    publish(website, koers, site)
    page = visitor_page()

    page.goto(f"{website.url}/pricing")
    wait_for_script(page)
    page.mouse.move(300, 300)
    page.wait_for_timeout(1000)
    page.goto(f"{website.url}/about")
    wait_for_script(page)
    koers.settle()

    assert stored_visitor_id(page) == [None, False]
    assert koers.beacons == []
    assert not Visitor.objects.exists()
    assert not Event.objects.exists()


def test_an_anonymous_site_counts_page_views_without_knowing_the_visitor(
    visitor_page, koers, website
):
    site = Site.objects.create(
        name="Stroomlijn Software", allowed_domains="localhost", consent_mode="anonymous"
    )
    publish(website, koers, site, anonymous=True)
    page = visitor_page()

    page.goto(f"{website.url}/pricing")
    wait_for_script(page)
    page.mouse.move(300, 300)
    page.wait_for_timeout(1200)
    # A single-page app moving on counts as another page view.
    page.evaluate("history.pushState({}, '', '/pricing/enterprise')")
    page.goto(f"{website.url}/about")
    wait_for_script(page)
    beacons = koers.received(3)

    # Nothing about the person: no id, and no engaged time as the pages unloaded.
    assert all(set(body) == {"s", "e"} for body in beacons)
    assert [event["k"] for body in beacons for event in body["e"]] == ["page_view"] * 3
    assert len({body["e"][0]["p"] for body in beacons}) == 3
    events = Event.objects.filter(site=site).order_by("pk")
    assert list(events.values_list("kind", "url", "title", "visitor")) == [
        ("page_view", f"{website.url}/pricing", "Prijzen", None),
        ("page_view", f"{website.url}/pricing/enterprise", "Prijzen", None),
        ("page_view", f"{website.url}/about", "Over ons", None),
    ]
    assert stored_visitor_id(page) == [None, False]
    assert not Visitor.objects.exists()


def test_withdrawing_consent_forgets_the_visitor_and_stops_the_events(visitor_page, koers, website):
    site = Site.objects.create(
        name="Stroomlijn Software", allowed_domains="localhost", consent_mode="required"
    )
    publish(website, koers, site)
    page = visitor_page()
    page.goto(f"{website.url}/pricing?consent=1")
    page.wait_for_function("localStorage.getItem('koers_vid') !== null")
    # A download counts while the visitor consents (the page stays put for the test).
    page.evaluate("document.addEventListener('click', (event) => event.preventDefault())")
    page.get_by_role("link", name="Brochure").click()
    koers.received(2)
    uid = stored_visitor_id(page)[0]
    assert Visitor.objects.filter(site=site, uid=uid).exists()
    download = Event.objects.get(kind=Event.Kind.DOWNLOAD)
    assert (download.url, download.properties["file"]) == (
        f"{website.url}/pricing?consent=1",
        f"{website.url}/brochure.pdf",
    )

    page.evaluate("koers('consent', false)")
    assert stored_visitor_id(page) == [None, False]
    page.get_by_role("link", name="Brochure").click()
    # The next page, without consent, neither brings the id back nor sends anything.
    page.goto(f"{website.url}/about")
    wait_for_script(page)
    koers.settle()

    assert stored_visitor_id(page) == [None, False]
    assert [event["k"] for body in koers.beacons for event in body["e"]] == [
        "page_view",
        "download",
    ]
    assert Event.objects.count() == 2


def test_a_click_from_an_email_ties_the_visit_to_the_contact(visitor_page, koers, website, sales_a):
    site = Site.objects.create(
        name="Stroomlijn Software", allowed_domains="localhost", consent_mode="required"
    )
    publish(website, koers, site)
    contact = ContactFactory(owner=sales_a)
    page = visitor_page()

    token = identify_token(contact.pk)
    page.goto(f"{website.url}/pricing?utm_source=nieuwsbrief&koers_id={token}&consent=1")
    wait_for_script(page)
    koers.received(1)

    # The token leaves the address bar at once, and goes to Koers once, with the id.
    uid = stored_visitor_id(page)[0]
    assert page.url == f"{website.url}/pricing?utm_source=nieuwsbrief&consent=1"
    assert [(body["v"], body.get("i")) for body in koers.beacons] == [(uid, token)]
    assert page.evaluate("sessionStorage.getItem('koers_id')") is None
    assert Visitor.objects.get(site=site, uid=uid).contact == contact
    view = Event.objects.get(kind=Event.Kind.PAGE_VIEW)
    assert (view.contact, view.url) == (contact, page.url)
