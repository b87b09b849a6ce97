"""A pipeline's stages over the REST API: added, changed, put in place and deleted by
managers and admins only, and a stage deals have been in kept."""

import pytest

from koers.api.scopes import all_scopes
from koers.api.tests.client import bearer, call
from koers.pipeline.factories import DealFactory, PipelineFactory
from koers.pipeline.models import Stage

ENDPOINTS = [
    ("post", "/api/v1/pipelines/{pipeline}/stages"),
    ("patch", "/api/v1/pipelines/{pipeline}/stages/{stage}"),
    ("delete", "/api/v1/pipelines/{pipeline}/stages/{stage}"),
]


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="Nieuwe klanten", sales_model="inbound")


def keys(pipeline):
    return [stage.key or stage.name for stage in pipeline.stages.order_by("position", "id")]


def url(pipeline, stage=None):
    base = f"/api/v1/pipelines/{pipeline.pk}/stages"
    return base if stage is None else f"{base}/{stage.pk}"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_token_without_pipelines_write_is_refused(manager, pipeline, method, path):
    scopes = [scope for scope in all_scopes() if scope != "pipelines:write"]
    stage = pipeline.stages.get(key="proposal")
    before = keys(pipeline)

    response = call(
        bearer(manager, scopes),
        method,
        path.format(pipeline=pipeline.pk, stage=stage.pk),
        {"name": "Demo", "position": 1},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert "pipelines:write" in response.json()["message"]
    assert keys(pipeline) == before


@pytest.mark.parametrize("user", ["sales_a", "sales_b"])
def test_a_role_that_may_not_change_pipelines_changes_no_stage(request, pipeline, user):
    client = bearer(request.getfixturevalue(user))
    stage = pipeline.stages.get(key="proposal")
    before = keys(pipeline)

    made = call(client, "post", url(pipeline), {"name": "Demo"})
    changed = call(client, "patch", url(pipeline, stage), {"probability": 90})
    deleted = call(client, "delete", url(pipeline, stage))

    assert made.status_code == changed.status_code == deleted.status_code == 403
    assert made.json() == {
        "code": "forbidden",
        "message": "Only managers and administrators may change pipelines.",
        "errors": [],
    }
    assert keys(pipeline) == before
    stage.refresh_from_db()
    assert stage.probability != 90


def test_a_manager_adds_changes_places_and_deletes_a_stage(manager, pipeline):
    client = bearer(manager)

    made = call(
        client,
        "post",
        url(pipeline),
        {"name": "Demo", "probability": 30, "required": ["contacts"], "position": 2},
    )
    stage = Stage.objects.get(pk=made.json()["id"])
    changed = call(
        client,
        "patch",
        url(pipeline, stage),
        {"name": "Productdemo", "position": 4, "kind": "open"},
    )
    read = bearer(manager).get(f"/api/v1/pipelines/{pipeline.pk}").json()["stages"]
    deleted = call(client, "delete", url(pipeline, stage))
    gone = call(client, "patch", url(pipeline, stage), {"probability": 40})

    assert made.status_code == 201
    assert made.json() == {
        "id": stage.pk,
        "key": "",
        "name": "Demo",
        "position": 2,
        "kind": "open",
        "probability": 30,
        "required": ["contacts"],
    }
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["position"]) == ("Productdemo", 4)
    assert changed.json()["probability"] == 30  # what was not sent stays
    assert [row["name"] for row in read] == [
        "Qualify",
        "Needs analysis",
        "Proposal",
        "Productdemo",
        "Negotiation",
        "Won",
        "Lost",
    ]
    assert [row["position"] for row in read] == [1, 2, 3, 4, 5, 6, 7]
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert keys(pipeline) == [
        "qualify",
        "needs_analysis",
        "proposal",
        "negotiation",
        "won",
        "lost",
    ]


def test_a_stage_of_another_pipeline_is_not_found(manager, pipeline):
    other = PipelineFactory(name="Partners", sales_model="inbound")
    stage = other.stages.get(key="proposal")

    response = call(
        bearer(manager), "patch", f"/api/v1/pipelines/{pipeline.pk}/stages/{stage.pk}", {}
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_stage_with_deals_is_kept_and_keeps_its_kind(admin_user, sales_a, pipeline):
    stage = pipeline.stages.get(key="qualify")
    DealFactory(owner=sales_a, pipeline=pipeline, stage=stage)
    client = bearer(admin_user)

    deleted = call(client, "delete", url(pipeline, stage))
    changed = call(client, "patch", url(pipeline, stage), {"kind": "lost"})

    assert deleted.status_code == 409
    assert deleted.json() == {
        "code": "stage_in_use",
        "message": "Deals have been in this stage; it cannot be deleted.",
        "errors": [],
    }
    assert changed.status_code == 422
    assert changed.json()["errors"] == [
        {"field": "kind", "message": "Deals are in this stage: its kind cannot change."}
    ]
    stage.refresh_from_db()
    assert stage.kind == "open"


def test_every_bad_field_of_a_stage_is_named_at_once(manager, pipeline):
    client = bearer(manager)
    stage = pipeline.stages.get(key="proposal")
    before = keys(pipeline)

    made = call(
        client,
        "post",
        url(pipeline),
        {"kind": "maybe", "probability": 150, "required": ["luck"], "position": 0},
    )
    blank = call(client, "post", url(pipeline), {"name": "  "})
    changed = call(client, "patch", url(pipeline, stage), {"probability": -1, "name": 5})

    assert made.status_code == blank.status_code == changed.status_code == 422
    assert {error["field"] for error in made.json()["errors"]} == {
        "name",
        "kind",
        "probability",
        "required.0",
        "position",
    }
    assert blank.json()["errors"] == [{"field": "name", "message": "Give the stage a name."}]
    assert {error["field"] for error in changed.json()["errors"]} == {"name", "probability"}
    assert keys(pipeline) == before


def test_a_replayed_stage_post_with_the_same_idempotency_key_adds_nothing_new(manager, pipeline):
    client = bearer(manager)
    body = {"name": "Demo"}

    first = call(client, "post", url(pipeline), body, **{"Idempotency-Key": "st-1"})
    again = call(client, "post", url(pipeline), body, **{"Idempotency-Key": "st-1"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert pipeline.stages.filter(name="Demo").count() == 1
