"""create pods/NAME/exec, attach and portforward: streams into a container, refused clearly.

In a cluster the API server hands these on to the node's kubelet, which joins the caller
to a process in the container or to one of its ports. Here the containers are simulated:
there is no process to join, no network to reach and no file to copy (`kubectl cp` is an
exec of `tar`). So after the gates (authorization asks for `create`, as Kubernetes does)
the answer is a 400 that says so, and what to use instead, rather than a bare NotFound.
"""

from apiserver import errors
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import CONNECT, Route
from apiserver.registry import store

SUBRESOURCES = CONNECT


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    store.get(target.kind, target.namespace or "", target.name)  # a missing Pod is a 404
    name = target.name
    if target.subresource == "portforward":
        message = (
            f'cannot forward a port to pod "{name}": this cluster has no real network, '
            f"only simulated containers. Its Service and Endpoints show where traffic would go."
        )
    elif request.query.get("command", "").split(" ")[0] == "tar":
        message = (
            f'cannot copy files to or from pod "{name}": its containers are simulated and hold '
            f"no files. Mounted ConfigMaps and Secrets can be read with kubectl get."
        )
    else:
        message = (
            f'cannot {target.subresource} into pod "{name}": its containers are simulated, so '
            f"there is no process to join. kubectl logs {name} shows what it printed."
        )
    raise errors.bad_request(message)
