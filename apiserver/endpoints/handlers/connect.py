"""create pods/NAME/exec, attach and portforward: streams into a simulated container.

In a cluster the API server hands these on to the node's kubelet, which joins the caller
to a process in the container. Here the kubelet's part is played by the pretend shell
(`controlplane.shell`): `kubectl exec` runs its commands in a Running container, with the
container's environment (ConfigMap and Secret values included) and its files (mounted
ConfigMaps and Secrets, /etc/hostname, /etc/hosts, /etc/resolv.conf).

The stream itself is a WebSocket (`apiserver.server.exec`), which kubectl 1.30 and newer
try first. This handler checks what Kubernetes checks before any stream opens (the Pod,
its node, the container and that it runs) and gives the stream what the container holds.
Requests that reach it over plain HTTP are an older kubectl's SPDY upgrade, which this
server does not speak: they get a 400 saying which kubectl to use. Port-forwarding has no
network to reach, and `kubectl attach` no process to join, so both are refused plainly.
"""

import base64
import binascii
from dataclasses import dataclass

from apiserver import errors
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import CONNECT, Route
from apiserver.registry import kinds, store
from controlplane import shell

SUBRESOURCES = CONNECT
NAMESERVER = "10.96.0.10"
TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass
class ExecSession:
    """What a stream into a container needs once the gates have passed."""

    pod: str
    container: str
    command: list[str]
    box: shell.Box
    stdin: bool
    tty: bool
    stderr: bool


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    """Plain HTTP: the checks, then the plain refusal (only WebSocket streams are served)."""
    name = target.name
    if target.subresource == "portforward":
        store.get(target.kind, target.namespace or "", name)  # a missing Pod is a 404
        raise errors.bad_request(
            f'cannot forward a port to pod "{name}": this cluster has no real network, '
            f"only simulated containers. Its Service and Endpoints show where traffic would go."
        )
    open_session(request, target)
    raise errors.bad_request(
        f'cannot {target.subresource} into pod "{name}" over SPDY: this cluster\'s API server '
        f"streams only over WebSocket, which kubectl 1.30 and newer use. Upgrade kubectl "
        f"(kubectl version --client shows yours)."
    )


def open_session(request: ApiRequest, target: Route) -> ExecSession:
    """The Pod, its container and what it holds; Kubernetes' refusals when it cannot run."""
    pod = store.get(target.kind, target.namespace or "", target.name)
    name = target.name
    if target.subresource == "attach":
        raise errors.bad_request(
            f'cannot attach to pod "{name}": its containers are simulated, so there is no '
            f"process to join. kubectl logs {name} shows what it printed."
        )
    spec = pod.get("spec") or {}
    containers = spec.get("containers") or []
    names = [c.get("name", "") for c in containers]
    wanted = request.query.get("container", "")
    if not wanted:
        if len(names) != 1:
            raise errors.bad_request(
                f"a container name must be specified for pod {name}, "
                f"choose one of: [{' '.join(names)}]"
            )
        wanted = names[0]
    container = next((c for c in containers if c.get("name") == wanted), None)
    if container is None:
        raise errors.bad_request(f"container {wanted} is not valid for pod {name}")
    if not spec.get("nodeName"):
        raise errors.bad_request(f"pod {name} does not have a host assigned")
    if not _running(pod, wanted):
        raise errors.bad_request(f'unable to upgrade connection: container not found ("{wanted}")')
    resolved = _resolved_env(pod, container)
    box = shell.Box(
        pod=pod,
        container=container,
        environment=shell.environment(pod, container, resolved),
        files=_files(pod, container),
    )
    return ExecSession(
        pod=name,
        container=wanted,
        command=list(request.command) or request.query.get("command", "").split(),
        box=box,
        stdin=_flag(request.query.get("stdin")),
        tty=_flag(request.query.get("tty")),
        stderr=_flag(request.query.get("stderr")),
    )


def _flag(value: str | None) -> bool:
    return value in ("true", "1")


def _running(pod: dict, container: str) -> bool:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            return "running" in (status.get("state") or {})
    return False


def _read(resource: str, namespace: str, name: str) -> dict | None:
    kind = kinds.lookup("", "v1", resource)
    try:
        return store.get(kind, namespace, name)
    except errors.ApiError:
        return None


def _values(resource: str, namespace: str, name: str) -> dict[str, str] | None:
    """A ConfigMap's data, or a Secret's decoded; None when it does not exist."""
    obj = _read(resource, namespace, name)
    if obj is None:
        return None
    data = obj.get("data") or {}
    if resource == "configmaps":
        return {k: str(v) for k, v in data.items()}
    decoded = {}
    for key, value in data.items():
        try:
            decoded[key] = base64.b64decode(value).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            decoded[key] = ""
    return decoded


def _field(pod: dict, path: str) -> str:
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    return str(
        {
            "metadata.name": meta.get("name"),
            "metadata.namespace": meta.get("namespace"),
            "metadata.uid": meta.get("uid"),
            "spec.nodeName": spec.get("nodeName"),
            "spec.serviceAccountName": spec.get("serviceAccountName"),
            "status.podIP": status.get("podIP"),
            "status.hostIP": status.get("hostIP"),
        }.get(path)
        or ""
    )


def _resolved_env(pod: dict, container: dict) -> dict[str, str]:
    """The values a container's env takes from ConfigMaps, Secrets and the Pod's fields."""
    namespace = pod["metadata"].get("namespace", "")
    found: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        ref = source.get("configMapRef") or source.get("secretRef") or {}
        resource = "configmaps" if "configMapRef" in source else "secrets"
        for key, value in (_values(resource, namespace, ref.get("name", "")) or {}).items():
            found[prefix + key] = value
    for entry in container.get("env") or []:
        source = entry.get("valueFrom") or {}
        if "configMapKeyRef" in source or "secretKeyRef" in source:
            ref = source.get("configMapKeyRef") or source.get("secretKeyRef")
            resource = "configmaps" if "configMapKeyRef" in source else "secrets"
            values = _values(resource, namespace, ref.get("name", "")) or {}
            if ref.get("key") in values:
                found[entry["name"]] = values[ref["key"]]
        elif "fieldRef" in source:
            found[entry["name"]] = _field(pod, source["fieldRef"].get("fieldPath", ""))
    return found


def _files(pod: dict, container: dict) -> dict[str, str]:
    """The files a command can read: the kubelet's own and each mounted volume's keys."""
    meta = pod["metadata"]
    namespace = meta.get("namespace", "")
    name = meta.get("name", "")
    ip = (pod.get("status") or {}).get("podIP", "")
    files = {
        "/etc/hostname": f"{name}\n",
        "/etc/hosts": (
            "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\n" + (f"{ip}\t{name}\n" if ip else "")
        ),
        "/etc/resolv.conf": (
            f"search {namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
            f"nameserver {NAMESERVER}\noptions ndots:5\n"
        ),
    }
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount.get("name"))
        if volume is None:
            continue
        where = mount.get("mountPath", "").rstrip("/")
        for key, text in _volume_files(volume, pod).items():
            files[f"{where}/{key}"] = text
    return files


def _volume_files(volume: dict, pod: dict) -> dict[str, str]:
    namespace = pod["metadata"].get("namespace", "")
    sources = []
    if "configMap" in volume:
        sources.append(("configmaps", volume["configMap"]))
    elif "secret" in volume:
        ref = volume["secret"]
        sources.append(("secrets", {**ref, "name": ref.get("secretName", "")}))
    for source in (volume.get("projected") or {}).get("sources") or []:
        if "configMap" in source:
            sources.append(("configmaps", source["configMap"]))
        elif "secret" in source:
            sources.append(("secrets", source["secret"]))
        elif "serviceAccountToken" in source:
            sources.append(("token", source["serviceAccountToken"]))
        elif "downwardAPI" in source:
            sources.append(("fields", source["downwardAPI"]))
    if "downwardAPI" in volume:
        sources.append(("fields", volume["downwardAPI"]))
    files: dict[str, str] = {}
    for resource, ref in sources:
        if resource == "token":
            files[ref.get("path", "token")] = _token_note(pod)
            continue
        if resource == "fields":
            for item in ref.get("items") or []:
                path = (item.get("fieldRef") or {}).get("fieldPath", "")
                files[item.get("path", "")] = _field(pod, path)
            continue
        values = _values(resource, namespace, ref.get("name", "")) or {}
        items = ref.get("items")
        if items:
            files.update({i["path"]: values[i["key"]] for i in items if i.get("key") in values})
        else:
            files.update(values)
    return files


def _token_note(pod: dict) -> str:
    account = (pod.get("spec") or {}).get("serviceAccountName") or "default"
    return f"(a projected token for the ServiceAccount {account}; kubectl create token {account})"
