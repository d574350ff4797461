"""Authentication: who is this? A bearer token names one active identity, or nobody."""

from apiserver import errors
from apiserver.endpoints.request import ApiRequest
from apiserver.models import ClusterUser


def authenticate(request: ApiRequest) -> ClusterUser:
    """The caller: a pre-authenticated user, or the active owner of the bearer token."""
    if request.user is not None:
        if not request.user.is_active:
            raise errors.unauthorized()
        return request.user
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise errors.unauthorized()
    user = ClusterUser.objects.filter(token=token, is_active=True).first()
    if user is None:
        raise errors.unauthorized()
    return user
