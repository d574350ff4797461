"""The lesson content itself: complete, checkable, and rendered safely."""

from django.http import QueryDict
from hypothesis import given, settings
from hypothesis import strategies as st

from learning import checks, grading, lessons, text

TOPICS = {
    "front-door",
    "anatomy-of-a-create",
    "the-analogy",
    "reading-the-catalog",
    "third-party-sellers",
    "always-open",
    "overload",
}


def test_every_topic_of_the_issue_has_a_lesson_with_sections_panel_and_steps():
    found = {lesson.slug: lesson for lesson in lessons.all_lessons()}
    assert set(found) >= TOPICS
    for lesson in found.values():
        assert lesson.sections and lesson.panel and lesson.steps, lesson.slug
        for step in lesson.steps:
            assert step.hints, f"{lesson.slug}/{step.slug} has no hints"
            assert step.coming or step.check in checks.CHECKS, f"{lesson.slug}/{step.slug}"


def test_each_lesson_has_at_least_one_step_that_can_be_checked_today():
    for lesson in lessons.all_lessons():
        assert any(checks.is_available(step) for step in lesson.steps), lesson.slug


def test_markup_escapes_html_and_keeps_only_our_tags():
    html = text.render("Hi <b>you</b> & `kubectl <x>` **now**\n\n- one\n- `two`")
    assert html == (
        "<p>Hi &lt;b&gt;you&lt;/b&gt; &amp; <code>kubectl &lt;x&gt;</code> "
        "<strong>now</strong></p>\n<ul><li>one</li><li><code>two</code></li></ul>"
    )


def test_an_unknown_check_never_raises():
    result = checks.run("no-such-check", None, {})
    assert not result.passed and "not available" in result.message


def test_the_system_check_passes_and_catches_an_unknown_check(monkeypatch):
    from learning import system_checks

    assert system_checks.lesson_content() == []
    monkeypatch.delitem(checks.CHECKS, "pod_running")
    errors = [e for e in system_checks.lesson_content() if e.id == "learning.E002"]
    assert len(errors) == 1
    assert "always-open/delivered" in errors[0].msg


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_markup_never_lets_a_tag_through(value):
    html = text.render(value)
    for tag in ("<script", "<img", "<a ", "<iframe"):
        assert tag not in html.lower()


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(["choice", "match", "order"]),
    fields=st.dictionaries(
        st.sampled_from(["choice", "pair-0", "pair-1", "position-0", "position-1", "x"]),
        st.text(max_size=5),
    ),
)
def test_grading_any_form_input_never_raises(kind, fields):
    data = {
        "choice": {"choices": [{"text": "a", "correct": True}, {"text": "b"}]},
        "match": {"pairs": [{"left": "a", "right": "1"}, {"left": "b", "right": "2"}]},
        "order": {"steps": ["first", "second"]},
    }[kind]
    post = QueryDict(mutable=True)
    post.update(fields)
    verdict = grading.grade(kind, data, post)
    assert verdict.valid or verdict.error
