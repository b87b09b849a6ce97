"""The predictive model learns from decided contacts, explains exactly, and says when it
cannot (too little history) or should not be trusted (drift)."""

import math
from datetime import datetime, timedelta

import numpy as np
import pytest
import time_machine
from django.utils import timezone

from koers.activities.models import Activity
from koers.crm.factories import ContactFactory
from koers.crm.models import Contact, LifecycleStage
from koers.crm.services import contact_update
from koers.scoring import conversion, predict
from koers.scoring.models import ConversionModel, ConversionScore
from koers.scoring.selectors import conversion_explained

Outcome = Activity.Outcome
ZONE = timezone.get_current_timezone()
START = datetime(2025, 3, 3, 10, 0, tzinfo=ZONE)  # a Monday


def person(stage=LifecycleStage.LEAD, **custom):
    return ContactFactory(
        company=None,
        lifecycle_stage=stage,
        function="",
        job_title="",
        dmu_role="",
        lead_source="",
        email="",
        phone="",
        mobile="",
        custom_fields=custom,
    )


def call(contact, at, outcome):
    return Activity.objects.create(
        kind=Activity.Kind.CALL,
        contact=contact,
        subject="Bellen",
        outcome=outcome,
        occurred_at=at,
        done_at=at,
    )


def history(count=120, *, converting=None):
    """Decided contacts, a minute apart: segment "zorg" converts three times in four,
    "bouw" one in four (unless `converting(index)` says); each had an unanswered call,
    then the call that decided."""
    for index in range(count):
        segment = "zorg" if index % 2 else "bouw"
        converts = (index // 2 % 4 != 0) if segment == "zorg" else (index // 2 % 4 == 0)
        if converting:
            converts = converting(index)
        contact = person(
            LifecycleStage.CUSTOMER if converts else LifecycleStage.LEAD, segment=segment
        )
        decided = START + timedelta(minutes=index)
        call(contact, decided - timedelta(days=1), Outcome.NO_ANSWER)
        call(contact, decided, Outcome.CONVERSATION if converts else Outcome.NOT_INTERESTED)


@pytest.fixture
def trained(db):
    history()
    model = conversion.model_train()
    assert model.status == ConversionModel.Status.READY
    return model


def test_features_describe_the_moment_before_the_outcome(db, admin_user):
    contact = person(segment="zorg")
    call(contact, START - timedelta(days=30), Outcome.NOT_INTERESTED)  # an earlier campaign
    call(contact, START - timedelta(days=2), Outcome.NO_ANSWER)
    call(contact, START - timedelta(days=1), Outcome.VOICEMAIL)
    call(contact, START, Outcome.CONVERSATION)  # the call that decided: not a feature
    with time_machine.travel(START + timedelta(days=1)):
        contact_update(actor=admin_user, contact=contact, lifecycle_stage=LifecycleStage.CUSTOMER)
    call(contact, START + timedelta(days=5), Outcome.CONVERSATION)  # a customer by then
    with time_machine.travel(START + timedelta(days=9)):  # when it stopped: not the moment
        contact_update(
            actor=admin_user, contact=contact, lifecycle_stage=LifecycleStage.FORMER_CUSTOMER
        )

    records = predict.training_records()
    assert records.ids.tolist() == [contact.pk]
    assert records.label.tolist() == [1]
    assert records.at.tolist() == [START.timestamp()]
    values = predict.feature_values(records, predict.FIXED)
    assert values["calls_unanswered"].tolist() == [2]
    assert values["conversations"].tolist() == [1]
    assert values["days_since_conversation"].tolist() == [30]
    assert values["last_outcome"].tolist() == [Outcome.NOT_INTERESTED]
    assert values["month"].tolist() == ["3"]
    assert values["weekday"].tolist() == ["1"]  # Monday, in the team's time zone


def test_a_field_filled_only_for_customers_is_left_out(db):
    history()
    for contact in Contact.objects.filter(lifecycle_stage=LifecycleStage.CUSTOMER):
        contact.custom_fields["klantnummer"] = contact.pk  # given when they signed
        contact.save()
    names = [feature.name for feature in predict.custom_features(predict.training_records())]
    assert names == ["custom:segment"]


def test_explanations_add_up_exactly_to_the_log_odds(trained):
    fitted = conversion.trained_model()[1]
    open_ones = [person(segment=segment) for segment in ("zorg", "bouw", "")]
    for contact in open_ones:
        call(contact, timezone.now() - timedelta(days=3), Outcome.NO_ANSWER)
    records = predict.open_records(open_ones[0].pk, open_ones[-1].pk)
    values = predict.feature_values(records, fitted.features)
    x = fitted.matrix(values)
    logodds = fitted.logodds(x)
    pushes = fitted.contributions(x)
    np.testing.assert_allclose(fitted.base_logodds + pushes.sum(axis=1), logodds, atol=1e-9)
    # The model learnt the segment: a "zorg" contact is likelier than a "bouw" one.
    assert logodds[0] > logodds[1]

    shown = conversion_explained(open_ones[0], shown=50)
    total = sum(f.contribution for f in shown.up + shown.down)
    base = math.log(shown.base_probability / (1 - shown.base_probability))
    assert shown.probability == pytest.approx(1 / (1 + math.exp(-(base + total))), abs=1e-9)
    assert shown.up[0].feature == "custom:segment"
    assert shown.up[0].value == "zorg"
    assert shown.grade in "ABCD"


def test_card_holds_cross_validated_figures_and_the_baseline(trained):
    card = trained.card
    assert trained.rows == 120
    assert trained.positives == 60
    assert card["negatives"] == 60
    for figures in (card["cv"], card["baseline"]):
        assert 0.5 < figures["auc"] <= 1
        assert 0 <= figures["brier"] <= 1
        assert len(figures["deciles"]) == 10
        assert figures["rows"] == 120
    # The segment carries the signal, so both rank far better than chance.
    assert card["cv"]["auc"] > 0.7
    assert card["cv"]["brier"] < 0.25  # better than always saying one half
    assert card["features"][0]["name"] == "custom:segment"
    assert [grade for grade, _lowest in card["thresholds"]] == ["A", "B", "C", "D"]


def test_too_little_history_says_so_and_scores_nobody(db):
    history(40)  # 20 customers and 20 no's: fewer than the 30 each it needs
    person(segment="zorg")
    model = conversion.model_train()
    assert model.status == ConversionModel.Status.TOO_LITTLE
    assert (model.positives, model.card["negatives"], model.card["need"]) == (20, 20, 30)
    assert conversion.conversions_predict() == 0
    assert not ConversionScore.objects.exists()
    shown = conversion_explained(person(segment="zorg"))
    assert shown.probability is None
    assert shown.model == model


def test_prediction_scores_open_contacts_and_drops_decided_ones(trained):
    waiting = person(segment="zorg")
    later_customer = person(segment="bouw")
    said_no = set(
        Activity.objects.filter(outcome=Outcome.NOT_INTERESTED).values_list("contact", flat=True)
    )
    # Everyone not (yet) a customer is scored, those who said no before too: a later
    # campaign may call them again.
    assert conversion.conversions_predict() == 2 + len(said_no)
    scores = {score.contact_id: score for score in ConversionScore.objects.all()}
    assert set(scores) == {waiting.pk, later_customer.pk} | said_no
    assert scores[waiting.pk].probability > scores[later_customer.pk].probability
    assert scores[waiting.pk].probability == pytest.approx(
        conversion_explained(waiting).probability
    )

    later_customer.lifecycle_stage = LifecycleStage.CUSTOMER
    later_customer.save()
    assert conversion.conversions_predict() == 1 + len(said_no)
    assert later_customer.pk not in set(ConversionScore.objects.values_list("contact", flat=True))


def test_card_warns_when_the_recent_conversion_rate_departs(db):
    # One in six converted, until the newest tenth: all of them.
    history(200, converting=lambda index: index >= 180 or index % 6 == 0)
    drift = conversion.model_train().card["drift"]
    assert drift["train_rate"] == 0.25
    assert drift["rate"] == 1.0
    assert drift["rate_warning"] is True


def test_card_does_not_warn_when_nothing_moved(trained):
    assert trained.card["drift"]["rate_warning"] is False


def test_naive_bayes_baseline_multiplies_smoothed_value_frequencies():
    feature = predict.Feature("custom:segment", False)
    values = {feature.name: np.array(["a", "a", "a", "b", "b", "b"], dtype=object)}
    label = np.array([1, 1, 0, 1, 0, 0])
    score = predict.naive_bayes_fitter([feature])(values, label)
    test = {feature.name: np.array(["a", "c"], dtype=object)}
    # P(won) · P(a | won) against P(lost) · P(a | lost), each count plus 0.1; an unseen
    # value changes nothing.
    won, lost = 0.5 * (2.1 / 3), 0.5 * (1.1 / 3)
    np.testing.assert_allclose(score(test), [won / (won + lost), 0.5])
