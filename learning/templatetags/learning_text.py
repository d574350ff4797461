"""Template filters for lesson text; see learning/text.py for the (escaped) markup."""

from django import template
from django.utils.safestring import SafeString

from learning import text

register = template.Library()


@register.filter
def markup(value: str) -> SafeString:
    """Paragraphs, lists, `code` and **strong**, everything else escaped."""
    return text.render(str(value or ""))


@register.filter
def inline_markup(value: str) -> SafeString:
    """One line with `code` and **strong**, everything else escaped."""
    return text.inline(str(value or ""))
