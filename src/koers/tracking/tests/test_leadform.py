"""Lead forms over HTTP: drawn for the script, submitted by people, refused for bots."""

import json

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koers.activities.models import Activity
from koers.core.models import Notification
from koers.crm.factories import ContactFactory
from koers.crm.models import Contact, LifecycleStage
from koers.tracking import tokens
from koers.tracking.models import Event, LeadForm, Site, Visitor

ORIGIN = "https://example.nl"
VISITOR = "Vis1tor-abcdefghijklm"


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()


@pytest.fixture
def form(db, sales_a):
    site = Site.objects.create(name="Web", allowed_domains="example.nl")
    return LeadForm.objects.create(site=site, name="Demo aanvragen", owner=sales_a)


def aged_token(form, seconds=10):
    import time

    return tokens._dumps([form.key, int(time.time()) - seconds], "koers.tracking.form")


def submit(form, fields, *, token=None, origin=ORIGIN, **more):
    body = {
        "token": token or aged_token(form),
        "s": tokens.site_token(form.site),
        "v": VISITOR,
        "u": "https://example.nl/demo?utm_campaign=x",
        "website": "",
        "fields": fields,
        **more,
    }
    return Client().post(
        f"/t/f/{form.key}?lang=en",
        data=json.dumps(body),
        content_type="text/plain",
        HTTP_ORIGIN=origin,
    )


PERSON = {
    "first_name": "Eva",
    "last_name": "Jansen",
    "email": "Eva@Example.nl",
    "message": "Bel me",
}


def test_the_script_gets_the_fields_and_a_token_with_cors_for_the_site(form):
    response = Client().get(f"/t/f/{form.key}?lang=en", HTTP_ORIGIN=ORIGIN)
    data = response.json()
    assert [field["name"] for field in data["fields"]] == [
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "message",
    ]
    assert data["fields"][2] == {
        "name": "email",
        "label": "Email",
        "type": "email",
        "required": True,
        "max": 254,
    }
    assert tokens.form_token_age(data["token"], form.key) < 5
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    other = Client().get(f"/t/f/{form.key}", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other


def test_a_submission_makes_a_lead_and_ties_the_visitor(form, sales_a):
    response = submit(form, PERSON)
    assert response.json()["ok"] is True

    contact = Contact.objects.get(email="eva@example.nl")
    assert (contact.owner, contact.lifecycle_stage, contact.lead_source) == (
        sales_a,
        LifecycleStage.LEAD,
        Contact.LeadSource.WEB_FORM,
    )
    assert Visitor.objects.get(uid=VISITOR).contact == contact
    assert Event.objects.get(kind="form_submit").contact == contact
    assert Activity.objects.get(contact=contact).body == "Bel me"
    assert Notification.objects.filter(recipient=sales_a).exists()


def test_a_known_email_address_only_tells_the_owner(form, sales_b):
    """Anyone can type a customer's address: it must not change them, tie a stranger's
    browser to them or earn them points."""
    known = ContactFactory(
        email="eva@example.nl", last_name="de Wit", owner=sales_b, lifecycle_stage="lead"
    )
    for _attempt in range(4):
        assert submit(form, {**PERSON, "last_name": "Overwritten"}).json()["ok"] is True
    known.refresh_from_db()
    assert (known.last_name, known.lifecycle_stage) == ("de Wit", "lead")
    assert Contact.objects.filter(email="eva@example.nl").count() == 1
    assert not Visitor.objects.filter(contact=known).exists()
    assert not Event.objects.exists()
    note = Activity.objects.filter(contact=known).first()
    assert "not verified" in note.subject
    assert "Overwritten" in note.body
    assert Notification.objects.filter(recipient=sales_b).exists()


def test_a_known_and_an_unknown_address_get_the_same_answer(form):
    ContactFactory(email="eva@example.nl")
    known = submit(form, {**PERSON, "phone": "12"})
    unknown = submit(form, {**PERSON, "email": "new@example.nl", "phone": "12"})
    assert known.status_code == unknown.status_code == 400
    assert known.json() == unknown.json()


@pytest.mark.parametrize(
    "change",
    [
        {"u": "http://["},
        {"u": "javascript://example.nl/%0aalert(1)"},
        {"u": "ftp://example.nl/"},
        {"fields": {**PERSON, "first_name": "\ud800"}},
    ],
)
def test_odd_values_are_refused_without_failing(form, change):
    fields = change.pop("fields", PERSON)
    response = submit(form, fields, **change)
    assert response.status_code == 400
    assert not Contact.objects.exists()


def test_a_malformed_origin_is_refused_without_failing(form):
    assert Client().get(f"/t/f/{form.key}", HTTP_ORIGIN="http://[").status_code == 200
    assert submit(form, PERSON, origin="http://[").status_code == 403


def test_control_characters_are_dropped_from_the_page_address(form):
    submit(form, PERSON, u="https://example.nl/\x00demo")
    assert Event.objects.get().url == "https://example.nl/demo"


def test_utm_values_are_kept_without_control_characters(form):
    submit(form, PERSON, u="https://example.nl/?utm_source=%00news")
    assert Event.objects.get().properties["utm"] == {"utm_source": "news"}


def test_every_bad_field_is_named(form):
    response = submit(form, {"last_name": "", "email": "not-an-address"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"last_name", "email"}
    assert not Contact.objects.exists()


def test_an_invalid_phone_number_is_named(form):
    response = submit(form, {**PERSON, "phone": "12"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"phone"}
    assert not Contact.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "spam",
    [
        {"website": "http://spam.example"},  # the hidden field a person never sees
        {"token": "fresh"},  # filled in faster than a person can
    ],
)
def test_bots_are_thanked_and_forgotten(form, spam):
    if spam.get("token") == "fresh":
        spam = {"token": tokens.form_token(form.key)}
    response = submit(form, PERSON, **spam)
    assert response.json()["ok"] is True
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"token": "forged"}, 400),
        ({"s": "forged"}, 403),
        ({"origin": "https://evil.example"}, 403),
        ({"v": "bad"}, 400),
        ({"fields": ["x"]}, 400),
        ({"fields": {"email": 3}}, 400),
    ],
)
def test_forged_or_foreign_submissions_are_refused(form, change, status):
    origin = change.pop("origin", ORIGIN)
    fields = change.pop("fields", PERSON)
    response = submit(form, fields, origin=origin, **change)
    assert response.status_code == status
    assert not Contact.objects.exists()


def test_submissions_are_rate_limited_per_address(form):
    statuses = [
        submit(form, {**PERSON, "email": f"p{n}@example.nl"}).status_code for n in range(12)
    ]
    assert statuses.count(429) == 2
    assert Contact.objects.count() == 10


def test_an_inactive_form_is_not_found(form):
    form.active = False
    form.save()
    assert Client().get(f"/t/f/{form.key}").status_code == 404


def test_a_form_whose_owner_became_read_only_stores_nothing_and_says_so(form, sales_a):
    from koers.core.models import User

    sales_a.role = User.Role.READ_ONLY
    sales_a.save()
    response = submit(form, PERSON)
    assert response.status_code == 400
    assert "__all__" in response.json()["errors"]
    assert not Contact.objects.exists()
    assert not Event.objects.exists()


any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
texts = st.dictionaries(
    st.sampled_from(["first_name", "last_name", "email", "phone", "company", "message", "x"]),
    any_text | st.just("eva@example.nl"),
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=texts | st.none() | st.integers() | st.lists(any_text, max_size=2),
    url=any_text | st.just("https://example.nl/demo"),
    visitor=st.none() | any_text | st.just(VISITOR),
    honeypot=st.just("") | any_text,
)
def test_no_submission_makes_the_form_fail(form, fields, url, visitor, honeypot):
    cache.clear()
    response = submit(form, fields, u=url, v=visitor, website=honeypot)
    assert response.status_code in (200, 400, 403), response.content
