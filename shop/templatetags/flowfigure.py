"""`{% request_flow ticket.flow "checkout" %}` and `{% stage_flow "admission" "step-x" %}`:
the request-flow figure drawn where a template needs it, from plain data."""

from typing import Any

from django import template

from shop import flowfigure

register = template.Library()


@register.inclusion_tag("shop/_flow.html")
def request_flow(
    trail: dict[str, Any] | None, prefix: str, client: str = "browser", you: str = "Your request"
) -> dict:
    """One request's way through the API server (a ticket's `flow`); nothing without one."""
    if not trail:
        return {"figure": None}
    return {"figure": flowfigure.for_request(trail, f"{prefix}-flow", client, you)}


@register.inclusion_tag("shop/_flow.html")
def stage_flow(key: str, prefix: str) -> dict:
    """The figure with one stage picked out, for a lesson step that teaches it."""
    return {"figure": flowfigure.for_stage(key, f"{prefix}-flow")}
