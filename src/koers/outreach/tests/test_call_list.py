"""The calling rules, shown over generated campaigns, people and call histories."""

from datetime import date, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koers.activities.models import Activity
from koers.activities.selectors import start_of
from koers.crm.models import Company, Contact, LifecycleStage
from koers.outreach import selectors, services
from koers.outreach.models import CallCampaign, CallListEntry

TODAY = date(2026, 11, 23)
OUTCOMES = [value for value in Activity.Outcome.values if value not in ("qualified", "no_show")]
LEGAL_FORMS = ["bv", "nv", "stichting", "vof", "eenmanszaak", ""]

days_ago = st.integers(min_value=0, max_value=5 * 365)
maybe_days_ago = st.none() | days_ago
person = st.fixed_dictionaries(
    {
        "company": st.none() | st.sampled_from(LEGAL_FORMS),
        "company_customer": st.booleans(),
        "company_customer_until": maybe_days_ago,
        "customer": st.booleans(),
        "customer_until": maybe_days_ago,
        "opt_in": st.none() | st.integers(min_value=-30, max_value=2000),  # < 0: in the future
        "do_not_call": st.booleans(),
        "objected": st.booleans(),
        "phone": st.booleans(),
        "call_back": st.none() | st.integers(min_value=-30, max_value=60),  # > 0: in the future
        "calls": st.lists(st.tuples(days_ago, st.sampled_from(OUTCOMES)), max_size=3),
        "other_campaign": st.sampled_from(["none", "active", "paused", "active-done"]),
    }
)


def _customer_within(days: int | None) -> bool:
    three_years_ago = TODAY.replace(year=TODAY.year - 3)
    return days is not None and TODAY - timedelta(days=days) >= three_years_ago


def may_be_called(spec: dict, *, cool_off: int, recent: int) -> bool:
    """The rules of the issue, written out once more, independently of the queries."""
    if spec["do_not_call"] or spec["objected"] or not spec["phone"]:
        return False
    is_person = spec["company"] in (None, "eenmanszaak", "")
    if is_person:
        consent = spec["opt_in"] is not None and spec["opt_in"] >= 0
        customer = (
            spec["customer"]
            or _customer_within(spec["customer_until"])
            or (
                spec["company"] is not None
                and (spec["company_customer"] or _customer_within(spec["company_customer_until"]))
            )
        )
        if not (consent or customer):
            return False
    if any(outcome == "not_interested" and ago <= cool_off for ago, outcome in spec["calls"]):
        return False
    call_back_due = spec["call_back"] is not None and spec["call_back"] <= 0
    if spec["call_back"] is not None and spec["call_back"] > 0:
        return False
    if spec["other_campaign"] == "active":
        return False
    reached = [ago for ago, outcome in spec["calls"] if outcome not in ("no_answer", "voicemail")]
    return not (not call_back_due and any(ago <= recent for ago in reached))


def _make(spec: dict, agent, other_active, other_paused) -> Contact:
    company = None
    if spec["company"] is not None:
        company = Company.objects.create(
            name="Bedrijf",
            legal_form=spec["company"],
            lifecycle_stage=LifecycleStage.CUSTOMER
            if spec["company_customer"]
            else LifecycleStage.PROSPECT,
            customer_until=_day(spec["company_customer_until"]),
        )
    contact = Contact.objects.create(
        last_name="Persoon",
        company=company,
        phone="+31201234567" if spec["phone"] else "",
        lifecycle_stage=LifecycleStage.CUSTOMER if spec["customer"] else LifecycleStage.LEAD,
        customer_until=_day(spec["customer_until"]),
        phone_opt_in_on=_day(spec["opt_in"]),
        do_not_call=spec["do_not_call"],
        objected_at=start_of(TODAY) if spec["objected"] else None,
        call_back_on=None if spec["call_back"] is None else TODAY + timedelta(spec["call_back"]),
    )
    for ago, outcome in spec["calls"]:
        moment = start_of(TODAY - timedelta(days=ago)) + timedelta(hours=12)
        Activity.objects.create(
            kind="call",
            outcome=outcome,
            subject="call",
            contact=contact,
            owner=agent,
            occurred_at=moment,
            done_at=moment,
        )
    other = {"active": other_active, "paused": other_paused, "active-done": other_active}
    if spec["other_campaign"] in other:
        CallListEntry.objects.create(
            campaign=other[spec["other_campaign"]],
            contact=contact,
            state="done" if spec["other_campaign"] == "active-done" else "open",
        )
    return contact


def _day(days: int | None) -> date | None:
    return None if days is None else TODAY - timedelta(days=days)


def _campaign(name, status, agent, **fields):
    campaign = CallCampaign.objects.create(name=name, goal="Afspraken", status=status, **fields)
    campaign.agents.add(agent)
    return campaign


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    people=st.lists(person, min_size=1, max_size=12),
    cool_off=st.integers(min_value=0, max_value=800),
    recent=st.integers(min_value=0, max_value=90),
)
def test_a_call_list_holds_exactly_the_people_the_rules_allow(people, cool_off, recent, sales_a):
    with transaction.atomic():
        campaign = _campaign(
            "Hier", "active", sales_a, cool_off_days=cool_off, recent_call_days=recent
        )
        other_active = _campaign("Actief", "active", sales_a)
        other_paused = _campaign("Gepauzeerd", "paused", sales_a)
        contacts = [_make(spec, sales_a, other_active, other_paused) for spec in people]
        for contact in contacts:
            CallListEntry.objects.create(campaign=campaign, contact=contact)
        listed = {
            entry.contact_id
            for entry in selectors.call_list(
                campaign=campaign, today=TODAY, now=start_of(TODAY) + timedelta(hours=10)
            )
        }
        allowed = {
            contact.pk
            for contact, spec in zip(contacts, people, strict=True)
            if may_be_called(spec, cool_off=cool_off, recent=recent)
        }
        assert listed == allowed
        transaction.set_rollback(True)


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(back_in=st.integers(min_value=1, max_value=400), recent=st.integers(0, 400))
def test_a_call_back_leaves_the_list_and_returns_on_its_date_with_a_task(
    back_in, recent, sales_a, manager
):
    with transaction.atomic():
        campaign = _campaign("Terugbellen", "active", sales_a, recent_call_days=recent)
        company = Company.objects.create(name="Acme", legal_form="bv")
        contact = Contact.objects.create(last_name="Jansen", company=company, phone="+3120123")
        entry = CallListEntry.objects.create(campaign=campaign, contact=contact)
        now = start_of(TODAY) + timedelta(hours=10)
        back_on = TODAY + timedelta(days=back_in)
        services.call_record(
            actor=sales_a, entry=entry, outcome="call_back", call_back_on=back_on, now=now
        )

        def listed(day: date) -> bool:
            later = start_of(day) + timedelta(hours=10)
            return (
                selectors.call_list(campaign=campaign, today=day, now=later)
                .filter(contact=contact)
                .exists()
            )

        assert not listed(TODAY)
        assert not listed(back_on - timedelta(days=1))
        assert listed(back_on)
        task = Activity.objects.get(contact=contact, done_at__isnull=True)
        assert task.owner == sales_a
        assert task.kind == "call"
        assert task.due_at.date() == back_on
        transaction.set_rollback(True)
