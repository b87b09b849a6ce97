import pytest
from django.urls import reverse
from django.utils import translation

from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.normalise import company_name_key
from koers.dataio import duplicates, selectors
from koers.dataio.services.merges import contact_merge
from koers.dataio.tests.duplicate_data import generate, load, precision_recall


def _contact(pk, first, prefix, last, email="", phone="", mobile="", company=None):
    return (pk, first, prefix, last, email, phone, mobile, company)


def _company(pk, name, domain="", kvk="", vat="", phone="", city=""):
    return (pk, name, company_name_key(name), domain, kvk, vat, phone, city.casefold())


def _pairs(candidates):
    return {(candidate.first_id, candidate.second_id) for candidate in candidates}


def test_the_finder_reaches_the_precision_and_recall_of_the_issue_on_10000_contacts(manager):
    """Issue 7: 10,000 contacts with 1,000 known duplicates (typos, swapped names, other
    phone formats): precision at least 0.95, recall at least 0.90."""
    dataset = generate(contacts=10_000, duplicates=1_000, seed=7)
    ids = load(dataset, owner=manager)
    expected = {(ids[first], ids[second]) for first, second in dataset.pairs}

    found = selectors.duplicate_candidates_for_user(user=manager, kind="contact")

    precision, recall = precision_recall(_pairs(found), expected)
    assert len(expected) == 1_000
    assert precision >= 0.95, f"precision {precision:.3f}"
    assert recall >= 0.90, f"recall {recall:.3f}"


def test_swapped_names_typos_and_other_phone_formats_are_found_with_their_reasons():
    rows = [
        _contact(1, "Jan", "de", "Vries", "jan.devries@veldhuis.nl", "+31612345678"),
        _contact(2, "Vries", "", "Jan", "", "06-12345678"),  # swapped, phone as typed
        _contact(3, "Marieke", "", "Hoekstra", mobile="+31687654321", company=7),
        _contact(4, "Marieke", "", "Hoekstar", phone="06 8765 4321", company=7),
        _contact(5, "Sanne", "van", "Dijk", "s.vandijk@acme.nl", company=8),
        _contact(6, "SANNE", "van", "DIJK", "S.vanDijk@ACME.nl"),
    ]

    found = {(c.first_id, c.second_id): c for c in duplicates.find_contact_duplicates(rows)}

    assert set(found) == {(1, 2), (3, 4), (5, 6)}
    assert found[(1, 2)].reasons == ("same_name", "swapped_names", "same_phone")
    assert found[(3, 4)].reasons == ("similar_name", "same_phone", "same_company")
    assert found[(5, 6)].reasons == ("same_name", "same_email")
    with translation.override("en"):
        labels = [str(label) for label in found[(1, 2)].reason_labels]
    assert labels == [
        "same name",
        "first and last name swapped",
        "same phone number",
    ]


def test_namesakes_and_colleagues_on_one_switchboard_are_not_duplicates():
    rows = [
        # The same common name at two companies.
        _contact(1, "Jan", "de", "Jong", "jan.dejong@acme.nl", company=1),
        _contact(2, "Jan", "de", "Jong", "jan.dejong@bouwbedrijf.nl", company=2),
        # Colleagues who give the company's switchboard number.
        _contact(3, "Piet", "", "Bakker", phone="+31201234567", company=3),
        _contact(4, "Anna", "", "Visser", phone="020-1234567", company=3),
        # Two people who share the info@ mailbox.
        _contact(5, "Kees", "", "Smit", "info@smit.nl"),
        _contact(6, "Karin", "", "Smit", "info@smit.nl"),
    ]

    assert duplicates.find_contact_duplicates(rows) == []


def test_a_huge_block_is_compared_with_neighbours_only(monkeypatch):
    """Three thousand people at one company with one switchboard number: not 4.5 million
    comparisons, and the pair that is one person is still found."""
    rows = [
        _contact(pk, f"Naam{pk}", "", f"Achternaam{pk:05d}", phone="+31201234567", company=1)
        for pk in range(1, 3001)
    ]
    rows.append(_contact(3001, "Naam17", "", "Achternaam00017", "naam17@acme.nl", company=1))
    compared = 0
    ratio = duplicates.ratio

    def counting(*args, **kwargs):
        nonlocal compared
        compared += 1
        return ratio(*args, **kwargs)

    monkeypatch.setattr(duplicates, "ratio", counting)

    found = duplicates.find_contact_duplicates(rows)

    assert (17, 3001) in _pairs(found)
    assert compared < 3001 * duplicates.WINDOW * 4 * 2


def test_companies_are_matched_on_name_key_kvk_and_domain():
    rows = [
        _company(1, "Bakkerij Jansen B.V.", city="Utrecht"),
        _company(2, "Bakkerij Jansen", city="Utrecht"),
        _company(3, "Veldhuis Techniek", kvk="12345678", city="Zwolle"),
        _company(4, "Veldhuis Techniek Installaties", kvk="12345678", city="Zwolle"),
        _company(5, "Kroonenberg Groep", domain="kroonenberg.nl", city="Amsterdam"),
        _company(6, "Kroonenbreg Groep", domain="kroonenberg.nl"),
        # The same name, another legal entity in another city: not one company.
        _company(7, "Bakkerij Jansen", kvk="87654321", city="Breda"),
        _company(8, "Bakkerij Jansen", kvk="11223344", city="Zwolle"),
    ]

    found = {(c.first_id, c.second_id): c for c in duplicates.find_company_duplicates(rows)}

    assert set(found) == {(1, 2), (3, 4), (5, 6)}
    assert found[(1, 2)].reasons == ("same_name", "same_city")
    assert "same_kvk" in found[(3, 4)].reasons
    assert "same_domain" in found[(5, 6)].reasons


# Visibility, and the review list.


@pytest.fixture
def twins_a(sales_a):
    company = CompanyFactory(owner=sales_a, name="Veldhuis Techniek")
    return [
        ContactFactory(
            company=company, owner=sales_a, first_name="Jan", name_prefix="de", last_name=name
        )
        for name in ("Vries", "Vries")
    ]


@pytest.fixture
def twins_b(sales_b):
    company = CompanyFactory(owner=sales_b, name="Zuidgas")
    return [
        ContactFactory(
            company=company, owner=sales_b, first_name="Fleur", name_prefix="", last_name=name
        )
        for name in ("Bosman", "Bosmans")
    ]


def test_a_user_sees_only_pairs_of_records_they_can_see(
    sales_a, sales_b, manager, twins_a, twins_b
):
    def pairs(user):
        return [
            {pair.first.pk, pair.second.pk}
            for pair in selectors.duplicate_pairs_for_user(user=user, kind="contact", limit=10)
        ]

    assert pairs(sales_a) == [{contact.pk for contact in twins_a}]
    assert pairs(sales_b) == [{contact.pk for contact in twins_b}]
    assert len(pairs(manager)) == 2


def test_a_merged_pair_leaves_the_list(sales_a, twins_a):
    assert len(selectors.duplicate_candidates_for_user(user=sales_a, kind="contact")) == 1

    contact_merge(actor=sales_a, survivor=twins_a[0], merged=twins_a[1], values={})

    assert selectors.duplicate_candidates_for_user(user=sales_a, kind="contact") == []


def test_the_review_list_shows_pairs_per_kind_to_read_only_users_too(
    read_only_a, sales_b, twins_a, twins_b, client_for, django_assert_max_num_queries
):
    client = client_for(read_only_a)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("dataio:duplicate-list"))

    assert page.status_code == 200
    review = reverse("dataio:duplicate-pair", args=["contact", twins_a[0].pk, twins_a[1].pk])
    assert review.encode() in page.content
    assert b"Bosman" not in page.content  # team B's
    assert b"same company" in page.content
    companies = client.get(reverse("dataio:duplicate-list"), {"kind": "company"})
    assert companies.status_code == 200
    assert b"No likely duplicates" in companies.content
    dutch = client_for(sales_b, language="nl").get(reverse("dataio:duplicate-list"))
    assert dutch.status_code == 200
