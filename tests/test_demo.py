import re

import phonenumbers
from stdnum.nl import btw, postcode

from koers import demo
from koers.activities.selectors import my_day
from koers.core.models import User
from koers.crm import sbi
from koers.crm.models import Company, Contact
from koers.crm.normalise import normalise_email
from koers.crm.selectors import company_visible_to
from koers.outreach.models import CallCampaign
from koers.outreach.selectors import campaign_results


def test_the_demo_is_a_valid_dutch_b2b_world(db):
    counts = demo.load()

    assert counts["users"] == len(demo.USERS)
    assert counts["companies"] == Company.objects.count() == 300
    assert 1100 <= counts["contacts"] == Contact.objects.count() <= 1400
    assert set(User.objects.values_list("role", flat=True)) == set(User.Role.values)

    companies = list(Company.objects.all())
    assert all(re.fullmatch(r"\d{8}", company.kvk_number) for company in companies)
    assert any(company.kvk_number.startswith("0") for company in companies)
    assert all(btw.is_valid(company.vat_number) for company in companies)
    assert all(postcode.is_valid(company.postcode) for company in companies)
    assert all(company.industry in sbi.DIVISIONS for company in companies)
    assert all(
        phonenumbers.is_valid_number(phonenumbers.parse(company.phone)) for company in companies
    )
    assert len({company.name for company in companies}) == 300

    contacts = list(Contact.objects.all())
    assert all(normalise_email(contact.email) == contact.email for contact in contacts)
    assert sum(1 for contact in contacts if contact.dmu_role) > len(contacts) * 0.8
    assert all(contact.company_id for contact in contacts)


def test_demo_users_see_what_their_role_allows(db):
    demo.load(companies=40)
    salesperson = User.objects.get(username=demo.LOGIN_USERNAME)
    manager = User.objects.get(username="sanne")

    assert (
        0 < company_visible_to(user=salesperson).count() < company_visible_to(user=manager).count()
    )
    assert company_visible_to(user=manager).count() == 40


def test_the_demo_has_timelines_planned_work_and_a_campaign_under_way(db):

    counts = demo.load(companies=60)
    daan = User.objects.get(username=demo.LOGIN_USERNAME)
    day = my_day(user=daan)
    assert day.overdue
    assert day.today
    campaign = CallCampaign.objects.get()
    assert campaign.status == "active"
    results = campaign_results(campaign=campaign)
    assert results.total.attempts == counts["campaign_calls"] > 0
    assert {row.label for row in results.by_agent} <= {"Daan Bakker", "Yara El Amrani"}
    assert counts["activities"] > counts["contacts"]
