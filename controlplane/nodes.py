"""The simulated nodes: the couriers' depots, registered through the API like real kubelets do."""

from datetime import datetime

from controlplane.clock import stamp

KUBELET_VERSION = "v1.32.0"


def node_manifest(index: int, now: datetime, cpu: str, memory: str, pods: int) -> dict:
    """A Node as a kubelet registers it: capacity, allocatable, addresses and a Ready condition."""
    name = f"node-{index}"
    time = stamp(now)
    capacity = {
        "cpu": cpu,
        "memory": memory,
        "pods": str(pods),
        "ephemeral-storage": "61202244Ki",
        "hugepages-2Mi": "0",
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "warehouse.example/depot": f"depot-{index}",
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]},
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [
                _condition(
                    "MemoryPressure",
                    "False",
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                    time,
                ),
                _condition(
                    "DiskPressure",
                    "False",
                    "KubeletHasNoDiskPressure",
                    "kubelet has no disk pressure",
                    time,
                ),
                _condition(
                    "PIDPressure",
                    "False",
                    "KubeletHasSufficientPID",
                    "kubelet has sufficient PID available",
                    time,
                ),
                _condition(
                    "Ready", "True", "KubeletReady", "kubelet is posting ready status", time
                ),
            ],
            "addresses": [
                {"type": "InternalIP", "address": host_ip(index)},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": f"{index:032x}",
                "systemUUID": f"00000000-0000-0000-0000-{index:012x}",
                "bootID": f"00000000-0000-0000-0000-{index:012x}",
                "kernelVersion": "6.1.0-warehouse",
                "osImage": "Warehouse simulated node",
                "containerRuntimeVersion": "containerd://1.7.24",
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def host_ip(index: int) -> str:
    return f"192.168.49.{index + 1}"


def node_index(name: str) -> int:
    """node-3 -> 3; other names hash into a stable small number."""
    suffix = name.rsplit("-", 1)[-1]
    return int(suffix) if suffix.isdigit() else sum(name.encode()) % 200 + 1


def node_ready(node: dict) -> bool:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def _condition(kind: str, status: str, reason: str, message: str, time: str) -> dict:
    return {
        "type": kind,
        "status": status,
        "lastHeartbeatTime": time,
        "lastTransitionTime": time,
        "reason": reason,
        "message": message,
    }
