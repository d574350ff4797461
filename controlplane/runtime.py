"""The pretend container runtime: which images exist and what a container's program does.

Nothing is really pulled or run. Two small, documented rules decide what happens, so a
learner can trigger every path on purpose:

Images (the "registry")
    An image exists when its repository (without registry host, tag or digest, and without
    a leading ``library/``) is in `KNOWN_IMAGES`, e.g. ``nginx``, ``nginx:1.27``,
    ``docker.io/library/busybox:1.36``, ``registry.k8s.io/pause:3.10``. It does not exist,
    so the pull fails with ErrImagePull and then ImagePullBackOff, when the repository is
    unknown, or when the tag or name contains ``does-not-exist`` or ``notfound``
    (``nginx:does-not-exist``).

Programs (what the container does once started)
    The words of ``command`` + ``args`` are read as a tiny shell script (`controlplane.shell`,
    the same shell the log and ``kubectl exec`` use): for ``sh -c "<script>"`` (or ``bash``)
    the script, otherwise the words themselves. Statements are split on ``;``, ``&&``,
    ``||`` and new lines and run in order:

    - ``sleep N`` waits N seconds of the clock (``sleep infinity`` never returns);
    - ``exit N`` stops with exit code N; ``false`` sets the code to 1, ``true`` to 0;
    - ``while true``/``tail -f`` or a server program (``nginx``, ``httpd``...) runs forever;
    - anything else (``echo hi``) succeeds at once.

    With no command the image's own entrypoint runs: servers (nginx, redis...) run forever,
    while tool images (busybox, alpine, ubuntu...) run a shell with no input and exit 0 at
    once, so under ``restartPolicy: Always`` they crash-loop, exactly as in a real cluster.
    A non-zero exit code crashes the container (CrashLoopBackOff when the policy restarts
    it); exit 0 completes it (Succeeded for ``Never``/``OnFailure``, as Jobs need).
"""

from dataclasses import dataclass

from controlplane import shell

# Repositories the pretend registry holds, with a plausible compressed size in bytes.
KNOWN_IMAGES: dict[str, int] = {
    "nginx": 72_099_410,
    "httpd": 58_000_210,
    "redis": 45_103_412,
    "memcached": 31_204_120,
    "postgres": 153_890_331,
    "mysql": 170_201_876,
    "mongo": 250_100_330,
    "rabbitmq": 101_882_009,
    "traefik/whoami": 3_170_004,
    "hashicorp/http-echo": 3_901_112,
    "registry.k8s.io/pause": 320_368,
    "registry.k8s.io/echoserver": 46_237_695,
    "gcr.io/google-samples/hello-app": 11_230_450,
    "busybox": 2_155_458,
    "alpine": 3_653_068,
    "ubuntu": 29_754_290,
    "debian": 48_480_501,
    "python": 51_000_700,
    "node": 66_430_112,
    "golang": 78_650_200,
    "perl": 70_120_332,
    "curlimages/curl": 10_332_876,
    "hello-world": 10_072,
}
# Images whose default entrypoint is a shell or a one-shot tool: it exits at once.
SHORT_LIVED = {
    "busybox",
    "alpine",
    "ubuntu",
    "debian",
    "python",
    "node",
    "golang",
    "perl",
    "curlimages/curl",
    "hello-world",
}
MISSING_MARKERS = ("does-not-exist", "notfound")
SERVERS = shell.SERVERS
FOREVER = None


@dataclass(frozen=True)
class ImageRef:
    """An image reference split the way a runtime reads it."""

    original: str
    registry: str
    repository: str
    tag: str

    @property
    def full(self) -> str:
        """The fully qualified name containerd reports, e.g. docker.io/library/nginx:1.27."""
        repository = self.repository
        if self.registry == "docker.io" and "/" not in repository:
            repository = f"library/{repository}"
        return f"{self.registry}/{repository}:{self.tag}"


def parse_image(image: str) -> ImageRef:
    """Split ``[registry/]repository[:tag][@digest]`` with Docker's defaults."""
    name = image.split("@", 1)[0]
    tag = "latest"
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    parts = name.split("/")
    registry = "docker.io"
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry = parts[0]
        parts = parts[1:]
    repository = "/".join(parts)
    if registry == "docker.io" and repository.startswith("library/"):
        repository = repository.removeprefix("library/")
    return ImageRef(original=image, registry=registry, repository=repository, tag=tag)


def catalog_name(ref: ImageRef) -> str:
    return ref.repository if ref.registry == "docker.io" else f"{ref.registry}/{ref.repository}"


def image_exists(image: str) -> bool:
    """Whether the pretend registry can serve this image (see the module docstring)."""
    ref = parse_image(image)
    lowered = image.lower()
    if any(marker in lowered for marker in MISSING_MARKERS):
        return False
    return catalog_name(ref) in KNOWN_IMAGES


def image_size(image: str) -> int:
    return KNOWN_IMAGES.get(catalog_name(parse_image(image)), 1_000_000)


def pull_error(image: str) -> str:
    """The message containerd gives when a reference cannot be resolved."""
    full = parse_image(image).full
    return (
        f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and '
        f'unpack image "{full}": failed to resolve reference "{full}": {full}: not found'
    )


def default_pull_policy(image: str) -> str:
    """Always for ``:latest`` or no tag, IfNotPresent otherwise, as the API server defaults."""
    return "Always" if parse_image(image).tag == "latest" and "@" not in image else "IfNotPresent"


@dataclass(frozen=True)
class Program:
    """What a started container will do: run for `seconds` (None: forever), then exit."""

    seconds: float | None
    exit_code: int


def program(container: dict) -> Program:
    """Read a container's command and args with the rules in the module docstring."""
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    if not words:
        name = catalog_name(parse_image(container.get("image", "")))
        return Program(0.0, 0) if name in SHORT_LIVED else Program(FOREVER, 0)
    script = shell.script_of(words)
    if script is None:
        return Program(0.0, 0)  # a shell with no input ends at once
    runner = shell.Shell(shell.Box(container=container), trusting=True)
    seconds = 0.0
    for kind, value in runner.run(script):
        if kind == "loop":
            return Program(FOREVER, 0)
        if kind == "sleep":
            seconds += value
    return Program(seconds, runner.code)
