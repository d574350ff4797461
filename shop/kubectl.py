"""The kubectl command a learner would type to send the same request from a terminal."""

import shlex


def resource_arg(plural: str, group: str, is_custom: bool = False) -> str:
    """How to name the resource on the command line: `pods`, or `widgets.example.com`."""
    return f"{plural}.{group}" if group and is_custom else plural


def create(manifest: str, namespace: str) -> str:
    """`kubectl create` with the order's own text as a here-document (create = POST)."""
    lines = manifest.rstrip().splitlines()
    delimiter = "EOF"
    while delimiter in (line.strip() for line in lines):
        delimiter = f"{delimiter}_"
    body = "\n".join(lines)
    return f"kubectl create -n {shlex.quote(namespace)} -f - <<'{delimiter}'\n{body}\n{delimiter}"


def get(resource: str, name: str, namespace: str) -> str:
    """Read one object back as YAML, as the receipt page does with a GET."""
    return f"kubectl get {resource} {shlex.quote(name)} -n {shlex.quote(namespace)} -o yaml"


def delete(resource: str, name: str, namespace: str) -> str:
    """Cancel one order: kubectl sends a DELETE for the object."""
    return f"kubectl delete {resource} {shlex.quote(name)} -n {shlex.quote(namespace)}"


def list_all(resources: list[str], namespace: str) -> str:
    """One command listing several kinds; kubectl still sends one GET per kind."""
    return f"kubectl get {','.join(resources)} -n {shlex.quote(namespace)}"


def watch(resource: str, name: str, namespace: str) -> str:
    """Follow one object from a terminal: kubectl keeps a watch open and prints each change."""
    return f"kubectl get {resource} {shlex.quote(name)} -n {shlex.quote(namespace)} --watch"


def watch_all(resource: str, namespace: str) -> str:
    """Follow a whole kind in a namespace: one watch, printing each change as it comes."""
    return f"kubectl get {resource} -n {shlex.quote(namespace)} --watch"


def logs(name: str, namespace: str, container: str = "") -> str:
    """Read what a Pod's container printed; kubectl asks the API server, which asks the node."""
    chosen = f" -c {shlex.quote(container)}" if container else ""
    return f"kubectl logs {shlex.quote(name)}{chosen} -n {shlex.quote(namespace)}"


def get_raw(path: str) -> str:
    """Any API path read from a terminal, its JSON printed as the server sent it."""
    return f"kubectl get --raw {shlex.quote(path)}"
