"""`{% analogy_map %}`: the drawn analogy, one partial for every page that shows it."""

from django import template

from catalog.analogy import PAIRINGS

register = template.Library()


@register.inclusion_tag("catalog/_analogy_map.html")
def analogy_map(heading_id: str = "analogy-map-heading") -> dict[str, object]:
    """The pairings from `catalog.analogy`, so the pages never restate them."""
    return {"pairings": PAIRINGS, "heading_id": heading_id}
