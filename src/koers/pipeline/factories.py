"""Factories for pipelines and deals, shared by the tests."""

from decimal import Decimal

import factory

from koers.pipeline.models import Deal, Pipeline, Stage
from koers.pipeline.templates_catalog import TEMPLATES


class PipelineFactory(factory.django.DjangoModelFactory):
    """A pipeline with the stages of a sales model's template (inbound unless told)."""

    class Meta:
        model = Pipeline
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Pipeline {n}")
    sales_model = "inbound"

    @factory.post_generation
    def stages(pipeline, create, extracted, **kwargs):
        Stage.objects.bulk_create(
            Stage(
                pipeline=pipeline,
                key=stage.key,
                position=position,
                kind=stage.kind,
                probability=stage.probability,
                required=list(stage.required),
            )
            for position, stage in enumerate(TEMPLATES[pipeline.sales_model].stages, start=1)
        )


class DealFactory(factory.django.DjangoModelFactory):
    """An open deal in the first stage of its pipeline."""

    class Meta:
        model = Deal

    name = factory.Sequence(lambda n: f"Deal {n}")
    pipeline = factory.SubFactory(PipelineFactory)
    stage = factory.LazyAttribute(lambda deal: deal.pipeline.stages.order_by("position").first())
    amount_one_off = Decimal("0")
    amount_recurring = Decimal("1000")
    value = factory.LazyAttribute(lambda deal: deal.amount_one_off + 12 * deal.amount_recurring)
