"""The request-flow figure in the training centre: lesson steps and Grand Central's board."""

import re

from apiserver import flow
from learning import lessons
from tests.learning.conftest import api, learner


def _stage_states(page: str, figure_id: str) -> dict[str, str]:
    figure = re.search(rf'<figure class="flow" id="{figure_id}".*?</figure>', page, re.S)
    assert figure is not None, f"no figure {figure_id}"
    return dict(re.findall(r'data-stage="([a-z]+)" data-state="([a-z]*)"', figure.group(0)))


def test_every_steps_gate_is_a_stage_the_pipeline_knows():
    gates = [step.gate for lesson in lessons.all_lessons() for step in lesson.steps if step.gate]
    assert gates
    assert set(gates) <= set(flow.KEYS)


def test_a_step_about_authorization_shows_that_gate_picked_out(alice):
    page = alice.get("/learn/lessons/anatomy-of-a-create/").content.decode()
    states = _stage_states(page, "step-forbidden-flow")
    assert states["authorization"] == "focus"
    assert [key for key, state in states.items() if state == "focus"] == ["authorization"]
    assert "This step is about authorization" in page
    assert "it answers 403." in page
    admission = _stage_states(page, "step-invalid-flow")
    assert admission["admission"] == "focus"
    assert "400, 403, 413, 415 or 422" in page
    assert 'id="step-deployment-three-flow"' not in page


def test_the_board_shows_refusals_at_the_gate_their_code_names(alice):
    me = learner("alice")
    api(me, "GET", "/api/v1/namespaces/alice/pods", client="kubectl")
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "more"}}
    api(me, "POST", "/api/v1/namespaces/alice/resourcequotas", quota, client="kubectl")
    api(me, "POST", "/api/v1/namespaces/alice/pods", {"kind": "Pod"}, client="kubectl")
    page = alice.get("/learn/grand-central/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in page
    states = _stage_states(page, "station-board")
    assert states["authorization"] == flow.REFUSED
    assert states["admission"] == flow.REFUSED
    assert states["store"] == flow.PASSED
    assert "refused by authorization (1 with 403)" in page
    assert "refused by admission (1 with 422)" in page
    assert page.index('id="station-board"') < page.index('class="learn-table gc-feed"')
