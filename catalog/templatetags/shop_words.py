"""`{% mapping_panel "name" "title" %}`: a mapping panel drawn from the one dictionary."""

from django import template

from catalog import dictionary

register = template.Library()


@register.inclusion_tag("_mapping_panel.html")
def mapping_panel(name: str, title: str) -> dict[str, object]:
    """The panel's rows and where each one breaks, so no page words a pair its own way."""
    return {"panel_id": f"{name}-mapping", "title": title, "terms": dictionary.PANELS[name]}


@register.simple_tag
def shop_term(key: str) -> dictionary.Term:
    """One entry of the dictionary, for a page that words a single pair."""
    return dictionary.BY_KEY[key]
