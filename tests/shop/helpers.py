"""Talking to the API server directly, to check what the shop pages really did."""

from typing import Any

from apiserver.models import ClusterUser
from apiserver.pipeline import ApiRequest, handle


def api_get(user: ClusterUser, path: str) -> tuple[int, dict[str, Any]]:
    """GET `path` through the pipeline as `user`, the way kubectl would; status and body."""
    response = handle(
        ApiRequest(method="GET", path=path, headers={"accept": "application/json"}, user=user)
    )
    return response.status, response.body or {}


POD_WITHOUT_CONTAINERS = """\
apiVersion: v1
kind: Pod
metadata:
  name: empty-box
spec:
  containers: []
"""

POD_FOR_BOB = """\
apiVersion: v1
kind: Pod
metadata:
  name: sneaky
  namespace: bob
spec:
  containers:
    - name: main
      image: nginx:1.27
"""
