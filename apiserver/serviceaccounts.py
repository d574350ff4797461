"""ServiceAccount tokens: identities for the software in Pods, as signed JSON Web Tokens.

A token is issued by the TokenRequest subresource (`kubectl create token NAME`) and names
its account in its claims, as Kubernetes' bound tokens do: `sub` is
`system:serviceaccount:<namespace>:<name>`, `aud` the audiences asked for, `exp` its end,
and `kubernetes.io` the namespace and the account's name and uid. Nothing is stored: a
token is checked by its signature, its expiry, its audience, and by the account still
existing with the same uid, so deleting the account ends every token it was issued.

Kubernetes signs with a private key (RS256 or ES256) whose public half anyone may fetch;
here the key is derived from SECRET_KEY (HS256), which every host of one Warehouse shares.
"""

import hashlib
import time
from typing import Any

import jwt
from django.conf import settings

from apiserver import errors
from apiserver.models import ClusterUser
from apiserver.registry import kinds, store

ISSUER = "https://kubernetes.default.svc.cluster.local"
# The audience the API server accepts, which a TokenRequest without audiences is given.
API_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
DEFAULT_SECONDS = 3600
MIN_SECONDS = 600  # kube-apiserver refuses shorter ones
MAX_SECONDS = 48 * 3600  # kube-apiserver's default --service-account-max-token-expiration
ALGORITHM = "HS256"


def _key() -> bytes:
    return hashlib.sha256(
        b"warehouse serviceaccount tokens\0" + settings.SECRET_KEY.encode()
    ).digest()


def looks_like_token(token: str) -> bool:
    """A JWT has three dot-separated parts; the tokens learners hold have none."""
    return token.count(".") == 2


def issue(account: dict[str, Any], seconds: int, audiences: list[str]) -> tuple[str, int]:
    """A signed token for `account` (a ServiceAccount object) and when it expires."""
    meta = account["metadata"]
    now = int(time.time())
    expires = now + seconds
    claims = {
        "iss": ISSUER,
        "sub": f"system:serviceaccount:{meta['namespace']}:{meta['name']}",
        "aud": audiences,
        "iat": now,
        "nbf": now,
        "exp": expires,
        "kubernetes.io": {
            "namespace": meta["namespace"],
            "serviceaccount": {"name": meta["name"], "uid": meta["uid"]},
        },
    }
    return jwt.encode(claims, _key(), algorithm=ALGORITHM), expires


def authenticate(token: str) -> ClusterUser | None:
    """The account a token names, if it is ours, unexpired, meant for the API server, and
    its account still exists with the same uid; else None (a 401)."""
    try:
        claims = jwt.decode(
            token,
            _key(),
            algorithms=[ALGORITHM],
            audience=API_AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.InvalidTokenError:
        return None
    bound = claims.get("kubernetes.io") or {}
    namespace = bound.get("namespace") or ""
    account = bound.get("serviceaccount") or {}
    name, uid = account.get("name") or "", account.get("uid") or ""
    if claims["sub"] != f"system:serviceaccount:{namespace}:{name}":
        return None
    try:
        stored = store.get(kinds.by_api_version_kind("v1", "ServiceAccount"), namespace, name)
    except errors.ApiError:
        return None
    if stored["metadata"].get("uid") != uid:
        return None
    return ClusterUser(
        name=name,
        namespace=namespace,
        role=ClusterUser.Role.SERVICE_ACCOUNT,
        token=token,
        is_active=True,
    )
