"""Alice rewinds her orders on the order-history page while a hand-wound control plane
delivers them: who wrote each revision, what changed, and the parcel as it was then."""

import re

import pytest

from tests.controlplane.conftest import Cluster, pod_manifest
from tests.shop.test_tracking import alices_cluster, order

HTMX = {"HX-Request": "true"}
HISTORY = "/orders/alice/core/v1/pods/web/history/"


@pytest.fixture
def plane(alice) -> Cluster:
    """Alice's cluster, as on the tracking page's tests."""
    return alices_cluster()


def delivered(plane: Cluster) -> None:
    plane.settle()
    plane.step(1, times=3)


def test_each_revision_of_a_pod_names_its_writer_and_what_it_changed(alice, plane):
    order(alice, pod_manifest("web"))
    delivered(plane)

    page = alice.get(HISTORY)

    assert page.status_code == 200
    html = page.content.decode()
    steps = page.context["steps"]
    kinds = [s.writer_kind for s in steps]
    assert kinds[0] == "you"
    assert steps[0].type == "ADDED"
    assert steps[0].writer == "You (alice) from the shop's pages"
    bound = next(s for s in steps if s.obj["spec"].get("nodeName"))
    assert bound.writer_kind == "scheduler"
    assert steps[steps.index(bound) - 1].obj["spec"].get("nodeName") is None
    node = bound.obj["spec"]["nodeName"]
    assert bound.sections[0][0] == "What was asked for (spec)"
    changed = [(c.path, c.before, c.after) for c in bound.sections[0][1]]
    assert ("spec.nodeName", "", node) in changed
    running = [s for s in steps if (s.obj.get("status") or {}).get("phase") == "Running"]
    assert running and running[0].writer == f"The kubelet on {node}"
    assert "kubectl get --raw /api/v1/namespaces/alice/pods/web/history" in html
    # The latest is shown first, and the page says where each step came from.
    assert page.context["step"].version == steps[-1].version
    assert 'aria-current="true"' in html
    assert "The order as it was then" in html


def test_stepping_back_shows_the_parcel_as_it_was_and_the_request_that_wrote_it(alice, plane):
    order(alice, pod_manifest("web"))
    delivered(plane)
    first = alice.get(HISTORY).context["steps"][0]

    page = alice.get(f"{HISTORY}?at={first.version}")

    assert page.context["step"].version == first.version
    assert page.context["earlier"] is None
    assert page.context["tracker"].now.key != "delivered"
    assert page.context["then"].shop != "Delivered"
    assert page.context["step"].request["verb"] == "create"
    html = page.content.decode()
    assert f"auditevents/{first.request['auditID']}" in html
    assert 'role="img"' in html  # the writing request's way, drawn

    fragment = alice.get(f"{HISTORY}?at={first.version}", headers=HTMX)
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert "<html" not in text and 'id="revision"' in text


def test_another_learners_order_history_is_refused_and_a_missing_one_is_not_found(
    alice, bob, plane
):
    order(alice, pod_manifest("web"))

    refused = bob.get(HISTORY)
    assert refused.status_code == 403
    assert "This is not your order" in refused.content.decode()

    missing = alice.get("/orders/alice/core/v1/pods/nothing/history/")
    assert missing.status_code == 404
    assert "No history for this order" in missing.content.decode()


def test_an_unknown_revision_falls_back_to_the_latest(alice, plane):
    order(alice, pod_manifest("web"))
    page = alice.get(f"{HISTORY}?at=not-a-version")
    assert page.status_code == 200
    assert page.context["step"].version == page.context["steps"][-1].version


def test_revisions_removed_by_the_per_object_bound_are_said_in_words_not_a_silent_gap(
    alice, plane, settings
):
    from apiserver import housekeeping

    order(alice, pod_manifest("web"))
    delivered(plane)
    before = alice.get(HISTORY).context["steps"]
    assert len(before) > 3
    settings.WAREHOUSE_REVISION_KEEP_PER_OBJECT = 2
    settings.WAREHOUSE_REVISION_KEEP_SECONDS = 10**9  # only the per-object bound applies
    housekeeping.run_once()

    page = alice.get(HISTORY)

    assert [s.version for s in page.context["steps"]] == [s.version for s in before[-2:]]
    words = " ".join(re.sub(r"<[^>]+>", "", page.content.decode()).split())
    removed = len(before) - 2
    assert (
        f"{removed} earlier revisions of this order were removed: the order book keeps the "
        "newest 2 of each object." in words
    )
    assert f"This order's story starts mid-way, at revision {before[-2].version}" in words
    assert "time window" not in words
