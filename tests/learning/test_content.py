"""The lesson content itself: complete, checkable, and rendered safely."""

from learning import checks, lessons, text

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
