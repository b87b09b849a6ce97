import pytest
from django.db import connection

from koers.crm import selectors, services
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Contact, LifecycleStage
from koers.crm.search import ensure_search_indexes


def names(contacts):
    return [contact.last_name for contact in contacts]


@pytest.fixture
def people(sales_a):
    utrecht = CompanyFactory(name="Stroomlijn", city="Utrecht", owner=sales_a)
    leiden = CompanyFactory(name="Bakker Bouw", city="Leiden", owner=sales_a)
    return [
        ContactFactory(first_name="Jan", name_prefix="", last_name="Dijkstra", email="jan@stroomlijn.nl", company=utrecht, lifecycle_stage=LifecycleStage.LEAD, owner=sales_a),
        ContactFactory(first_name="Els", name_prefix="van", last_name="Dijk", email="els@bakker.nl", company=leiden, lifecycle_stage=LifecycleStage.LEAD, owner=sales_a),
        ContactFactory(first_name="Piet", name_prefix="", last_name="Aalders", email="piet@stroomlijn.nl", company=utrecht, lifecycle_stage=LifecycleStage.CUSTOMER, owner=sales_a),
    ]  # fmt: skip


def test_search_finds_part_of_a_surname(sales_a, people):
    found = selectors.contact_list_for_user(user=sales_a, q="ijk")
    assert names(found) == ["Dijk", "Dijkstra"]


def test_search_matches_every_word_across_columns(sales_a, people):
    assert names(selectors.contact_list_for_user(user=sales_a, q="jan dijk")) == ["Dijkstra"]
    assert names(selectors.contact_list_for_user(user=sales_a, q="stroomlijn.nl")) == [
        "Aalders",
        "Dijkstra",
    ]


def test_a_name_search_skips_email_domains_and_an_address_search_uses_them(sales_a, people):
    assert names(selectors.contact_list_for_user(user=sales_a, q="stroomlijn")) == []
    assert names(selectors.contact_list_for_user(user=sales_a, q="@stroomlijn")) == [
        "Aalders",
        "Dijkstra",
    ]


def test_short_words_are_matched_too(sales_a, people):
    assert names(selectors.contact_list_for_user(user=sales_a, q="El")) == ["Dijk"]


def test_search_follows_edits_and_deletes(sales_a, people):
    jan, els, _piet = people
    services.contact_update(actor=sales_a, contact=jan, last_name="Jansen")
    services.record_delete(actor=sales_a, record=els)

    assert names(selectors.contact_list_for_user(user=sales_a, q="ijk")) == []
    assert names(selectors.contact_list_for_user(user=sales_a, q="anse")) == ["Jansen"]


def test_search_input_with_quotes_or_operators_is_plain_text(sales_a, people):
    assert names(selectors.contact_list_for_user(user=sales_a, q='"dijk OR NEAR(')) == []
    assert names(selectors.contact_list_for_user(user=sales_a, q="dijk*")) == []


def test_filters_combine_city_and_stage_and_sort_by_name(sales_a, people):
    found = selectors.contact_list_for_user(
        user=sales_a, city="utrecht", lifecycle_stage=LifecycleStage.LEAD
    )
    assert names(found) == ["Dijkstra"]
    assert names(selectors.contact_list_for_user(user=sales_a, sort="-name")) == [
        "Dijkstra",
        "Dijk",
        "Aalders",
    ]


def test_company_search_finds_kvk_number_and_city(sales_a):
    CompanyFactory(name="Alpha", kvk_number="01234567", city="Zwolle", owner=sales_a)
    CompanyFactory(name="Beta", kvk_number="76543210", city="Delft", owner=sales_a)

    assert [c.name for c in selectors.company_list_for_user(user=sales_a, q="0123")] == ["Alpha"]
    assert [c.name for c in selectors.company_list_for_user(user=sales_a, q="delf")] == ["Beta"]


def test_search_never_shows_other_teams_records(sales_a, sales_b):
    ContactFactory(last_name="Dijkgraaf", company__owner=sales_b, owner=sales_b)
    assert names(selectors.contact_list_for_user(user=sales_a, q="dijk")) == []
    assert names(selectors.contact_list_for_user(user=sales_b, q="dijk")) == ["Dijkgraaf"]


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A test table is small enough to read whole; the 1M-row benchmark is not.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row) for row in cursor.fetchall())


@pytest.fixture
def crowd(people):
    """Enough other contacts that PostgreSQL's planner prefers an index to reading the table."""
    Contact.objects.bulk_create(Contact(last_name=f"Persoon {n}") for n in range(5000))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for column in ("first_name", "name_prefix", "last_name", "email"):
                # Fresh rows wait in GIN's pending list, which the planner prices high.
                cursor.execute(
                    f"SELECT gin_clean_pending_list('crm_contact_{column}_trgm'::regclass)"
                )
            cursor.execute("ANALYZE crm_contact")


def test_infix_search_uses_an_index(manager, crowd):
    plan = _plan(selectors.contact_list_for_user(user=manager, q="dijk").order_by())
    expected = (
        "crm_contact_last_name_trgm" if connection.vendor == "postgresql" else "crm_contact_search"
    )
    assert expected in plan


def test_ensure_search_indexes_repairs_what_a_table_rebuild_dropped(sales_a, manager, crowd):
    # SQLite drops triggers when Django rebuilds a table; PostgreSQL can lose an index.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before DDL
            cursor.execute("DROP INDEX crm_contact_last_name_trgm")
        else:
            cursor.execute("DROP TRIGGER crm_contact_search_ai")
    ContactFactory(last_name="Zonderindex", company=None, owner=sales_a)

    ensure_search_indexes(connection)

    assert names(selectors.contact_list_for_user(user=sales_a, q="onderinde")) == ["Zonderindex"]
    if connection.vendor == "postgresql":
        plan = _plan(selectors.contact_list_for_user(user=manager, q="dijk").order_by())
        assert "crm_contact_last_name_trgm" in plan


def test_contact_count_by_stage_on_the_start_page_counts_own_contacts(sales_a, colleague_a, people):
    ContactFactory(company=None, owner=colleague_a, lifecycle_stage=LifecycleStage.LEAD)
    summary = selectors.start_summary_for_user(user=sales_a)
    counts = {stage: count for stage, _label, count in summary["contacts_by_stage"]}
    assert counts[LifecycleStage.LEAD] == 2
    assert counts[LifecycleStage.CUSTOMER] == 1
    assert summary["my_contacts"] == Contact.objects.filter(owner=sales_a).count() == 3


def test_the_city_filter_ignores_case_beyond_ascii(sales_a):
    CompanyFactory(name="Bodensee Consulting", city="Überlingen", owner=sales_a)
    CompanyFactory(name="Elders", city="Utrecht", owner=sales_a)

    found = selectors.company_list_for_user(user=sales_a, city="  überlingen ")

    assert [company.name for company in found] == ["Bodensee Consulting"]
