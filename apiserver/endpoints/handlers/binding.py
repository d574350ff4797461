"""create pods/NAME/binding: the scheduler's way to put a Pod on a node, once."""

from typing import Any

from apiserver import admission, errors
from apiserver.endpoints.bodies import parse_body
from apiserver.endpoints.handlers import common
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import cells, kinds, store


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    """POST pods/x/binding: the scheduler's way to put a Pod on a node, once."""
    binding = parse_body(request)
    if isinstance(binding, dict):
        # Typed like the real Binding before anything reads it: a wrong type is a 422.
        admission.decode(kinds.by_api_version_kind("v1", "Binding"), binding, "Ignore")
    node = (binding.get("target") or {}).get("name") if isinstance(binding, dict) else None
    if not node:
        raise errors.invalid(
            "Binding",
            target.name,
            [{"reason": "FieldValueRequired", "message": "Required value", "field": "target.name"}],
        )
    wanted_uid = (binding.get("metadata") or {}).get("uid")

    def change(pod: dict[str, Any]) -> dict[str, Any]:
        meta = pod["metadata"]
        if wanted_uid and wanted_uid != meta.get("uid"):
            raise errors.conflict("pods/binding", target.name)
        if meta.get("deletionTimestamp"):
            raise errors.conflict("pods/binding", target.name)
        assigned = (pod.get("spec") or {}).get("nodeName")
        if assigned:
            raise errors.ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on pods/binding "{target.name}": pod '
                f'{target.name} is already assigned to node "{assigned}"',
                {"name": target.name, "kind": "pods/binding"},
            )
        pod.setdefault("spec", {})["nodeName"] = node
        status = pod.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or () if c.get("type") != "PodScheduled"]
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": cells.timestamp(),
            }
        )
        status["conditions"] = conditions
        return pod

    store.update(
        target.kind,
        target.namespace or "",
        target.name,
        change,
        dry_run=common.dry_run(request.query),
    )
    return ApiResponse(201, errors.success_status())
