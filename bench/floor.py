"""Each hot request as a ratio to the floor: a bare ASGI app sending the same bytes.

    python bench/floor.py                   # 5 s per request type and server
    python bench/floor.py --seconds 10 --connections 8
    python bench/floor.py --only api --reads-on-loop off   # every API request on a thread

Starts the real app exactly as a learner does (`manage.py serve`, DEBUG off, SQLite,
rate limits off), captures one answer of each measured request, then starts a bare ASGI
app that sends those very bytes back, under the same uvicorn, with the same settings and
event loop (uvloop where installed), TLS for the API (the app's own certificates) and
plain HTTP for the pages, two listeners in one process like `serve`. Both are driven by
the same load generator: N keep-alive connections, one per process, each sending its next
request when the last answer is in.

The server's CPU time per request (read from /proc) is the steadiest figure when other
work shares the machine; latency and requests/s are shown too. Prints figures; asserts
nothing.
"""

import argparse
import asyncio
import base64
import contextlib
import http.client
import json
import multiprocessing
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
NAMESPACE = "bench"
CONFIGMAPS = 10


@dataclass(frozen=True)
class Endpoint:
    """Where one listener is and how to reach it."""

    host: str
    port: int
    tls: bool
    ca_file: str = ""

    def connect(self) -> http.client.HTTPConnection:
        if self.tls:
            context = ssl.create_default_context(cafile=self.ca_file)
            return http.client.HTTPSConnection(self.host, self.port, context=context, timeout=30)
        return http.client.HTTPConnection(self.host, self.port, timeout=30)


@dataclass(frozen=True)
class Probe:
    """One measured request type."""

    label: str
    api: bool
    path: str
    headers: dict[str, str]


@dataclass
class Result:
    latencies: list[float]
    elapsed: float
    errors: int
    server_cpu: float
    client_cpu: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def cpu_per_request(self) -> float:
        return self.server_cpu / max(1, len(self.latencies))


# --- the load generator -------------------------------------------------------------------


def _drive(endpoint: Endpoint, probe: Probe, seconds: float, start_at: float, out) -> None:
    """One keep-alive connection in a process of its own: request, read, repeat."""
    conn = endpoint.connect()
    latencies, errors = [], 0
    for _ in range(20):  # warm the connection (and the TLS session) up first
        conn.request("GET", probe.path, headers=probe.headers)
        conn.getresponse().read()
    while time.time() < start_at:
        time.sleep(0.001)
    cpu = time.process_time()
    deadline = time.perf_counter() + seconds
    while (started := time.perf_counter()) < deadline:
        conn.request("GET", probe.path, headers=probe.headers)
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            latencies.append(time.perf_counter() - started)
        else:
            errors += 1
    out.put((latencies, errors, time.process_time() - cpu))
    conn.close()


def _process_cpu(pid: int) -> float:
    """User plus system CPU seconds of a process and its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def load(endpoint: Endpoint, probe: Probe, server_pid: int, connections: int, seconds: float):
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    start_at = time.time() + 1.5
    workers = [
        context.Process(target=_drive, args=(endpoint, probe, seconds, start_at, out))
        for _ in range(connections)
    ]
    for worker in workers:
        worker.start()
    while time.time() < start_at:
        time.sleep(0.001)
    cpu = _process_cpu(server_pid)
    began = time.perf_counter()
    results = [out.get(timeout=seconds + 60) for _ in workers]
    elapsed = time.perf_counter() - began
    server_cpu = _process_cpu(server_pid) - cpu
    for worker in workers:
        worker.join()
    latencies = [value for result in results for value in result[0]]
    return Result(
        latencies=latencies,
        elapsed=elapsed,
        errors=sum(result[1] for result in results),
        server_cpu=server_cpu,
        client_cpu=sum(result[2] for result in results),
    )


# --- the floor: a bare ASGI app under the same uvicorn -----------------------------------


def floor_app(answers: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]]):
    """An ASGI app that answers each known path with its captured status, headers, body."""

    async def app(scope, receive, send) -> None:
        status, headers, body = answers[scope["path"]]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def serve_floor(spec_file: Path) -> None:
    """Run the floor on two listeners in one loop, with `manage.py serve`'s uvicorn settings."""
    import uvicorn

    spec = json.loads(spec_file.read_text())
    answers = {
        path: (
            status,
            [(name.encode(), value.encode()) for name, value in headers],
            base64.b64decode(body),
        )
        for path, (status, headers, body) in spec["answers"].items()
    }
    app = floor_app(answers)

    def server(port: int, **tls) -> uvicorn.Server:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            lifespan="off",
            log_level="info",
            access_log=True,
            server_header=False,
            **tls,
        )
        return uvicorn.Server(config)

    web = server(spec["web_port"])
    api = server(spec["api_port"], ssl_certfile=spec["cert"], ssl_keyfile=spec["key"])

    async def both() -> None:
        await asyncio.gather(web.serve(), api.serve())

    # The event loop `manage.py serve` runs on (uvloop where installed).
    asyncio.run(both(), loop_factory=web.config.get_loop_factory())


@contextlib.contextmanager
def floor_server(workdir: Path, answers: dict, cert: Path, key: Path):
    from support.livecluster import free_port, stop

    web_port, api_port = free_port(), free_port()
    spec = workdir / "floor.json"
    spec.write_text(
        json.dumps(
            {
                "answers": answers,
                "web_port": web_port,
                "api_port": api_port,
                "cert": str(cert),
                "key": str(key),
            }
        )
    )
    with open(workdir / "floor.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, __file__, "--serve-floor", str(spec)],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        for port in (web_port, api_port):
            _wait_for_port(port, process)
        yield process, web_port, api_port
    finally:
        stop(process)


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the floor server exited during start-up")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.05)
    raise SystemExit("the floor server did not start")


# --- the real app --------------------------------------------------------------------------


def probes(token: str, gzip: bool) -> list[Probe]:
    api_headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "User-Agent": "warehouse-bench",
    }
    page_headers = {"Accept": "text/html", "User-Agent": "warehouse-bench"}
    if gzip:
        page_headers["Accept-Encoding"] = "gzip"
    collection = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
    return [
        Probe("API get one ConfigMap", True, f"{collection}/floor-0", api_headers),
        Probe(f"API list {CONFIGMAPS} ConfigMaps", True, collection, api_headers),
        Probe("store front /", False, "/", page_headers),
        Probe("product page", False, "/catalog/apps/v1/deployments/", page_headers),
    ]


def capture(endpoint: Endpoint, probe: Probe) -> tuple[int, list[tuple[str, str]], str]:
    """The app's answer, to be replayed byte for byte (bar the Date header) by the floor."""
    conn = endpoint.connect()
    conn.request("GET", probe.path, headers=probe.headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"{probe.label}: the app answered {response.status}: {body[:300]!r}")
    headers = [(k, v) for k, v in response.getheaders() if k.lower() not in ("date", "server")]
    return response.status, headers, base64.b64encode(body).decode()


def make_configmaps(endpoint: Endpoint, token: str) -> None:
    conn = endpoint.connect()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for index in range(CONFIGMAPS):
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"floor-{index}", "labels": {"bench": "floor"}},
            "data": {"shelf": str(index), "aisle": "seven"},
        }
        conn.request(
            "POST",
            f"/api/v1/namespaces/{NAMESPACE}/configmaps",
            body=json.dumps(body),
            headers=headers,
        )
        response = conn.getresponse()
        text = response.read()
        if response.status not in (201, 409):
            raise SystemExit(f"could not create a ConfigMap: {response.status} {text[:300]!r}")
    conn.close()


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {memory:.0f} GiB RAM"


def _ms(value: float) -> str:
    return f"{value * 1000:7.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="Load per measurement.")
    parser.add_argument("--connections", type=int, default=8, help="Keep-alive connections.")
    parser.add_argument("--no-gzip", action="store_true", help="Pages without Accept-Encoding.")
    parser.add_argument("--only", choices=["api", "pages"], help="Measure one half only.")
    parser.add_argument(
        "--reads-on-loop",
        choices=["auto", "off"],
        default="auto",
        help="WAREHOUSE_API_READS_ON_LOOP for the app (off: every API request on a thread).",
    )
    parser.add_argument("--serve-floor", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_floor:
        serve_floor(args.serve_floor)
        return
    connections = max(1, min(args.connections, 64))
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    from support.livecluster import running_cluster

    with (
        tempfile.TemporaryDirectory(prefix="warehouse-floor-") as tmp,
        running_cluster(
            Path(tmp) / "app",
            database="sqlite",
            extra_env={
                "WAREHOUSE_RATE_LIMIT_BACKEND": "off",
                "WAREHOUSE_NAMESPACE_QUOTA": "100000",
                "WAREHOUSE_API_READS_ON_LOOP": args.reads_on_loop,
            },
        ) as cluster,
    ):
        workdir = Path(tmp)
        ca_file = str(cluster.ca_file)
        web_parts, api_parts = urlsplit(cluster.web_url), urlsplit(cluster.api_url)
        app_web = Endpoint("127.0.0.1", web_parts.port, False)
        app_api = Endpoint("127.0.0.1", api_parts.port, True, ca_file)
        token = cluster.token(NAMESPACE)
        make_configmaps(app_api, token)
        measured = [
            probe
            for probe in probes(token, gzip=not args.no_gzip)
            if args.only is None or probe.api == (args.only == "api")
        ]
        answers = {p.path: capture(app_api if p.api else app_web, p) for p in measured}
        tls_dir = Path(cluster.env["WAREHOUSE_STATE_DIR"]) / "tls"
        print(f"Machine: {machine()}; {connections} keep-alive connections, one per process")
        idle = _process_cpu(cluster.process.pid)
        time.sleep(2)
        idle = (_process_cpu(cluster.process.pid) - idle) / 2
        print(f"The app idles at {idle:.0%} of a core (its control plane), counted in its cpu")
        print(
            f"{args.seconds:.0f} s per figure; the app is `manage.py serve`, DEBUG off, SQLite, "
            f"reads on the loop: {args.reads_on_loop}"
        )
        with floor_server(workdir, answers, tls_dir / "server.crt", tls_dir / "server.key") as (
            floor_process,
            floor_web,
            floor_api,
        ):
            floor_web_end = Endpoint("127.0.0.1", floor_web, False)
            floor_api_end = Endpoint("127.0.0.1", floor_api, True, ca_file)
            print(
                f"{'request':<26} {'server':<6} {'bytes':>7} {'p50 ms':>7} {'p99 ms':>7} "
                f"{'req/s':>7} {'cpu ms/req':>10}  {'× p50':>6} {'× req/s':>7} {'× cpu':>6}"
                f"  {'client cpu ms/req':>17}"
            )
            for probe in measured:
                size = len(base64.b64decode(answers[probe.path][2]))
                floor_end = floor_api_end if probe.api else floor_web_end
                app_end = app_api if probe.api else app_web
                floor = load(floor_end, probe, floor_process.pid, connections, args.seconds)
                app = load(app_end, probe, cluster.process.pid, connections, args.seconds)
                for name, result in (("floor", floor), ("app", app)):
                    _print_row(probe.label, name, size, result, floor)


def _print_row(label: str, name: str, size: int, result: Result, floor: Result) -> None:
    if not result.latencies:
        print(f"{label:<26} {name:<6} no successful requests ({result.errors} errors)")
        return
    p50 = statistics.median(result.latencies)
    p99 = sorted(result.latencies)[int(0.99 * (len(result.latencies) - 1))]
    floor_p50 = statistics.median(floor.latencies) if floor.latencies else 0.0
    ratios = ""
    if name == "app" and floor.latencies:
        ratios = (
            f"{p50 / floor_p50:5.1f}× {floor.rate / result.rate:6.1f}× "
            f"{result.cpu_per_request() / max(floor.cpu_per_request(), 1e-9):5.1f}×"
        )
    else:
        ratios = f"{'':6} {'':7} {'':6}"
    errors = f"  ({result.errors} errors)" if result.errors else ""
    client = result.client_cpu / len(result.latencies)
    print(
        f"{label if name == 'floor' else '':<26} {name:<6} {size:>7} {_ms(p50)} {_ms(p99)} "
        f"{result.rate:7.0f} {_ms(result.cpu_per_request()):>10}  {ratios}  {_ms(client):>17}"
        f"{errors}"
    )


if __name__ == "__main__":
    main()
