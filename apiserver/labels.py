"""Label selectors as objects carry them: the one matcher every part of the app uses.

A Service's `spec.selector` is a plain map; workloads carry a LabelSelector with
`matchLabels` and `matchExpressions`. Admission uses it to check that a Deployment's
selector picks its own template, and the controllers to find the Pods they own. (The text
form `kubectl get -l` sends is parsed by `endpoints.selectors`.)
"""

from typing import Any


def selector_matches(selector: Any, labels: Any) -> bool:
    """Whether `labels` satisfy `selector`; an empty or missing selector matches nothing."""
    if not isinstance(selector, dict) or not selector:
        return False
    labels = labels if isinstance(labels, dict) else {}
    structured = "matchLabels" in selector or "matchExpressions" in selector
    equal = (selector.get("matchLabels") or {}) if structured else selector
    if any(labels.get(key) != value for key, value in equal.items()):
        return False
    for expression in (selector.get("matchExpressions") or []) if structured else []:
        if not isinstance(expression, dict):
            continue
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True
