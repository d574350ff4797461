"""A tiny, safe markup for lesson and quiz text: paragraphs, lists, `code`, **strong**.

Everything is escaped first and only our own tags are added afterwards, so text edited in
the admin or a YAML file can never inject HTML.
"""

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*([^*]+)\*\*")


def inline(text: str) -> SafeString:
    """One line or phrase: escaped, with `code` and **strong** turned into tags."""
    html = escape(text)
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _STRONG.sub(r"<strong>\1</strong>", html)
    return mark_safe(html)  # noqa: S308 - built from escaped text


def render(text: str) -> SafeString:
    """Blocks separated by blank lines; a block whose lines start with "- " becomes a list."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", (text or "").strip()) if b.strip()]
    parts = []
    for block in blocks:
        lines = [line.strip() for line in block.splitlines()]
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{inline(line[2:])}</li>" for line in lines)
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append(f"<p>{inline(' '.join(lines))}</p>")
    return mark_safe("\n".join(parts))  # noqa: S308 - every piece went through inline()
