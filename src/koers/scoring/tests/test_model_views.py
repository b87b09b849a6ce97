"""The predictive score in the product: the contact's panel, the model card and retraining,
the priority matrix on the start page, and the contact list and call lists by chance."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from koers.activities.models import Activity
from koers.core.models import User
from koers.crm import sbi
from koers.crm.factories import CompanyFactory, ContactFactory
from koers.scoring import conversion, model_views
from koers.scoring.models import (
    CompanyFit,
    ConversionModel,
    ConversionScore,
    EngagementScore,
    ScoringJob,
)

CHANGING = [User.Role.ADMIN, User.Role.MANAGER, User.Role.MARKETING]
NOT_CHANGING = [User.Role.SALES, User.Role.SUCCESS, User.Role.READ_ONLY]
NOW = timezone.now().replace(microsecond=0)
# The history's one difference between customers and no's: software companies buy.
BUYING, NOT_BUYING = "62", "41"


def _person(owner, industry: str, **fields):
    """A contact whose every attribute but the industry is the same as the others'."""
    company = CompanyFactory(
        industry=industry,
        employee_band="10-49",
        revenue_band="1m-10m",
        country="NL",
        owner=owner,
        city="Utrecht",
        legal_form="bv",  # a business call needs no opt-in (outreach.rules)
    )
    same = {
        "function": "ceo",
        "dmu_role": "decision_maker",
        "lead_source": "website",
        "mobile": "",
        "phone": "+31301234567",
    }
    return ContactFactory(company=company, owner=owner, **(same | fields))


def _call(contact, outcome: str, at):
    Activity.objects.create(
        kind=Activity.Kind.CALL,
        outcome=outcome,
        subject="Call",
        contact=contact,
        owner=contact.owner,
        occurred_at=at,
        done_at=at,
    )


def build_history(owner, *, each: int = 34) -> None:
    """Customers mostly from software companies and no's mostly from construction (one in
    four the other way round), decided on the same days: a conversation before becoming a
    customer, "not interested" on a call."""
    for day in range(each):
        at = NOW - timedelta(days=2 * each - 2 * day)
        usual = day % 4 != 3
        customer = _person(owner, BUYING if usual else NOT_BUYING, lifecycle_stage="customer")
        _call(customer, Activity.Outcome.CONVERSATION, at)
        said_no = _person(owner, NOT_BUYING if usual else BUYING, lifecycle_stage="lead")
        _call(said_no, Activity.Outcome.NOT_INTERESTED, at)


def _card(**changes) -> dict:
    deciles = [
        {"predicted": 0.9 - 0.09 * index, "actual": 0.8 - 0.08 * index, "lift": 2.47 - 0.2 * index}
        for index in range(10)
    ]
    figures = {
        "auc": 0.8243,
        "brier": 0.0716,
        "top10": 0.3125,
        "top20": 0.5521,
        "rows": 400,
        "rate": 0.24,
        "deciles": deciles,
    }
    card = {
        "cv": figures,
        "baseline": figures | {"auc": 0.7012, "brier": 0.1534, "top10": 0.1875, "top20": 0.3333},
        "time_split": figures
        | {"auc": 0.7777, "brier": 0.0999, "rows": 80, "rate": 0.3, "train_rate": 0.225},
        "negatives": 304,
        "base_probability": 0.21,
        "thresholds": [["A", 0.55], ["B", 0.32], ["C", 0.12], ["D", 0.0]],
        "features": [
            {"name": "industry", "importance": 0.91},
            {"name": "conversations", "importance": 0.42},
            {"name": "custom:Budget", "importance": 0.1},
        ],
        "drift": {
            "rows": 120,
            "shifted": [],
            "rate": 0.25,
            "train_rate": 0.24,
            "rate_warning": False,
        },
    }
    return card | changes


def _stored_model(**changes) -> ConversionModel:
    return ConversionModel.objects.create(
        trained_at=NOW - timedelta(days=2),
        status=ConversionModel.Status.READY,
        rows=400,
        positives=96,
        card=_card(**changes),
    )


def _text(html: str) -> str:
    """What a reader sees: the words without the tags, spaced as on screen."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return unescape(re.sub(r" ([,.])", r"\1", text))


def _testid(html: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>(.*?)</', html, re.S)
    return unescape(found.group(1).strip()) if found else ""


# The model card


@pytest.mark.parametrize("role", CHANGING + NOT_CHANGING)
def test_everyone_reads_the_model_card_and_only_some_may_retrain(role, make_user, client_for):
    _stored_model()
    html = client_for(make_user(role)).get(reverse("scoring:model")).content.decode()
    assert ('data-testid="retrain"' in html) is (role in CHANGING)


def test_the_model_card_shows_the_stored_figures_next_to_the_baseline(sales_a, client_for):
    _stored_model()
    response = client_for(sales_a).get(reverse("scoring:model"))
    assert response.status_code == 200
    html = response.content.decode()
    auc = html[html.index('data-testid="figure-auc"') :]
    assert _testid(auc, "figure-model") == "0.82"
    assert _testid(auc, "figure-baseline") == "0.70"
    brier = html[html.index('data-testid="figure-brier"') :]
    assert (_testid(brier, "figure-model"), _testid(brier, "figure-baseline")) == ("0.072", "0.153")
    top10 = html[html.index('data-testid="figure-top10"') :]
    assert (_testid(top10, "figure-model"), _testid(top10, "figure-baseline")) == ("31.3%", "18.8%")
    top20 = html[html.index('data-testid="figure-top20"') :]
    assert (_testid(top20, "figure-model"), _testid(top20, "figure-baseline")) == ("55.2%", "33.3%")
    assert _testid(html, "model-outcomes") == "96 · 304"
    assert _testid(html, "split-auc") == "0.78"
    assert _testid(html, "split-train-rate") == "22%"
    assert _testid(html, "split-test-rate") == "30%"
    assert re.findall(r'data-testid="decile-lift">([^<]+)<', html)[:2] == ["2.47", "2.27"]
    lift = re.search(r'id="model-lift" type="application/json">([^<]+)<', html).group(1)
    assert '"values": [2.47, 2.27, 2.07' in lift
    calibration = re.search(r'id="model-calibration" type="application/json">([^<]+)<', html)
    assert '"values": [90.0, 81.0' in calibration.group(1)
    assert '"totals": [80.0, 72.0' in calibration.group(1)
    features = _text(html[html.index('data-testid="model-features"') :])
    assert (
        features.index("Industry")
        < features.index("Conversations before")
        < features.index("Budget")
    )
    assert 'data-testid="no-drift"' in html
    assert "warning-" not in html


def test_the_model_card_warns_when_outcomes_and_contacts_drift(sales_a, client_for):
    _stored_model(
        drift={
            "rows": 120,
            "shifted": [["industry", 0.61]],
            "rate": 0.55,
            "train_rate": 0.24,
            "rate_warning": True,
        },
        scoring_drift={"rows": 900, "shifted": [["web_visits", 0.33], ["country", 0.27]]},
    )
    html = client_for(sales_a).get(reverse("scoring:model")).content.decode()
    rate = _text(html[html.index('data-testid="warning-rate"') :])
    assert "Lately 55% of the decided contacts became customers, against 24%" in rate
    recent = _text(html[html.index('data-testid="warning-recent"') :])
    assert "Industry (shift 0.61)" in recent
    scoring = _text(html[html.index('data-testid="warning-scoring"') :])
    assert "Website activity (90 days) (shift 0.33), Country (shift 0.27)" in scoring
    assert 'data-testid="no-drift"' not in html


def test_the_model_card_says_when_too_few_contacts_were_decided_to_check_drift(sales_a, client_for):
    _stored_model(
        drift={"rows": 29, "shifted": [], "rate": 0.3, "train_rate": 0.24, "rate_warning": False}
    )
    html = client_for(sales_a).get(reverse("scoring:model")).content.decode()
    assert "Only 29 contacts were decided recently: too few to compare with the history" in (
        _text(html)
    )
    assert 'data-testid="no-drift"' not in html


def test_without_a_model_the_card_says_what_is_needed_and_what_counts_meanwhile(
    sales_a, client_for
):
    html = client_for(sales_a).get(reverse("scoring:model")).content.decode()
    assert "No predictive model yet" in html
    assert "It needs at least 30 of each." in _text(html)
    assert "prioritised by ICP fit × engagement" in _text(html)


def test_with_too_little_history_the_card_counts_customers_and_nos(sales_a, client_for):
    ConversionModel.objects.create(
        trained_at=NOW,
        status=ConversionModel.Status.TOO_LITTLE,
        rows=19,
        positives=12,
        card={"negatives": 7, "need": 30},
    )
    html = client_for(sales_a).get(reverse("scoring:model")).content.decode()
    assert "Too little history to learn from yet" in html
    assert "there were 12 customers and 7 no's" in _text(html)
    assert 'data-testid="model-fallback"' in html


def test_a_ready_model_stays_in_use_after_a_training_with_too_little(sales_a, client_for):
    _stored_model()
    ConversionModel.objects.create(
        trained_at=NOW,
        status=ConversionModel.Status.TOO_LITTLE,
        rows=19,
        positives=12,
        card={"negatives": 7, "need": 30},
    )
    html = client_for(sales_a).get(reverse("scoring:model")).content.decode()
    notice = _text(html[html.index('data-testid="model-too-little"') :])
    assert "12 customers and 7 no's, where the model needs 30 of each" in notice
    assert _testid(html, "stat-auc") == "0.82"


# Retraining


@pytest.mark.parametrize("role", NOT_CHANGING)
def test_retraining_is_refused_to_other_roles(role, make_user, client_for):
    response = client_for(make_user(role)).post(reverse("scoring:model-retrain"))
    assert response.status_code == 403
    assert not ScoringJob.objects.exists()


def test_retraining_is_a_get_free_post(manager, client_for):
    assert client_for(manager).get(reverse("scoring:model-retrain")).status_code == 405


def test_retrain_trains_then_scores_every_open_contact_with_progress(
    manager, sales_a, client_for, django_capture_on_commit_callbacks
):
    build_history(sales_a)
    waiting = _person(sales_a, BUYING, lifecycle_stage="lead")
    client = client_for(manager)
    # The job writes its message in the worker's language.
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scoring:model-retrain"))
    assert response.status_code == 302
    job = ScoringJob.objects.get()
    assert (job.kind, job.status, job.created_by) == ("train", "done", manager)
    assert job.done == job.total == conversion.predict.FOLDS + 3 + 1
    model = ConversionModel.objects.get()
    assert (model.status, model.rows, model.positives) == ("ready", 68, 34)
    # The 34 no's are still open (leads), and so is the one waiting.
    scored = set(ConversionScore.objects.values_list("contact_id", flat=True))
    assert waiting.pk in scored
    assert len(scored) == 35
    assert job.message == "Trained on 68 decided contacts; 35 open contacts scored."
    html = client.get(reverse("scoring:model")).content.decode()
    assert _testid(html, "job-message") == job.message
    assert _testid(html, "model-outcomes") == "34 · 34"


def test_retrain_with_too_little_history_says_so(
    admin_user, client_for, django_capture_on_commit_callbacks
):
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        client_for(admin_user).post(reverse("scoring:model-retrain"))
    job = ScoringJob.objects.get()
    assert job.status == "done"
    assert job.message == (
        "Too little history to train: 0 customers and 0 no's; the model needs 30 of each."
    )


# The contact's page


def test_a_contact_page_shows_the_chance_its_grade_and_the_reasons(sales_a, client_for):
    build_history(sales_a)
    conversion.model_train()
    conversion.conversions_predict()
    likely = _person(sales_a, BUYING, lifecycle_stage="lead")
    unlikely = _person(sales_a, NOT_BUYING, lifecycle_stage="lead")
    client = client_for(sales_a)
    _model, trained = conversion.trained_model()
    shown = {}
    for contact in (likely, unlikely):
        html = client.get(contact.get_absolute_url()).content.decode()
        panel = html[html.index('data-testid="conversion-panel"') :]
        shown[contact] = _testid(panel, "conversion-probability")
        prediction = model_views.selectors.conversion_explained(contact)
        assert shown[contact] == model_views.percent(prediction.probability)
        assert _testid(panel, "conversion-grade") == trained.grade(prediction.probability)
        reasons = _text(panel[panel.index('data-testid="conversion-reasons"') :])
        with translation.override("en"):
            industry = str(sbi.DIVISIONS[contact.company.industry])
        assert f"Industry: {industry}" in reasons
    assert int(shown[likely].strip("<>%")) > int(shown[unlikely].strip("<>%"))
    assert "×" in _testid(panel, "reason-odds")
    assert _testid(panel, "conversion-priority") == "– · 1"


def _too_little_history(owner):
    contact = _person(owner, BUYING, lifecycle_stage="lead")
    CompanyFit.objects.create(company=contact.company, score=80, grade="A", computed_at=NOW)
    EngagementScore.objects.create(contact=contact, score=40, scored_at=timezone.now())
    ConversionModel.objects.create(
        trained_at=NOW,
        status=ConversionModel.Status.TOO_LITTLE,
        rows=9,
        positives=5,
        card={"negatives": 4, "need": 30},
    )
    return contact


@pytest.mark.parametrize("role", CHANGING)
def test_without_a_model_the_panel_counts_the_history_and_shows_the_priority(
    role, sales_a, make_user, client_for
):
    contact = _too_little_history(sales_a)
    html = client_for(make_user(role)).get(contact.get_absolute_url()).content.decode()
    panel = _text(html[html.index('data-testid="conversion-panel"') :])
    assert "needs at least 30 customers and 30 contacts who said no" in panel
    assert "So far there are 5 customers and 4 no's." in panel
    assert _testid(html, "conversion-priority") == "A · 3"
    assert 'data-testid="conversion-probability"' not in html


def test_the_history_counts_over_every_contact_are_not_shown_to_sales(sales_a, client_for):
    contact = _too_little_history(sales_a)
    html = client_for(sales_a).get(contact.get_absolute_url()).content.decode()
    panel = _text(html[html.index('data-testid="conversion-too-little"') :])
    assert "Too little history to learn from yet." in panel
    assert "So far" not in panel
    assert "5 customers" not in panel
    assert _testid(html, "conversion-priority") == "A · 3"


def test_a_customer_gets_no_prediction(sales_a, client_for):
    customer = _person(sales_a, BUYING, lifecycle_stage="customer")
    html = client_for(sales_a).get(customer.get_absolute_url()).content.decode()
    assert 'data-testid="conversion-decided"' in html
    assert 'data-testid="conversion-probability"' not in html


# The priority matrix


def test_the_start_page_loads_the_priority_matrix(sales_a, client_for):
    html = client_for(sales_a).get(reverse("core:start")).content.decode()
    assert 'data-testid="priority-section"' in html
    assert f'hx-get="{reverse("scoring:priority")}"' in html


def test_the_priority_matrix_counts_only_the_open_contacts_the_user_may_see(
    sales_a, sales_b, client_for
):
    mine = [_person(sales_a, BUYING, lifecycle_stage="lead") for _ in range(3)]
    CompanyFit.objects.create(company=mine[0].company, score=90, grade="A", computed_at=NOW)
    CompanyFit.objects.create(company=mine[1].company, score=90, grade="A", computed_at=NOW)
    EngagementScore.objects.create(contact=mine[0], score=70, scored_at=timezone.now())
    _person(sales_a, BUYING, lifecycle_stage="customer")
    hidden = [_person(sales_b, BUYING, lifecycle_stage="lead") for _ in range(4)]
    for contact in hidden:
        CompanyFit.objects.create(company=contact.company, score=90, grade="A", computed_at=NOW)
    html = client_for(sales_a).get(reverse("scoring:priority")).content.decode()
    assert _testid(html, "priority-A-4") == "1"
    assert _testid(html, "priority-A-1") == "1"
    assert _testid(html, "priority-none-1") == "1"
    counts = re.findall(r'data-testid="priority-[A-Dn][a-z]*-\d">(\d+)<', html)
    assert sum(int(count) for count in counts) == 3
    link = re.search(r'href="([^"]+)"[^>]*data-testid="priority-A-1"', html).group(1)
    assert link == "/contacts/?fit=A&amp;engagement=1&amp;open=1"
    listed = client_for(sales_a).get(link.replace("&amp;", "&")).content.decode()
    assert re.findall(r'href="/contacts/(\d+)/"', listed) == [str(mine[1].pk)]


# The contact list


def test_the_contact_list_filters_by_fit_and_engagement(sales_a, client_for):
    hot, cold, other = (_person(sales_a, BUYING, lifecycle_stage="lead") for _ in range(3))
    CompanyFit.objects.create(company=hot.company, score=90, grade="B", computed_at=NOW)
    CompanyFit.objects.create(company=cold.company, score=90, grade="B", computed_at=NOW)
    EngagementScore.objects.create(contact=hot, score=35, scored_at=timezone.now())
    client = client_for(sales_a)

    def listed(query):
        html = client.get(f"/contacts/?{query}").content.decode()
        return set(map(int, re.findall(r'href="/contacts/(\d+)/"', html)))

    assert listed("fit=B") == {hot.pk, cold.pk}
    assert listed("fit=B&engagement=3") == {hot.pk}
    assert listed("fit=none") == {other.pk}
    assert listed("engagement=1") == {cold.pk, other.pk}
    assert listed("fit=Z") == {hot.pk, cold.pk, other.pk}  # not a grade: no filter


def test_the_contact_list_sorts_by_chance_and_shows_the_priority(
    sales_a, sales_b, client_for, django_assert_max_num_queries
):
    model = _stored_model()
    people = [_person(sales_a, BUYING, lifecycle_stage="lead") for _ in range(3)]
    _person(sales_a, BUYING, lifecycle_stage="lead")  # not scored: left out of this order
    hidden = _person(sales_b, BUYING, lifecycle_stage="lead")
    for contact, probability, grade in zip(
        [*people, hidden], (0.31, 0.77, 0.05, 0.99), "BADA", strict=True
    ):
        ConversionScore.objects.create(
            contact=contact, probability=probability, grade=grade, model=model, scored_at=NOW
        )
    client = client_for(sales_a)
    client.get("/contacts/")  # settings and sessions made once
    with django_assert_max_num_queries(12):
        html = client.get("/contacts/?sort=-probability").content.decode()
    ids = list(map(int, re.findall(r'href="/contacts/(\d+)/"', html)))
    assert ids == [people[1].pk, people[0].pk, people[2].pk]
    assert re.findall(r'data-testid="priority-chance">([^<]+)<', html) == [
        "A 77%",
        "B 31%",
        "D 5%",
    ]
    header = html[html.index('data-testid="column-priority"') :]
    assert 'href="?sort=-probability"' in header[: header.index("</th>")]


def test_without_scores_the_list_offers_no_sort_by_chance(sales_a, client_for):
    _person(sales_a, BUYING, lifecycle_stage="lead")
    html = client_for(sales_a).get("/contacts/").content.decode()
    header = html[html.index('data-testid="column-priority"') :]
    assert header[: header.index("</th>")].count("sort=") == 0
