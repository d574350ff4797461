"""Nothing anyone types or sends makes the training centre answer 500."""

import pytest

pytestmark = pytest.mark.usefixtures("quizzes")

GARBAGE = ["", "\x00", "x" * 5000, "<script>", "-1", "1e9", "ÅÄÖ", "%00"]


@pytest.mark.parametrize("value", GARBAGE)
def test_forms_survive_garbage(alice, carol, value):
    sent = [
        alice.post("/join/", {"code": value, "display_name": value}),
        alice.get("/join/", {"code": value}),
        alice.get("/learn/grand-central/", {"mine": value}),
        alice.post("/learn/quizzes/front-door/retry/", {"x": value}),
        carol.post("/learn/workshops/", {"title": value}),
    ]
    for question_id in (1, 2, 3, 4, 5, 999999):
        sent.append(
            alice.post(
                f"/learn/quizzes/front-door/{question_id}/",
                {"choice": value, "pair-0": value, "position-0": value},
                HTTP_HX_REQUEST="true",
            )
        )
    assert all(response.status_code < 500 for response in sent), [r.status_code for r in sent]
