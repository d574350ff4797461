"""Carol exports her class from the dashboard: her learners' writes, in order, as a file
`manage.py replay_class` sends again; nobody else may take it."""

import json

import pytest

from tests.learning.conftest import api, pod
from tests.learning.test_workshops import join, joined_learner, new_workshop

pytestmark = pytest.mark.usefixtures("quizzes")


def test_the_class_file_holds_each_learners_writes_in_order(carol, dave, alice):
    workshop = new_workshop(carol)
    join(workshop.code, "Ann")
    join(workshop.code, "Ben")
    ann, ben = joined_learner(workshop, "Ann"), joined_learner(workshop, "Ben")
    assert api(ann, "POST", f"/api/v1/namespaces/{ann.namespace}/pods", pod("web")).status == 201
    assert api(ben, "POST", f"/api/v1/namespaces/{ben.namespace}/pods", pod("db")).status == 201
    gone = api(ann, "DELETE", f"/api/v1/namespaces/{ann.namespace}/pods/web")
    assert gone.status == 200
    url = f"/learn/workshops/{workshop.code}/class.json"

    answer = carol.get(url)

    assert answer.status_code == 200
    assert f'filename="class-{workshop.code}.json"' in answer["Content-Disposition"]
    scenario = json.loads(answer.content)
    assert scenario["format"] == "warehouse.dev/class-v1"
    assert scenario["learners"] == sorted([ann.name, ben.name])
    steps = [(s["user"], s["method"], s["path"]) for s in scenario["steps"]]
    assert steps == [
        (ann.name, "POST", f"/api/v1/namespaces/{ann.namespace}/pods"),
        (ben.name, "POST", f"/api/v1/namespaces/{ben.namespace}/pods"),
        (ann.name, "DELETE", f"/api/v1/namespaces/{ann.namespace}/pods/web"),
    ]
    assert scenario["steps"][0]["body"]["metadata"]["name"] == "web"
    assert "status" not in scenario["steps"][0]["body"]
    dashboard = carol.get(f"/learn/workshops/{workshop.code}/").content.decode()
    assert f'href="{url}"' in dashboard

    assert dave.get(url).status_code == 403
    assert alice.get(url)["Location"].startswith("/admin/login/")
