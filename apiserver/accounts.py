"""Who may call the API: the identities the API server authenticates, as other apps see them.

Learners, instructors and system components are `ClusterUser` rows with a bearer token.
Other apps (the shop's sign-in, workshops, the control plane) name and create identities
through this module rather than reaching into the API server's models.
"""

from apiserver.models import DNS_LABEL, ClusterUser, new_token

__all__ = ["DNS_LABEL", "ClusterUser", "new_token", "system_user"]


def system_user(name: str) -> ClusterUser:
    """The system identity a component acts as, created on first use."""
    user, _ = ClusterUser.objects.get_or_create(
        name=name, defaults={"role": ClusterUser.Role.SYSTEM, "display_name": name}
    )
    return user
