"""Visits on timelines follow who may see whom."""

from django.utils import timezone

from koers.crm.factories import CompanyFactory, ContactFactory
from koers.tracking.models import Event


def test_a_companys_timeline_shows_only_the_visits_of_people_the_user_may_see(
    sales_a, sales_b, client_for
):
    company = CompanyFactory(owner=sales_a)
    mine = ContactFactory(company=company, owner=sales_a)
    theirs = ContactFactory(company=company, owner=sales_b, last_name="Geheim")
    for contact, title in ((mine, "Prijzen"), (theirs, "Vertrouwelijke aanvraag")):
        Event.objects.create(
            kind="page_view", contact=contact, title=title, occurred_at=timezone.now()
        )

    page = client_for(sales_a).get(f"/timeline/company/{company.pk}/").content.decode()

    assert "Prijzen" in page
    assert "Vertrouwelijke aanvraag" not in page
    assert "Geheim" not in page
