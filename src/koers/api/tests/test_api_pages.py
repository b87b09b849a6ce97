"""Pages written as JSON by PostgreSQL (koers.api.pages) answer exactly what the Python
path answers: the same records, values, dates and times, and the same cursors."""

import json
import re
from datetime import UTC, date, datetime

import pytest
from django.core import signing
from django.db import connection

from koers.api import pages
from koers.api.common import CURSOR_SALT
from koers.api.routers import events
from koers.api.tests.client import bearer
from koers.crm import selectors
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.crm.models import Company, Contact
from koers.tracking.models import Event

# A second without a fraction, one with a fraction of a millisecond only, and the last
# microsecond of a second (cut, not rounded, to milliseconds).
MOMENTS = [
    datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
    datetime(2025, 3, 1, 9, 30, 0, 500, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2025, 3, 1, 9, 30, 0, 123_456, tzinfo=UTC),
]
ODD_TEXT = ['Zoë "Q" \\ van \'t Hof', "Émile\nRégnier 😀", "</script><b>", "plain"]


@pytest.fixture
def records(sales_a, colleague_a, sales_b):
    company = CompanyFactory(
        owner=sales_a,
        name=ODD_TEXT[0],
        technologies=["Exact Online", "Zoë"],
        custom_fields={"score": 1.5, "big": 10**15, "note": ODD_TEXT[1]},
        customer_until=date(2026, 1, 31),
    )
    made = []
    for index, text in enumerate(ODD_TEXT * 2):
        contact = ContactFactory(
            owner=colleague_a if index % 2 else sales_a,
            company=company if index % 3 else None,
            first_name=text,
            last_name=ODD_TEXT[index % 2],  # equal last names: the cursor's ties
            job_title=text,
            custom_fields={"n": index, "f": index / 3, "t": text} if index % 2 else {},
            call_back_on=date(2026, 2, index + 1) if index % 2 else None,
            do_not_call=bool(index % 2),
        )
        made.append(contact)
        moment = MOMENTS[index % len(MOMENTS)]
        Contact.objects.filter(pk=contact.pk).update(created_at=moment, updated_at=moment)
        Event.objects.create(
            kind=Event.Kind.PAGE_VIEW,
            occurred_at=MOMENTS[(index + 1) % len(MOMENTS)],
            contact=contact,
            url=f'https://example.nl/{index}?q="{text}"',
            title=text,
            engaged_seconds=index or None,
            properties={"plan": text, "seats": index},
        )
    CompanyFactory.create_batch(3, owner=colleague_a)
    # Changed in an order of their own: -updated is not -created.
    for company_id, moment in zip(
        Company.objects.order_by("id").values_list("id", flat=True),
        [MOMENTS[2], MOMENTS[0], MOMENTS[3], MOMENTS[1]],
        strict=True,
    ):
        Company.objects.filter(pk=company_id).update(updated_at=moment)
    ContactFactory(owner=sales_b)  # another team's: in neither answer
    return made


def _walk(client, url: str, sort: str, filters: dict) -> list[dict]:
    """Every page of a list in this order, two records at a time, as the answers' JSON."""
    answers, cursor = [], ""
    while True:
        query = {**filters, "sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
        answer = client.get(url, query)
        assert answer.status_code == 200, answer.content
        body = json.loads(answer.content)
        # What the cursor holds: its text is signed with the second it was made in.
        answers.append(
            {**body, "next": body["next"] and signing.loads(body["next"], salt=CURSOR_SALT)}
        )
        if not body["next"]:
            return answers
        cursor = body["next"]


KINDS = {
    "contacts": (selectors.contact_list_for_user, selectors.CONTACT_SORTS),
    "companies": (selectors.company_list_for_user, selectors.COMPANY_SORTS),
    "events": (events.event_list, events.SORTS),
}
# A filter of each kind that leaves more than one page (given the colleague's id).
FILTERS = {
    "contacts": lambda colleague: {"owner": "me"},
    "companies": lambda colleague: {"owner": str(colleague.pk)},
    "events": lambda colleague: {"kind": "page_view"},
}


@pytest.mark.parametrize("filtered", [False, True], ids=["all", "filtered"])
@pytest.mark.parametrize("kind", KINDS)
def test_pages_from_postgresql_answer_what_python_answers(
    sales_a, colleague_a, records, kind, filtered, monkeypatch
):
    client = bearer(sales_a)
    list_for_user, sorts = KINDS[kind]
    filters = FILTERS[kind](colleague_a) if filtered else {}
    for sort in sorts:
        from_database = _walk(client, f"/api/v1/{kind}", sort, filters)
        with monkeypatch.context() as patch:
            patch.setattr(pages, "available", lambda: False)
            from_python = _walk(client, f"/api/v1/{kind}", sort, filters)
        assert from_database == from_python
        ids = [row["id"] for page in from_python for row in page["results"]]
        expected = list_for_user(user=sales_a, sort=sort, **filters).order_by(*sorts[sort])
        assert ids == list(expected.values_list("id", flat=True))
        assert len(from_python) > 1  # more than one page, so cursors were followed


def test_postgresql_writes_the_page_itself(sales_a, records):
    answer = bearer(sales_a).get("/api/v1/contacts")
    # json_agg's spacing (none after a colon): the page came as text from the database.
    from_database = re.search(rb'\{"id":[0-9]', answer.content) is not None
    assert from_database == (connection.vendor == "postgresql")
    first = json.loads(answer.content)["results"][0]
    assert first["created_at"] in {
        "2025-03-01T09:30:00Z",
        "2025-03-01T09:30:00.000Z",
        "1999-12-31T23:59:59.999Z",
        "2025-03-01T09:30:00.123Z",
    }


def test_a_kept_query_follows_a_team_change(
    admin_user, sales_a, sales_b, team_b, django_capture_on_commit_callbacks
):
    from koers.core.services import user_update

    ContactFactory(owner=sales_a, last_name="Eigen")
    ContactFactory(owner=sales_b, last_name="Ander")
    client = bearer(sales_a)
    assert [row["last_name"] for row in client.get("/api/v1/contacts").json()["results"]] == [
        "Eigen"
    ]

    with django_capture_on_commit_callbacks(execute=True):
        user_update(actor=admin_user, user=sales_a, team=team_b)

    names = [row["last_name"] for row in client.get("/api/v1/contacts").json()["results"]]
    assert names == ["Ander", "Eigen"]  # team B's, theirs now too


def test_a_foreign_cursor_is_refused_on_both_paths(sales_a, records, monkeypatch):
    client = bearer(sales_a)
    cursor = client.get("/api/v1/events", {"limit": 1}).json()["next"]
    assert client.get("/api/v1/contacts", {"cursor": cursor}).status_code == 422
    monkeypatch.setattr(pages, "available", lambda: False)
    assert client.get("/api/v1/contacts", {"cursor": cursor}).status_code == 422


def _prepared_pages() -> list[tuple[str, int]]:
    """The page queries PostgreSQL keeps prepared on this connection, and how many times
    each was run with a plan made for any value."""
    if connection.vendor != "postgresql":
        return []  # SQLite keeps no statements by name; the Python path answers there
    with connection.cursor() as db:
        db.execute(
            "SELECT statement, generic_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%json_agg%"],
        )
        return db.fetchall()


def test_pages_are_prepared_and_planned_for_their_values(sales_a, records):
    client = bearer(sales_a)
    # psycopg prepares a query from its fifth time on a connection (prepare_threshold), and
    # PostgreSQL would try a plan for any value from the sixth run of a statement on.
    for _ in range(8):
        assert client.get("/api/v1/contacts", {"owner": "me"}).status_code == 200
        assert client.get("/api/v1/contacts").status_code == 200

    prepared = _prepared_pages()
    assert len(prepared) == (2 if connection.vendor == "postgresql" else 0)
    assert [generic for _statement, generic in prepared] == [0] * len(prepared)
    if connection.vendor == "postgresql":  # and will be: koers.core.db sets it so
        with connection.cursor() as db:
            db.execute("SHOW plan_cache_mode")
            assert db.fetchone()[0] == "force_custom_plan"
