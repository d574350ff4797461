"""How fast the API server answers over HTTPS: creates, gets, and watch event latency.

    python bench/api_server.py                      # starts its own server (SQLite)
    python bench/api_server.py --database postgres  # ... on a fresh PostgreSQL database
    python bench/api_server.py --server https://127.0.0.1:6443 --token T --ca var/tls/ca.crt

Talks to loopback only, with plain ``http.client`` over TLS (verified against the app's
CA) and keep-alive connections, the way a client library would. Every phase is bounded
by --count and --seconds. Prints figures; asserts nothing.
"""

import argparse
import contextlib
import http.client
import json
import os
import queue
import secrets
import socket
import ssl
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from support.benchclient import ApiTarget as Target  # noqa: E402 - needs the repo on the path


def request(
    conn: http.client.HTTPSConnection, target: Target, method: str, path: str, body=None
) -> tuple[int, dict]:
    return target.send(conn, method, path, body)


def configmap(name: str, index: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"bench": "yes"}},
        "data": {"shelf": str(index)},
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def report(
    label: str, latencies: list[float], elapsed: float | None, errors: Counter | None = None
) -> None:
    failed = f"   errors {dict(errors)}" if errors else ""
    if not latencies:
        print(f"{label:<30} no successful requests{failed}")
        return
    ms = [value * 1000 for value in latencies]
    rate = f"{len(latencies) / elapsed:8.1f}/s" if elapsed else " " * 10
    print(
        f"{label:<30} {rate}   p50 {percentile(ms, 0.5):7.2f} ms   "
        f"p99 {percentile(ms, 0.99):7.2f} ms   n={len(ms)}{failed}"
    )


def timed_run(
    target: Target, work: list, call: Callable, threads: int, seconds: float
) -> tuple[list[float], float, Counter]:
    """Run ``call(conn, item) -> HTTP status`` over ``work`` on N keep-alive connections."""
    items: queue.Queue = queue.Queue()
    for item in work:
        items.put(item)
    latencies: list[float] = []
    errors: Counter = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        conn = target.connect()
        try:
            while time.monotonic() < deadline:
                try:
                    item = items.get_nowait()
                except queue.Empty:
                    return
                started = time.perf_counter()
                status = call(conn, item)
                took = time.perf_counter() - started
                with lock:
                    if status < 300:
                        latencies.append(took)
                    else:
                        errors[status] += 1
        finally:
            conn.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, time.perf_counter() - started, errors


def bench_creates_and_gets(
    target: Target, prefix: str, count: int, threads: int, seconds: float
) -> None:
    """Each create phase deletes what it made, so a namespace quota is never reached."""

    def create(conn, item) -> int:
        return request(conn, target, "POST", target.collection(), configmap(*item))[0]

    def get(conn, name) -> int:
        return request(conn, target, "GET", f"{target.collection()}/{name}")[0]

    def delete(conn, name) -> int:
        return request(conn, target, "DELETE", f"{target.collection()}/{name}")[0]

    sequential = [(f"{prefix}-s{i}", i) for i in range(count)]
    names = [name for name, _ in sequential]
    report("create, 1 connection", *timed_run(target, sequential, create, 1, seconds))
    report("get, 1 connection", *timed_run(target, names, get, 1, seconds))
    report(f"get, {threads} connections", *timed_run(target, names * 2, get, threads, seconds))
    report(f"delete, {threads} connections", *timed_run(target, names, delete, threads, seconds))
    parallel = [(f"{prefix}-p{i}", i) for i in range(count)]
    report(f"create, {threads} connections", *timed_run(target, parallel, create, threads, seconds))
    timed_run(target, [name for name, _ in parallel], delete, threads, seconds)


def bench_watch_latency(target: Target, prefix: str, count: int, seconds: float) -> None:
    """Time from sending a write to its event on a watch opened before the write.

    Events often arrive before the write's own response has been read, so the delay is
    measured from the moment the request was sent.
    """
    conn = target.connect()
    status, listing = request(conn, target, "GET", target.collection() + "?limit=1")
    if status != 200:
        print(f"{'watch':<30} list failed with {status}")
        return
    since = listing.get("metadata", {}).get("resourceVersion", "0")
    watch_conn = target.connect()
    watch_conn.request(
        "GET",
        f"{target.collection()}?watch=true&resourceVersion={since}"
        f"&timeoutSeconds={int(seconds) + 10}",
        headers=target.headers(),
    )
    response = watch_conn.getresponse()
    if response.status != 200:
        print(f"{'watch':<30} watch failed with {response.status}")
        return
    events: queue.Queue = queue.Queue()
    threading.Thread(target=_read_events, args=(response, events), daemon=True).start()
    delays: dict[str, list[float]] = {"ADDED": [], "MODIFIED": [], "DELETED": []}
    missed: Counter = Counter()
    deadline = time.monotonic() + seconds
    for index in range(count):
        if time.monotonic() > deadline:
            break
        name = f"{prefix}-w{index}"
        item = f"{target.collection()}/{name}"
        writes = [
            ("ADDED", "POST", target.collection(), configmap(name, index)),
            ("MODIFIED", "PATCH", item, {"data": {"shelf": f"moved-{index}"}}),
            ("DELETED", "DELETE", item, None),
        ]
        for kind, method, path, body in writes:
            headers = target.headers()
            if method == "PATCH":
                headers["Content-Type"] = "application/merge-patch+json"
            data = json.dumps(body).encode() if body else None
            sent = time.perf_counter()
            conn.request(method, path, body=data, headers=headers)
            conn.getresponse().read()
            delay = _event_delay(events, kind, name, sent)
            if delay is None:
                missed[kind] += 1
                # The write connection idled past the server's keep-alive; start afresh.
                conn.close()
                conn = target.connect()
            else:
                delays[kind].append(delay)
    # Shut the socket down first: a plain close waits for the reader thread's recv.
    with contextlib.suppress(OSError):
        watch_conn.sock.shutdown(socket.SHUT_RDWR)
    watch_conn.close()
    conn.close()
    for kind, values in delays.items():
        missing = Counter({"missed": missed[kind]}) if missed[kind] else None
        report(f"write to watch {kind}", values, None, missing)


def _read_events(response: http.client.HTTPResponse, events: queue.Queue) -> None:
    # Whatever ends the stream (timeout, our shutdown) just ends the reading.
    with contextlib.suppress(Exception):
        for line in response:
            if line.strip():
                event = json.loads(line)
                name = event.get("object", {}).get("metadata", {}).get("name", "")
                events.put((time.perf_counter(), event.get("type"), name))


def _event_delay(events: queue.Queue, kind: str, name: str, sent: float) -> float | None:
    """How long after ``sent`` the matching event arrived; None after 3 s."""
    give_up = time.monotonic() + 3
    while (left := give_up - time.monotonic()) > 0:
        try:
            arrived, event_type, event_name = events.get(timeout=left)
        except queue.Empty:
            break
        if (event_type, event_name) == (kind, name):
            return arrived - sent
    return None


@contextlib.contextmanager
def own_server(database: str) -> Iterator[Target]:
    """A fresh server exactly like the end-to-end tests use, without rate limits.

    The figures are the server's own cost: with the learner lane's limits on, most of the
    requests would be 429s measured in microseconds (priority and fairness have their own
    tests and `bench/workshop_load.py`).
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    from support.livecluster import running_cluster

    with (
        tempfile.TemporaryDirectory(prefix="warehouse-bench-") as workdir,
        running_cluster(
            Path(workdir),
            database=database,
            extra_env={
                "WAREHOUSE_NAMESPACE_QUOTA": "100000",
                "WAREHOUSE_RATE_LIMIT_BACKEND": "off",
            },
        ) as cluster,
    ):
        print(f"Started a server on {cluster.api_url} ({database})")
        parts = urlsplit(cluster.api_url)
        yield Target(
            parts.hostname, parts.port, cluster.token("bench"), "bench", cluster.ssl_context()
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", help="An API server to measure instead of starting one.")
    parser.add_argument("--token", help="Bearer token for --server.")
    parser.add_argument("--ca", type=Path, help="CA certificate for --server (var/tls/ca.crt).")
    parser.add_argument("--namespace", help="Namespace for --server (default: the token's).")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--count", type=int, default=200, help="Requests per phase (max 5000).")
    parser.add_argument("--threads", type=int, default=4, help="Connections in parallel phases.")
    parser.add_argument("--seconds", type=float, default=30, help="Time limit per phase.")
    args = parser.parse_args()
    count = max(1, min(args.count, 5000))
    threads = max(1, min(args.threads, 32))
    prefix = f"bench-{secrets.token_hex(3)}"

    if args.server:
        parts = urlsplit(args.server)
        if parts.scheme != "https" or parts.hostname not in ("127.0.0.1", "::1", "localhost"):
            parser.error("--server must be an https:// loopback URL")
        if not (args.token and args.ca and args.namespace):
            parser.error("--server needs --token, --ca and --namespace")
        context = ssl.create_default_context(cafile=args.ca)
        server = contextlib.nullcontext(
            Target(parts.hostname, parts.port or 443, args.token, args.namespace, context)
        )
    else:
        server = own_server(args.database)

    with server as target:
        print(f"{count} requests per phase, {threads} parallel connections, TLS on loopback")
        started = time.perf_counter()
        bench_creates_and_gets(target, prefix, count, threads, args.seconds)
        bench_watch_latency(target, prefix, min(count, 100), args.seconds)
        print(f"Done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
