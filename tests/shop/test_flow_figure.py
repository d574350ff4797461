"""The request-flow figure on receipts: drawn from the pipeline's own record of the request."""

import re

from apiserver import flow
from shop import flowfigure
from shop.views import SESSION_LAST_ORDER
from tests.shop.helpers import POD_WITHOUT_CONTAINERS

POD_URL = "/order/core/v1/pods/"


def _order(client, manifest: str | None = None):
    if manifest is None:
        manifest = client.get(POD_URL).context["form"].initial["manifest"]
    return client.post(POD_URL, {"manifest": manifest})


def _stages(page: str, figure_id: str) -> list[tuple[str, str]]:
    """(stage, state) of each stage box of one figure, in drawing order."""
    figure = re.search(rf'<figure class="flow" id="{figure_id}".*?</figure>', page, re.S)
    assert figure is not None, f"no figure {figure_id}"
    return re.findall(r'data-stage="([a-z]+)" data-state="([a-z]*)"', figure.group(0))


def _caption(page: str, figure_id: str) -> str:
    found = re.search(rf'<figcaption id="{figure_id}-text"[^>]*>(.*?)</figcaption>', page, re.S)
    assert found is not None
    return found.group(1)


def test_the_figures_stages_are_the_ones_the_pipeline_records(alice):
    """Fails if a stage is added to, dropped from or reordered in one and not the other."""
    _order(alice)
    ticket = alice.session[SESSION_LAST_ORDER]
    recorded = [item["key"] for item in ticket["flow"]["stages"]]
    assert recorded == list(flow.KEYS)
    receipt = alice.get("/orders/alice/core/v1/pods/web/").content.decode()
    drawn = _stages(receipt, "checkout-flow")
    assert [key for key, _ in drawn] == [key for key in recorded if key != "watchers"]
    assert {state for _, state in drawn} == {flow.PASSED}
    assert 'data-watcher="live-pages" data-state="passed"' in receipt
    caption = _caption(receipt, "checkout-flow")
    assert caption.startswith("Your request passed request info (")
    assert "answered by registry and storage" in caption
    assert "with 201." in caption


def test_a_second_order_of_the_same_name_shows_the_store_refusing_with_409(alice):
    assert _order(alice).status_code == 302
    response = _order(alice)
    ticket = response.context["ticket"]
    assert ticket["status"] == 409
    page = response.content.decode()
    drawn = dict(_stages(page, "refusal-flow"))
    assert drawn["store"] == flow.REFUSED
    assert drawn["admission"] == drawn["authorization"] == flow.PASSED
    assert drawn["audit"] == flow.PASSED
    assert "refused with 409" in page
    caption = _caption(page, "refusal-flow")
    assert "admission (" in caption
    assert "and was refused by registry and storage with 409. The audit log noted it" in caption
    assert 'data-watcher="scheduler" data-state="unreached"' in page


def test_an_invalid_order_is_drawn_refused_at_admission_and_works_as_a_fragment(alice):
    response = alice.post(
        POD_URL, {"manifest": POD_WITHOUT_CONTAINERS}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert "<html" not in page
    drawn = dict(_stages(page, "refusal-flow"))
    assert drawn["admission"] == flow.REFUSED
    assert drawn["store"] == flow.UNREACHED
    assert "refused by admission with 422" in _caption(page, "refusal-flow")


def test_every_figure_is_an_image_with_a_text_alternative(alice):
    _order(alice)
    page = alice.get("/orders/alice/core/v1/pods/web/").content.decode()
    svgs = re.findall(r"<svg[^>]*>", page)
    flows = [svg for svg in svgs if "flow__svg" in svg]
    assert flows
    for svg in flows:
        assert 'role="img"' in svg
        labelled = re.search(r'aria-labelledby="([^"]+)"', svg).group(1).split()
        for label in labelled:
            assert f'id="{label}"' in page
    assert "#" not in "".join(re.findall(r'(?:fill|stroke)="([^"]*)"', page))


def test_the_board_counts_each_request_where_its_status_says_it_stopped():
    rows = [
        {"client": "kubectl", "status_code": 200},
        {"client": "kubectl", "status_code": 429},
        {"client": "flood", "status_code": 429},
        {"client": "browser", "status_code": 409},
    ]
    board = flowfigure.for_traffic(rows, "board")
    boxes = {box.key: box for box in board.stages}
    assert boxes["fairness"].state == flow.REFUSED
    assert boxes["fairness"].note == "✗ refused 2× 429"
    assert boxes["store"].note == "✓ 1 answered, ✗ 1× 409"
    assert "2 were refused by priority and fairness (2 with 429)" in board.summary
    others = next(box for box in board.boxes if box.kind == "client" and box.key == "other")
    assert others.note == "1 sent"
    refused = [edge for edge in board.edges if edge.state == flow.REFUSED]
    assert len(refused) == 3
