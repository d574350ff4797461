"""Order forms as YAML: small example manifests to start from, and a careful parser.

Learners paste anything into the textarea, so parsing refuses what could hurt the server
(huge text, alias bombs, deep nesting) and explains every other problem in plain words.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from apiserver.endpoints import bodies
from catalog import shelf
from catalog.models import ResourceKind

MAX_BYTES = 64 * 1024
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

# The guided Pod form offers known images only, so its fields cannot inject YAML.
POD_IMAGES: list[tuple[str, str]] = [
    ("nginx:1.27", "nginx:1.27 - a small web server that starts and keeps running"),
    ("busybox:1.36", "busybox:1.36 - a tiny toolbox that sleeps for an hour"),
    ("nginx:does-not-exist", "nginx:does-not-exist - a broken image, to watch an order fail"),
]

_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: {namespace}
  labels:
    app: {name}
spec:
  containers:
    - name: main
      image: {image}
{extra}"""

_POD_WEB_EXTRA = """\
      ports:
        - containerPort: 80
"""

_POD_SLEEP_EXTRA = """\
      command: ["sleep", "3600"]
"""

PLACEHOLDER_NOTE = (
    "# Replace each value in <angle brackets>. Only the required fields are here: the spec\n"
    "# sheet on the product page lists the others and says what each one means.\n"
)


class ManifestError(ValueError):
    """The text in the order box is not one object we can send; the message says why."""


@dataclass
class PodChoice:
    """What the guided Pod form asked for."""

    name: str = "web"
    image: str = "nginx:1.27"


def pod_manifest(namespace: str, choice: PodChoice) -> str:
    """A Pod order filled in from the guided form."""
    extra = _POD_SLEEP_EXTRA if choice.image.startswith("busybox") else _POD_WEB_EXTRA
    return _POD.format(name=choice.name, namespace=namespace, image=choice.image, extra=extra)


def example_manifest(kind: ResourceKind, namespace: str) -> str:
    """The order form's starting text for `kind`, addressed to `namespace`.

    Common kinds get our own small working example. Every other kind, custom kinds from a
    CRD included, starts from the catalog's example, which fills in the required fields of
    the spec sheet, so the first order is not refused only for a missing field.
    """
    group = kind.api_version.group.name
    if not kind.is_custom and group == "" and kind.kind == "Pod":
        return pod_manifest(namespace, PodChoice())
    manifest = shelf.well_known(kind) or yaml.safe_load(shelf.example_manifest(kind))
    metadata = manifest.setdefault("metadata", {})
    if kind.namespaced:
        metadata["namespace"] = namespace
    else:
        metadata.pop("namespace", None)
    text = yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False)
    return PLACEHOLDER_NOTE + text if "<" in text else text


def parse_manifest(text: str) -> dict[str, Any]:
    """Read one object from YAML (or JSON) text; raise ManifestError with a friendly reason.

    The text goes through the API server's body gate (the C loader, with its size, depth
    and alias rules), so the order form can cost no more than a kubectl request does.
    """
    try:
        data = bodies.load_yaml(text, MAX_BYTES)
    except bodies.BodyRefused as refused:
        raise ManifestError(_refusal(refused)) from None
    if not isinstance(data, dict):
        found = "nothing" if data is None else f"a {_yaml_type(data)}"
        raise ManifestError(
            f"An order must be one object (a mapping with apiVersion, kind and metadata), "
            f"but the text holds {found}."
        )
    try:
        return json.loads(json.dumps(data, default=str, allow_nan=False))
    except (TypeError, ValueError):
        raise ManifestError(NOT_JSON) from None


NOT_JSON = (
    "Some values cannot be sent as JSON (for example .nan, .inf, or keys that are "
    "lists). Use plain text, numbers, lists and mappings."
)


REFUSALS = {
    "empty": "The order form is empty. Paste or type one object in YAML.",
    "too_large": (
        f"The order form is longer than {MAX_BYTES // 1024} KiB. "
        "Orders here are small: one object at a time."
    ),
    "alias": (
        "YAML anchors and aliases (&name and *name) are not accepted here. "
        "Write each value out in full."
    ),
    "many_documents": (
        "This text holds more than one document (separated by ---). Order one object at a time."
    ),
    "too_deep": "The text is nested too deeply to be an order.",
    "not_json": NOT_JSON,
}


def _refusal(refused: bodies.BodyRefused) -> str:
    """The gate's reason in the order form's words; a syntax error says where it is."""
    if refused.why in REFUSALS:
        return REFUSALS[refused.why]
    where = f"Line {refused.line}, column {refused.column}: " if refused.line else ""
    return f"This is not valid YAML. {where}{refused.problem or 'it could not be read'}."


def _yaml_type(data: object) -> str:
    if isinstance(data, list):
        return "list"
    if isinstance(data, str):
        return "plain piece of text"
    return "single value"
