"""watch: a stream of changes to a kind, from a resourceVersion on.

The stream itself is `endpoints.watch`: the HTTP view sends it as newline-delimited JSON,
the loopback client polls it. Here the request becomes that stream, checked before the
first byte (a bad selector or resourceVersion is a 400, not a broken stream).
"""

from apiserver import errors
from apiserver.endpoints import watch
from apiserver.endpoints.handlers import common
from apiserver.endpoints.request import ApiRequest
from apiserver.filters.requestinfo import Route


def handle(request: ApiRequest, target: Route) -> watch.Follower:
    if target.kind is None or target.name:
        raise errors.method_not_allowed()
    follower = watch.Follower(target.kind, target.namespace, request.query)
    follower.as_table = common.wants_table(request)
    return follower
