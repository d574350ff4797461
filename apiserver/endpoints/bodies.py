"""The one request-body gate: size, depth, YAML aliases and the fast C loader.

Every body that reaches the API server passes here, and so does the shop's order form,
so a learner's YAML meets the same limits whichever door it comes through. The C loader
matters: the pure-Python one takes tens of seconds of CPU on a few kilobytes of `[`.
"""

import json
import math
from collections.abc import Callable
from typing import Any

import yaml
from django.conf import settings

from apiserver import errors
from apiserver.endpoints import protobuf
from apiserver.endpoints.request import JSON, ApiRequest

MAX_DEPTH = 100
APPLY_PATCH = "application/apply-patch+yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", APPLY_PATCH)

try:
    _SafeLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _SafeLoader = yaml.SafeLoader
TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _YamlLoader(_SafeLoader):
    """The safe loader, minus reading plain dates: Kubernetes' YAML-to-JSON keeps them as
    the text they are, and an impossible one (2001-02-30) is no error."""

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != TIMESTAMP]
        for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
    }


def _short(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _scalar_or_refuse(construct: Callable) -> Callable:
    """PyYAML's scalar constructors fail every which way on a value their tag cannot hold
    (`!!bool maybe`, `!!int x`, 5000 digits); that is the body's error, as in go-yaml."""

    def construct_or_refuse(loader: yaml.BaseLoader, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"cannot decode {str(node.value)[:50]!r} as a {_short(node.tag)}",
                node.start_mark,
            ) from None

    return construct_or_refuse


for _tag in ("null", "bool", "int", "float", "binary", "timestamp"):
    _full = f"tag:yaml.org,2002:{_tag}"
    _YamlLoader.add_constructor(_full, _scalar_or_refuse(_SafeLoader.yaml_constructors[_full]))


class BodyRefused(ValueError):
    """Why the gate refused a body: `why` names the rule, `code` the HTTP status.

    `why` is one of empty, too_large, not_utf8, alias, many_documents, syntax, too_deep,
    not_json (a value JSON has no form for, like .nan);
    `line` and `column` (1-based) point at a YAML syntax error when known.
    """

    def __init__(
        self,
        why: str,
        message: str,
        code: int = 400,
        *,
        line: int = 0,
        column: int = 0,
        problem: str = "",
    ) -> None:
        super().__init__(message)
        self.why = why
        self.code = code
        self.line = line
        self.column = column
        self.problem = problem

    def as_api_error(self) -> errors.ApiError:
        if self.code == 413:
            return errors.too_large(max_bytes())
        return errors.bad_request(str(self))


def max_bytes() -> int:
    return getattr(settings, "WAREHOUSE_MAX_BODY_BYTES", 1024 * 1024)


def _depth_ok(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(current, dict):
            stack.extend((v, depth + 1) for v in current.values())
        elif isinstance(current, list | tuple):
            stack.extend((v, depth + 1) for v in current)
    return True


def _refuse_aliases(text: str) -> None:
    """YAML anchors and aliases can expand a small body into gigabytes; refuse them."""
    if "&" not in text and "*" not in text:
        return
    for event in yaml.parse(text, Loader=_YamlLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise BodyRefused("alias", "YAML anchors and aliases are not allowed")


def _plain_json(value: Any) -> Any:
    """What Kubernetes' YAML-to-JSON conversion makes of what YAML may hold besides JSON.

    Dates stay strings, `!!binary` becomes its text, `!!omap` pairs lists, a `!!set` a map
    of nulls (as go-yaml reads it), keys strings; NaN and infinities have no JSON form, so
    they refuse the body.
    """
    if isinstance(value, dict):
        return {_key(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(v) for v in value]
    if isinstance(value, set | frozenset):
        return {_key(k): None for k in sorted(value, key=str)}
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, float) and not math.isfinite(value):
        shown = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
        raise BodyRefused(
            "not_json", f"error converting YAML to JSON: json: unsupported value: {shown}"
        )
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _key(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(_plain_json(key))


def load_yaml(text: str, limit: int | None = None) -> Any:
    """One YAML (or JSON) document through every rule of the gate; raises BodyRefused."""
    limit = max_bytes() if limit is None else limit
    if len(text.encode()) > limit:
        raise BodyRefused("too_large", f"the request body is larger than {limit} bytes", 413)
    if not text.strip():
        raise BodyRefused("empty", "the request body is empty")
    try:
        _refuse_aliases(text)
        value = yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a safe loader
    except yaml.composer.ComposerError as error:
        if "single document" in str(error):
            raise BodyRefused(
                "many_documents", f"error decoding yaml body: {str(error)[:300]}"
            ) from None
        raise _syntax(error) from None
    except yaml.YAMLError as error:
        raise _syntax(error) from None
    except RecursionError:
        raise BodyRefused("too_deep", "the request body is nested too deeply") from None
    if not _depth_ok(value):
        raise BodyRefused("too_deep", "the request body is nested too deeply")
    return _plain_json(value)


def _syntax(error: yaml.YAMLError) -> BodyRefused:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or "it could not be read"
    return BodyRefused(
        "syntax",
        f"error decoding yaml body: {str(error)[:300]}",
        line=mark.line + 1 if mark else 0,
        column=mark.column + 1 if mark else 0,
        problem=str(problem),
    )


def _finite(text: str) -> float:
    """JSON numbers as Go reads them: one too big for a float64 does not decode."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"json: cannot unmarshal number {text} into Go value of type float64")
    return value


def _no_constant(name: str) -> Any:
    """NaN and Infinity are JavaScript, not JSON; Python's reader would take them."""
    raise ValueError(f"invalid character {name[0]!r} looking for beginning of value")


def load_json(text: str) -> Any:
    try:
        value = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except ValueError as error:
        raise BodyRefused(
            "syntax", f"couldn't get version/kind; json parse error: {str(error)[:300]}"
        ) from None
    except RecursionError:
        raise BodyRefused("too_deep", "the request body is nested too deeply") from None
    if not _depth_ok(value):
        raise BodyRefused("too_deep", "the request body is nested too deeply")
    return value


def parse_body(request: ApiRequest, yaml_ok: bool = True) -> Any:
    """Decode a JSON, YAML or protobuf body within the gate's limits; 4xx on anything bad."""
    limit = max_bytes()
    if len(request.body) > limit:
        raise errors.too_large(limit)
    if not request.body.strip():
        raise errors.bad_request("the request body is empty")
    content_type = request.headers.get("content-type", JSON).split(";")[0].strip().lower()
    if content_type == PROTOBUF:
        return protobuf.decode(request.body)
    if "protobuf" in content_type or "cbor" in content_type:
        raise errors.unsupported_media_type(content_type)
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.bad_request("the request body is not valid UTF-8") from None
    try:
        if content_type in YAML_TYPES and yaml_ok:
            return load_yaml(text, limit)
        return load_json(text)
    except BodyRefused as refused:
        raise refused.as_api_error() from None
