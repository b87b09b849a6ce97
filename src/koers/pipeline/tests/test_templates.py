import pytest
from django.utils import translation

from koers.pipeline import services
from koers.pipeline.models import SalesModel, Stage
from koers.pipeline.templates_catalog import TEMPLATES


def test_every_sales_model_has_a_template():
    assert set(TEMPLATES) == set(SalesModel.values)


@pytest.mark.parametrize(
    ("model", "first_stages_en", "first_stages_nl"),
    [
        ("inbound", ["Qualify"], ["Kwalificeren"]),
        (
            "outbound",
            ["Prospect", "Make contact", "Qualify"],
            ["Prospect", "Contact maken", "Kwalificeren"],
        ),
        ("team", ["Qualify", "Research"], ["Kwalificeren", "Onderzoek"]),
        (
            "account_based",
            ["Identify target account", "Build stakeholder list", "Compile initial strategy"],
            [
                "Doelaccount identificeren",
                "Lijst van belanghebbenden maken",
                "Eerste strategie samenstellen",
            ],
        ),
    ],
)
def test_templates_start_with_the_stages_of_seed_003_in_both_languages(
    manager, model, first_stages_en, first_stages_nl
):
    pipeline = services.pipeline_create_from_template(actor=manager, sales_model=model)
    stages = list(pipeline.stages.order_by("position"))
    count = len(first_stages_en)
    with translation.override("en"):
        assert [stage.label for stage in stages[:count]] == first_stages_en
    with translation.override("nl"):
        assert [stage.label for stage in stages[:count]] == first_stages_nl


def test_relationship_selling_goes_on_after_the_sale(manager):
    pipeline = services.pipeline_create_from_template(actor=manager, sales_model="relationship")
    after_sale = pipeline.stages.filter(kind=Stage.Kind.POST_SALE).order_by("position")
    won = pipeline.stages.get(kind=Stage.Kind.WON)
    with translation.override("nl"):
        assert [stage.label for stage in after_sale] == ["Eerste check-in", "Upsell"]
    assert all(stage.position > won.position for stage in after_sale)


def test_every_template_has_one_won_and_one_lost_stage_and_rules_before_proposal(manager):
    for model in TEMPLATES:
        pipeline = services.pipeline_create_from_template(actor=manager, sales_model=model)
        kinds = list(pipeline.stages.values_list("kind", flat=True))
        assert kinds.count(Stage.Kind.WON) == 1
        assert kinds.count(Stage.Kind.LOST) == 1
    proposal = pipeline.stages.model.objects.filter(key="proposal").first()
    assert set(proposal.required) == {"amount", "expected_close_on"}


def test_a_renamed_stage_keeps_its_name_in_every_language(manager):
    pipeline = services.pipeline_create_from_template(actor=manager, sales_model="inbound")
    qualify = pipeline.stages.get(key="qualify")
    services.stage_save(
        actor=manager,
        pipeline=pipeline,
        stage=qualify,
        name="Intake",
        kind="open",
        probability=15,
        required=[],
    )
    with translation.override("en"):
        assert pipeline.stages.get(key="qualify").label == "Intake"
