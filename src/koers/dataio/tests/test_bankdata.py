"""The bank-marketing loader (bench/bankdata.py) imports through Koers's import path.

The rows below are thirty of the UCI file's 41,188 (bank-additional-full.csv, CC BY 4.0),
one (the 23rd) changed by hand to have two calls of an earlier, successful campaign.
"""

from datetime import date

from django.utils import timezone

from bench import bankdata
from koers.activities.models import Activity
from koers.crm.models import Contact
from koers.dataio.models import ImportJob

EXCERPT = """\
"age";"job";"marital";"education";"default";"housing";"loan";"contact";"month";"day_of_week";"duration";"campaign";"pdays";"previous";"poutcome";"emp.var.rate";"cons.price.idx";"cons.conf.idx";"euribor3m";"nr.employed";"y"
56;"housemaid";"married";"basic.4y";"no";"no";"no";"telephone";"may";"mon";261;1;999;0;"nonexistent";1.1;93.994;-36.4;4.857;5191;"no"
57;"services";"married";"high.school";"unknown";"no";"no";"telephone";"may";"mon";149;1;999;0;"nonexistent";1.1;93.994;-36.4;4.857;5191;"no"
37;"services";"married";"high.school";"no";"yes";"no";"telephone";"may";"mon";226;1;999;0;"nonexistent";1.1;93.994;-36.4;4.857;5191;"no"
40;"admin.";"married";"basic.6y";"no";"no";"no";"telephone";"may";"mon";151;1;999;0;"nonexistent";1.1;93.994;-36.4;4.857;5191;"no"
38;"services";"single";"high.school";"unknown";"no";"no";"telephone";"may";"mon";357;2;999;0;"nonexistent";1.1;93.994;-36.4;4.857;5191;"no"
52;"services";"single";"high.school";"no";"no";"no";"telephone";"may";"tue";455;1;999;0;"nonexistent";1.1;93.994;-36.4;4.857;5191;"no"
47;"blue-collar";"single";"basic.4y";"unknown";"yes";"no";"telephone";"may";"wed";162;1;999;0;"nonexistent";1.1;93.994;-36.4;4.856;5191;"no"
39;"blue-collar";"married";"basic.6y";"no";"yes";"no";"telephone";"may";"thu";338;2;999;0;"nonexistent";1.1;93.994;-36.4;4.855;5191;"no"
42;"self-employed";"married";"university.degree";"no";"yes";"no";"telephone";"may";"mon";1002;5;999;0;"nonexistent";1.1;93.994;-36.4;4.857;5191;"no"
32;"technician";"married";"professional.course";"no";"no";"no";"telephone";"may";"thu";27;1;999;0;"nonexistent";1.1;93.994;-36.4;4.86;5191;"no"
58;"services";"married";"basic.4y";"no";"no";"no";"telephone";"jun";"thu";322;2;999;0;"nonexistent";1.4;94.465;-41.8;4.955;5228.1;"no"
52;"management";"married";"professional.course";"no";"yes";"no";"cellular";"jul";"mon";491;3;999;0;"nonexistent";1.4;93.918;-42.7;4.96;5228.1;"yes"
42;"self-employed";"married";"university.degree";"no";"yes";"no";"cellular";"aug";"fri";219;2;999;0;"nonexistent";1.4;93.444;-36.1;4.966;5228.1;"no"
38;"blue-collar";"single";"unknown";"no";"yes";"no";"telephone";"oct";"tue";39;1;999;1;"failure";-0.1;93.798;-40.4;4.968;5195.8;"no"
37;"admin.";"married";"university.degree";"no";"yes";"no";"telephone";"nov";"wed";119;1;6;1;"success";-0.1;93.2;-42;4.286;5195.8;"no"
48;"management";"married";"university.degree";"no";"yes";"no";"cellular";"nov";"mon";112;1;4;1;"success";-0.1;93.2;-42;4.191;5195.8;"no"
42;"technician";"married";"professional.course";"no";"no";"no";"cellular";"nov";"fri";21;6;999;0;"nonexistent";-0.1;93.2;-42;4.021;5195.8;"no"
26;"admin.";"married";"university.degree";"no";"yes";"no";"cellular";"mar";"mon";154;1;999;0;"nonexistent";-1.8;92.843;-50;1.811;5099.1;"yes"
32;"technician";"married";"professional.course";"no";"yes";"no";"cellular";"apr";"wed";625;2;999;0;"nonexistent";-1.8;93.075;-47.1;1.498;5099.1;"no"
31;"technician";"single";"professional.course";"no";"yes";"no";"cellular";"apr";"mon";199;6;999;0;"nonexistent";-1.8;93.075;-47.1;1.405;5099.1;"no"
75;"retired";"married";"basic.4y";"no";"no";"no";"cellular";"apr";"tue";356;2;999;1;"failure";-1.8;93.075;-47.1;1.405;5099.1;"yes"
34;"technician";"married";"professional.course";"no";"yes";"no";"cellular";"may";"tue";185;2;999;1;"failure";-1.8;92.893;-46.2;1.344;5099.1;"no"
32;"admin.";"married";"university.degree";"no";"yes";"no";"cellular";"may";"tue";293;2;3;2;"success";-1.8;92.893;-46.2;1.266;5099.1;"no"
34;"admin.";"married";"high.school";"no";"no";"no";"cellular";"jul";"fri";59;7;999;0;"nonexistent";-2.9;92.469;-33.6;1.059;5076.2;"no"
39;"self-employed";"divorced";"high.school";"no";"no";"no";"cellular";"sep";"tue";261;1;3;1;"success";-3.4;92.379;-29.8;0.788;5017.5;"yes"
38;"technician";"single";"university.degree";"no";"yes";"no";"cellular";"dec";"mon";329;2;999;0;"nonexistent";-3;92.713;-33;0.717;5023.5;"yes"
29;"technician";"single";"high.school";"no";"yes";"no";"telephone";"jun";"wed";6;1;999;0;"nonexistent";-1.7;94.055;-39.8;0.767;4991.6;"no"
32;"admin.";"married";"university.degree";"no";"no";"no";"telephone";"aug";"fri";75;1;999;0;"nonexistent";-1.7;94.027;-38.3;0.898;4991.6;"no"
54;"services";"divorced";"high.school";"no";"yes";"no";"cellular";"oct";"wed";487;3;999;2;"failure";-1.1;94.601;-49.5;1.016;4963.6;"yes"
74;"retired";"married";"professional.course";"no";"yes";"no";"cellular";"nov";"fri";239;3;999;1;"failure";-1.1;94.767;-50.8;1.028;4963.6;"no"
"""


def _calls(number: int) -> list[tuple[date, str]]:
    contact = Contact.objects.get(external_id=f"bank-{number}")
    return [
        (timezone.localtime(call.occurred_at).date(), call.outcome)
        for call in Activity.objects.filter(contact=contact, kind="call").order_by("occurred_at")
    ]


def test_the_excerpt_becomes_contacts_with_custom_fields_and_their_call_history(
    admin_user, tmp_path
):
    path = tmp_path / "bank-excerpt.csv"
    path.write_text(EXCERPT, encoding="utf-8")

    result = bankdata.bank_import(path, actor=admin_user)

    assert {key: result[key] for key in ("rows", "contacts", "activities", "rejected")} == {
        "rows": 30,
        "contacts": 30,
        "activities": 76,  # the sum of campaign and previous
        "rejected": 0,
    }
    # Through the import jobs, as `koers import` runs them.
    jobs = ImportJob.objects.order_by("id")
    assert [(job.target, job.status, job.created_count) for job in jobs] == [
        ("contacts", "done", 30),
        ("activities", "done", 76),
    ]
    first = Contact.objects.get(external_id="bank-1")
    assert (first.first_name, first.last_name, first.lifecycle_stage) == ("Klant", "1", "lead")
    assert (first.phone, first.mobile) == ("+31205000001", "")
    assert first.custom_fields == {
        "age": 56,
        "job": "housemaid",
        "marital": "married",
        "education": "basic.4y",
        "default": "no",
        "housing": "no",
        "loan": "no",
        "emp.var.rate": 1.1,
        "cons.price.idx": 93.994,
        "cons.conf.idx": -36.4,
        "euribor3m": 4.857,
        "nr.employed": 5191,
    }
    twelfth = Contact.objects.get(external_id="bank-12")
    assert (twelfth.lifecycle_stage, twelfth.mobile, twelfth.phone) == (
        "customer",
        "+31610000012",
        "",
    )
    assert Contact.objects.filter(lifecycle_stage="customer").count() == 6
    assert not any("duration" in contact.custom_fields for contact in Contact.objects.all())

    # The decisive call, the campaign's earlier ones a day apart, the earlier campaign's.
    assert _calls(1) == [(date(2008, 5, 5), "not_interested")]
    assert _calls(9)[-1] == (date(2008, 5, 12), "not_interested")  # the next week's Monday
    assert _calls(12) == [
        (date(2008, 7, 5), "no_answer"),
        (date(2008, 7, 6), "no_answer"),
        (date(2008, 7, 7), "conversation"),
    ]
    assert _calls(18) == [(date(2009, 3, 2), "conversation")]  # March after November: 2009
    assert _calls(23) == [
        (date(2009, 4, 25), "meeting_booked"),
        (date(2009, 5, 2), "meeting_booked"),  # pdays 3 before the decisive call
        (date(2009, 5, 4), "no_answer"),
        (date(2009, 5, 5), "not_interested"),
    ]
    assert _calls(29) == [
        (date(2010, 6, 1), "not_interested"),
        (date(2010, 6, 8), "not_interested"),  # pdays 999: 120 days before
        (date(2010, 10, 4), "no_answer"),
        (date(2010, 10, 5), "no_answer"),
        (date(2010, 10, 6), "conversation"),
    ]

    # Loading it again updates the contacts instead of making twins.
    again = bankdata.bank_import(path, actor=admin_user, limit=5)
    assert (again["contacts_created"], again["contacts_updated"]) == (0, 5)
    assert Contact.objects.count() == 30
