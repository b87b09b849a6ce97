from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from koers.core.models import AuditEntry, User
from koers.crm.factories import ContactFactory
from koers.tracking import panels, selectors
from koers.tracking.models import Campaign, Event, LeadForm, Site
from koers.tracking.services import setup
from koers.tracking.tokens import site_token

MANAGING = [User.Role.ADMIN, User.Role.MANAGER, User.Role.MARKETING]
NOT_MANAGING = [User.Role.SALES, User.Role.SUCCESS, User.Role.READ_ONLY]


@pytest.fixture
def marketer(make_user, team_a):
    return make_user(User.Role.MARKETING, team_a, username="mila", first_name="Mila")


@pytest.fixture
def site(marketer):
    return setup.site_create(actor=marketer, name="Stroomlijn", allowed_domains="stroomlijn.nl")


@pytest.fixture
def campaign(marketer):
    return setup.campaign_create(
        actor=marketer,
        name="Voorjaarsactie",
        channel=Campaign.Channel.SEARCH_ADS,
        spend=Decimal("1500.00"),
        utm_campaign="voorjaar",
    )


@pytest.fixture
def lead_form(marketer, site, sales_a, campaign):
    return setup.lead_form_create(
        actor=marketer, site=site, name="Demo aanvragen", owner=sales_a, campaign=campaign
    )


def _event(contact=None, minutes_ago=0, **fields):
    fields = {"kind": Event.Kind.PAGE_VIEW, "url": "https://stroomlijn.nl/", **fields}
    return Event.objects.create(
        contact=contact, occurred_at=timezone.now() - timedelta(minutes=minutes_ago), **fields
    )


SITE_POST = {"name": "Shop", "allowed_domains": "shop.nl", "consent_mode": "required"}
CAMPAIGN_POST = {"name": "Beurs", "channel": "event", "spend": "250", "utm_campaign": ""}


def _set_up_urls(site, lead_form, campaign):
    return [
        (reverse("tracking:site-list"), None),
        (reverse("tracking:site-create"), SITE_POST),
        (reverse("tracking:site-detail", args=[site.pk]), None),
        (reverse("tracking:site-edit", args=[site.pk]), SITE_POST),
        (reverse("tracking:form-create", args=[site.pk]), {"name": "x"}),
        (reverse("tracking:form-edit", args=[lead_form.pk]), {"name": "x"}),
        (reverse("tracking:campaign-create"), CAMPAIGN_POST),
        (reverse("tracking:campaign-edit", args=[campaign.pk]), CAMPAIGN_POST),
    ]


@pytest.mark.parametrize("role", MANAGING)
def test_admins_managers_and_marketing_open_every_set_up_page(
    role, make_user, team_a, client_for, site, lead_form, campaign
):
    client = client_for(make_user(role, team_a))
    for url, _data in _set_up_urls(site, lead_form, campaign):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", NOT_MANAGING)
def test_other_roles_may_not_open_or_post_the_set_up_pages(
    role, make_user, team_a, client_for, site, lead_form, campaign
):
    client = client_for(make_user(role, team_a))
    for url, data in _set_up_urls(site, lead_form, campaign):
        assert client.get(url).status_code == 403, url
        if data is not None:
            assert client.post(url, data).status_code == 403, url
    response = client.post(reverse("tracking:campaign-edit", args=[campaign.pk]), {"delete": "1"})
    assert response.status_code == 403
    assert Campaign.objects.count() == 1
    assert Site.objects.count() == 1
    assert LeadForm.objects.get().name == "Demo aanvragen"


@pytest.mark.parametrize("role", [*MANAGING, *NOT_MANAGING])
def test_everyone_reads_campaigns_attribution_and_who_is_on_the_site(
    role, make_user, team_a, client_for, campaign
):
    client = client_for(make_user(role, team_a))
    for url in (
        reverse("tracking:campaign-list"),
        reverse("tracking:campaign-detail", args=[campaign.pk]),
        reverse("tracking:attribution"),
        reverse("tracking:hot-now"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    listing = client.get(reverse("tracking:campaign-list")).content.decode()
    may_set_up = role in MANAGING
    assert (reverse("tracking:campaign-create") in listing) is may_set_up
    assert (reverse("tracking:site-list") in listing) is may_set_up


@pytest.mark.parametrize("role", NOT_MANAGING)
def test_services_refuse_roles_that_do_not_set_up(role, make_user, site, campaign, sales_a):
    user = make_user(role)
    with pytest.raises(PermissionDenied):
        setup.site_create(actor=user, name="x", allowed_domains="x.nl")
    with pytest.raises(PermissionDenied):
        setup.site_update(
            actor=user,
            site=site,
            name="x",
            allowed_domains="x.nl",
            consent_mode="required",
            active=True,
        )
    with pytest.raises(PermissionDenied):
        setup.lead_form_create(actor=user, site=site, name="x", owner=sales_a)
    with pytest.raises(PermissionDenied):
        setup.campaign_create(actor=user, name="x", channel="email")
    with pytest.raises(PermissionDenied):
        setup.campaign_delete(actor=user, campaign=campaign)


def test_site_create_keeps_each_domain_lower_case_and_records_who_did_it(marketer):
    site = setup.site_create(
        actor=marketer,
        name=" Stroomlijn ",
        allowed_domains="Stroomlijn.NL\nhttps://www.Shop-Stroomlijn.nl/prijzen\n\nlocalhost\nstroomlijn.nl",
        consent_mode=Site.ConsentMode.ANONYMOUS,
    )
    assert site.name == "Stroomlijn"
    assert site.domains == ["stroomlijn.nl", "www.shop-stroomlijn.nl", "localhost"]
    assert site.created_by == marketer
    entry = AuditEntry.objects.get(object_id=site.pk, content_type__model="site")
    assert entry.action == AuditEntry.Action.CREATED
    assert entry.actor == marketer


@pytest.mark.parametrize("domains", ["stroomlijn", "strom lijn.nl\nx.nl", "-a.nl", "a..nl", ""])
def test_site_create_refuses_what_is_not_a_domain(marketer, domains):
    with pytest.raises(ValidationError) as error:
        setup.site_create(actor=marketer, name="x", allowed_domains=domains)
    assert list(error.value.message_dict) == ["allowed_domains"]
    assert not Site.objects.exists()


def test_the_site_form_names_the_wrong_domain(marketer, client_for):
    response = client_for(marketer).post(
        reverse("tracking:site-create"),
        {"name": "Shop", "allowed_domains": "shop.nl\nhallo wereld", "consent_mode": "required"},
    )
    assert response.status_code == 200
    assert "Not a domain name such as example.nl: hallo, wereld" in response.content.decode()
    assert not Site.objects.exists()


def test_site_edit_changes_the_site_and_records_the_change(marketer, client_for, site):
    response = client_for(marketer).post(
        reverse("tracking:site-edit", args=[site.pk]),
        {
            "name": "Stroomlijn NL",
            "allowed_domains": "stroomlijn.nl\nstroomlijn.be",
            "consent_mode": "anonymous",
            "active": "",
        },
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.name, site.domains, site.consent_mode, site.active) == (
        "Stroomlijn NL",
        ["stroomlijn.nl", "stroomlijn.be"],
        "anonymous",
        False,
    )
    entry = AuditEntry.objects.filter(object_id=site.pk, content_type__model="site").first()
    assert entry.action == AuditEntry.Action.UPDATED
    assert entry.changes["name"] == ["Stroomlijn", "Stroomlijn NL"]


def test_site_detail_gives_the_snippet_with_the_signed_site_and_the_form_embeds(
    marketer, client_for, site, lead_form
):
    client = client_for(marketer)
    page = client.get(reverse("tracking:site-detail", args=[site.pk])).content.decode()
    snippet = (
        f"&lt;script async src=&quot;http://testserver/t.js&quot; "
        f"data-site=&quot;{site_token(site)}&quot;&gt;&lt;/script&gt;"
    )
    assert snippet in page
    assert f"data-koers-form=&quot;{lead_form.key}&quot;" in page
    assert "<code>koers('consent', true)</code>" in page
    site.consent_mode = Site.ConsentMode.ANONYMOUS
    site.save()
    page = client.get(reverse("tracking:site-detail", args=[site.pk])).content.decode()
    assert f"data-site=&quot;{site_token(site)}&quot; data-anonymous=&quot;1&quot;&gt;" in page


def test_site_detail_counts_page_views_per_day_or_says_there_are_none(marketer, client_for, site):
    client = client_for(marketer)
    response = client.get(reverse("tracking:site-detail", args=[site.pk]))
    assert 'data-testid="no-page-views"' in response.content.decode()
    other = setup.site_create(actor=marketer, name="Ander", allowed_domains="ander.nl")
    _event(site=site)
    _event(site=site, minutes_ago=5)
    _event(site=site, kind=Event.Kind.DOWNLOAD)
    _event(site=site, minutes_ago=40 * 24 * 60)
    _event(site=other)
    by_day = selectors.site_page_views_by_day(site=site)
    assert len(by_day) == 30
    assert by_day[-1][0] == timezone.localdate()
    assert sum(count for _day, count in by_day) == 2  # the download and other site left out
    response = client.get(reverse("tracking:site-detail", args=[site.pk]))
    assert response.context["page_views"] == 2
    assert response.context["chart"]["values"] == [count for _day, count in by_day]


def test_site_list_counts_the_events_of_the_last_week(marketer, client_for, site):
    _event(site=site)
    _event(site=site, kind=Event.Kind.FORM_SUBMIT)
    _event(site=site, minutes_ago=8 * 24 * 60)
    response = client_for(marketer).get(reverse("tracking:site-list"))
    assert [(s.name, s.events_last_week) for s in response.context["sites"]] == [("Stroomlijn", 2)]


def test_lead_forms_are_added_and_changed_through_the_site_page(
    marketer, client_for, site, sales_a, campaign
):
    client = client_for(marketer)
    response = client.post(
        reverse("tracking:form-create", args=[site.pk]),
        {
            "name": "Whitepaper",
            "ask_phone": "on",
            "thanks": "Dank je!",
            "owner": sales_a.pk,
            "campaign": campaign.pk,
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == site.get_absolute_url()
    form = LeadForm.objects.get()
    assert (form.site, form.ask_phone, form.ask_company, form.owner, form.campaign) == (
        site,
        True,
        False,
        sales_a,
        campaign,
    )
    response = client.post(
        reverse("tracking:form-edit", args=[form.pk]),
        {"name": "Whitepaper 2", "owner": sales_a.pk, "campaign": "", "active": ""},
    )
    assert response.status_code == 302
    form.refresh_from_db()
    assert (form.name, form.campaign, form.active, form.ask_phone) == (
        "Whitepaper 2",
        None,
        False,
        False,
    )
    actions = AuditEntry.objects.filter(object_id=form.pk, content_type__model="leadform")
    assert sorted(actions.values_list("action", flat=True)) == ["created", "updated"]


def test_a_lead_form_needs_an_owner_who_may_follow_up(marketer, site, read_only_a):
    with pytest.raises(ValidationError) as error:
        setup.lead_form_create(actor=marketer, site=site, name="x", owner=read_only_a)
    assert list(error.value.message_dict) == ["owner"]


def test_campaign_utm_value_is_lower_case_and_unique(marketer, campaign, client_for):
    assert campaign.utm_campaign == "voorjaar"
    other = setup.campaign_create(actor=marketer, name="Zonder", channel="email", utm_campaign="")
    setup.campaign_create(actor=marketer, name="Ook zonder", channel="email", utm_campaign=" ")
    with pytest.raises(ValidationError) as error:
        setup.campaign_update(
            actor=marketer,
            campaign=other,
            name="Zonder",
            channel="email",
            spend=Decimal("0"),
            utm_campaign=" VoorJaar ",
            starts_on=None,
            ends_on=None,
            owner=None,
        )
    assert list(error.value.message_dict) == ["utm_campaign"]
    response = client_for(marketer).post(
        reverse("tracking:campaign-create"), {**CAMPAIGN_POST, "utm_campaign": "VOORJAAR"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "<strong>UTM campaign</strong>: Another campaign already uses this UTM campaign value."
        in page
    )
    assert Campaign.objects.count() == 3


def test_campaign_create_and_edit_through_the_pages(marketer, client_for):
    client = client_for(marketer)
    response = client.post(
        reverse("tracking:campaign-create"),
        {
            **CAMPAIGN_POST,
            "utm_campaign": " Beurs-2025 ",
            "starts_on": "2025-03-01",
            "ends_on": "2025-03-03",
            "owner": marketer.pk,
        },
    )
    campaign = Campaign.objects.get()
    assert response["Location"] == campaign.get_absolute_url()
    assert (campaign.utm_campaign, campaign.spend, campaign.owner) == (
        "beurs-2025",
        Decimal("250.00"),
        marketer,
    )
    response = client.post(
        reverse("tracking:campaign-edit", args=[campaign.pk]),
        {**CAMPAIGN_POST, "starts_on": "2025-03-05", "ends_on": "2025-03-01"},
    )
    assert response.status_code == 200
    assert "The campaign cannot end before it starts." in response.content.decode()
    response = client.post(
        reverse("tracking:campaign-edit", args=[campaign.pk]), {**CAMPAIGN_POST, "spend": "300"}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.spend, campaign.utm_campaign) == (Decimal("300.00"), "")
    entry = AuditEntry.objects.filter(object_id=campaign.pk, content_type__model="campaign").first()
    assert entry.changes["spend"] == ["250.00", "300.00"]


def test_deleting_a_campaign_keeps_its_visits_and_forms(marketer, client_for, campaign, lead_form):
    event = _event(campaign=campaign)
    response = client_for(marketer).post(
        reverse("tracking:campaign-edit", args=[campaign.pk]), {"delete": "1"}
    )
    assert response["Location"] == reverse("tracking:campaign-list")
    assert not Campaign.objects.exists()
    event.refresh_from_db()
    lead_form.refresh_from_db()
    assert (event.campaign, lead_form.campaign) == (None, None)
    entry = AuditEntry.objects.get(
        object_id=campaign.pk, content_type__model="campaign", action="deleted"
    )
    assert entry.changes["name"] == ["Voorjaarsactie", None]


def test_campaign_detail_counts_touchpoints_of_people_the_user_sees(
    sales_a, sales_b, client_for, campaign
):
    mine, theirs = ContactFactory(owner=sales_a), ContactFactory(owner=sales_b)
    _event(mine, campaign=campaign)
    _event(mine, campaign=campaign)
    _event(theirs, campaign=campaign)
    _event(None, campaign=campaign)
    response = client_for(sales_a).get(reverse("tracking:campaign-detail", args=[campaign.pk]))
    assert response.context["counts"] == {"visits": 4, "touchpoints": 2, "people": 1}


# Hot now


def test_hot_now_lists_known_people_the_user_sees_active_in_the_last_hour(sales_a, sales_b):
    early, late = ContactFactory(owner=sales_a), ContactFactory(owner=sales_a)
    _event(early, minutes_ago=50, title="Prijzen")
    _event(early, minutes_ago=20, title="Demo", url="https://stroomlijn.nl/demo")
    _event(early, minutes_ago=10, kind=Event.Kind.EMAIL_OPEN, url="")  # no page to show
    _event(late, minutes_ago=5, title="Home")
    _event(late, minutes_ago=70)  # before the hour
    _event(ContactFactory(owner=sales_a), minutes_ago=61)
    _event(ContactFactory(owner=sales_b), minutes_ago=1)  # another team's person
    _event(None, minutes_ago=1)  # anonymous
    rows = selectors.hot_now(user=sales_a)
    assert [(row.contact, row.events, row.title, row.url) for row in rows] == [
        (late, 1, "Home", "https://stroomlijn.nl/"),
        (early, 3, "Demo", "https://stroomlijn.nl/demo"),
    ]
    assert rows[1].last_at == Event.objects.filter(contact=early).latest("occurred_at").occurred_at


def test_hot_now_page_and_start_section(sales_a, client_for):
    client = client_for(sales_a)
    response = client.get(reverse("tracking:hot-now"))
    assert 'data-testid="hot-now-empty"' in response.content.decode()
    people = [ContactFactory(owner=sales_a) for _ in range(6)]
    for minutes, person in enumerate(people):
        _event(person, minutes_ago=minutes, title=f"Pagina {minutes}")
    response = client.get(reverse("tracking:hot-now"))
    page = response.content.decode()
    assert all(person.get_absolute_url() in page for person in people)
    section = panels.hot_now_section_context(sales_a)
    assert [row.contact for row in section["visitors"]] == people[:5]
    html = render_to_string("tracking/partials/hot_now_section.html", {"section": section})
    assert "Pagina 0" in html
    assert "Pagina 5" not in html
    assert reverse("tracking:hot-now") in html


def test_campaign_list_shows_the_credited_figures_of_the_chosen_model(
    sales_a, client_for, campaign, marketer
):
    other = setup.campaign_create(actor=marketer, name="Nieuwsbrief", channel="email")
    person = ContactFactory(owner=sales_a)
    _event(person, minutes_ago=0, campaign=other)
    Event.objects.filter(contact=person).update(occurred_at=person.created_at - timedelta(days=2))
    _event(person, campaign=campaign)
    Event.objects.filter(contact=person, campaign=campaign).update(
        occurred_at=person.created_at - timedelta(days=1)
    )
    client = client_for(sales_a)
    for model, credited in (("first", other), ("last", campaign)):
        response = client.get(reverse("tracking:campaign-list"), {"model": model})
        rows = {row.campaign: row.contacts for row in response.context["report"].rows}
        assert rows == {credited: 1.0, ({other, campaign} - {credited}).pop(): 0.0}
