"""What 1,000 open watches from one learner cost the API server in production mode.

    python bench/watches.py                         # 1,000 watches, 2 API workers
    python bench/watches.py --watches 300 --api-workers 1 --seconds 10

Starts ``deploy/run-production.sh`` (uvicorn workers, pooled PostgreSQL connections on a
throwaway database, watch seats and rate limits in Redis) on loopback ports, with the
learner's watch cap and rate limits raised so that the cost of watches is what is
measured, not the fairness policy. Then:

1. another learner GETs and creates ConfigMaps for --seconds alone (the baseline);
2. one learner opens --watches watches on their ConfigMaps, each on its own TLS
   connection (HTTP/1.1 streams one response per connection), from one asyncio loop;
3. while they are held, the other learner goes on, first with the watches idle, then
   while the watched learner creates a few probe ConfigMaps, to check that writes reach
   every open watch (each write is then a thousand events to send);
4. the watches are closed.

The server's memory (VmRSS summed over its processes, from /proc) and thread count are
read before, while open, and after closing, with its PostgreSQL connections. The load
generator shares the machine, so latencies are a floor. Prints figures; asserts nothing.
"""

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import secrets
import ssl
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from support.benchclient import ApiTarget as Learner  # noqa: E402 - needs the repo on the path

PROBES = 5
OPENING_AT_ONCE = 50  # TLS handshakes in flight while opening
SETTLE_SECONDS = 3.0


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def machine() -> str:
    with open("/proc/meminfo") as meminfo:
        kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    return f"{os.cpu_count()} cores, {kib / 1024 / 1024:.0f} GiB RAM"


# -- the server's processes, from /proc ------------------------------------------------


def _status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as status:
        return dict(line.rstrip("\n").split(":\t", 1) for line in status if ":\t" in line)


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent, session, command line) of every process we may read."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found[int(entry)] = (int(fields[1]), int(fields[3]), command)
    return found


@dataclass
class Usage:
    rss_mib: float
    threads: int
    processes: int


def usage(pids: list[int]) -> Usage:
    rss = threads = alive = 0
    for pid in pids:
        try:
            status = _status(pid)
        except OSError:
            continue
        rss += int(status["VmRSS"].split()[0])
        threads += int(status["Threads"])
        alive += 1
    return Usage(rss / 1024, threads, alive)


def server_pids(session: int, api_port: int) -> tuple[list[int], list[int]]:
    """(every process of the server's session, the API server's uvicorn processes)."""
    processes = _processes()
    everyone = [pid for pid, (_, sid, _) in processes.items() if sid == session]
    masters = [
        pid
        for pid in everyone
        if "uvicorn" in processes[pid][2] and f"--port {api_port} " in processes[pid][2] + " "
    ]
    api = set(masters)
    grew = True
    while grew:
        grew = False
        for pid in everyone:
            if pid not in api and processes[pid][0] in api:
                api.add(pid)
                grew = True
    return everyone, sorted(api)


def database_connections(url: str) -> Counter:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT coalesce(state, '?') FROM pg_stat_activity WHERE datname = %s", [name]
        ).fetchall()
    return Counter(state for (state,) in rows)


# -- the other learner: plain keep-alive HTTPS in a thread ------------------------------


def configmap(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {}}


@dataclass
class Latencies:
    by_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: Counter = field(default_factory=Counter)


def other_learner(learner: Learner, seconds: float, pause: float = 0.05) -> Latencies:
    """A GET of one ConfigMap, a list and a create, in turn, every `pause` seconds."""
    results = Latencies()
    conn = learner.connect()
    status, _ = learner.send(conn, "POST", learner.collection(), configmap("shelf"))
    deadline = time.monotonic() + seconds
    count = 0
    try:
        while time.monotonic() < deadline:
            count += 1
            kind = ("get", "list", "create")[count % 3]
            path = learner.collection()
            body = None
            method = "GET"
            if kind == "get":
                path += "/shelf"
            elif kind == "create":
                method, body = "POST", configmap(f"order-{count}-{secrets.token_hex(2)}")
            started = time.perf_counter()
            try:
                status, _ = learner.send(conn, method, path, body)
            except (OSError, http.client.HTTPException):
                status = 599
                conn.close()
                conn = learner.connect()
            took = time.perf_counter() - started
            if status < 300:
                results.by_kind[kind].append(took)
            else:
                results.failures[(kind, status)] += 1
            time.sleep(pause)
    finally:
        conn.close()
    return results


# -- the watches: one asyncio loop, one TLS connection each ----------------------------


class Watch:
    """One open watch stream over a raw TLS connection, read as chunked JSON lines."""

    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.arrived: dict[str, float] = {}
        self.ended = False

    async def open(self, learner: Learner, path: str) -> int:
        self.reader, self.writer = await asyncio.open_connection(
            learner.host, learner.port, ssl=learner.context
        )
        lines = [f"GET {path} HTTP/1.1", f"Host: {learner.host}:{learner.port}"]
        lines += [f"{name}: {value}" for name, value in learner.headers().items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1])

    async def follow(self) -> None:
        """Read chunks until the server or we end the stream; note when probes arrive."""
        assert self.reader is not None
        pending = b""
        try:
            while True:
                size = int((await self.reader.readline()).strip() or b"0", 16)
                if size == 0:
                    break
                pending += await self.reader.readexactly(size + 2)
                pending = pending[:-2] if pending.endswith(b"\r\n") else pending
                *events, pending = pending.split(b"\n")
                for line in events:
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    name = event["object"].get("metadata", {}).get("name", "")
                    if event["type"] == "ADDED" and name.startswith("probe-"):
                        self.arrived[name] = time.monotonic()
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        self.ended = True

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def open_watches(
    learner: Learner, count: int, path: str
) -> tuple[list[Watch], list[asyncio.Task], list[float], Counter]:
    gate = asyncio.Semaphore(OPENING_AT_ONCE)
    opened: list[Watch] = []
    latencies: list[float] = []
    failures: Counter = Counter()

    async def one() -> None:
        async with gate:
            watch = Watch()
            started = time.perf_counter()
            try:
                status = await asyncio.wait_for(watch.open(learner, path), 60)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ssl.SSLError) as error:
                failures[type(error).__name__] += 1
                watch.close()
                return
            if status != 200:
                failures[status] += 1
                watch.close()
                return
            latencies.append(time.perf_counter() - started)
            opened.append(watch)

    await asyncio.gather(*(one() for _ in range(count)))
    tasks = [asyncio.create_task(watch.follow()) for watch in opened]
    return opened, tasks, latencies, failures


# -- the run -----------------------------------------------------------------------------


def row(label: str, api: Usage, everything: Usage, db: Counter) -> str:
    connections = ", ".join(f"{n} {state}" for state, n in sorted(db.items())) or "none"
    return (
        f"  {label:<22} {api.rss_mib:8.1f} MiB {api.threads:6d}   "
        f"{everything.rss_mib:8.1f} MiB {everything.threads:6d}   {connections}"
    )


def latency_lines(label: str, results: Latencies, seconds: float) -> list[str]:
    lines = []
    for kind in ("get", "list", "create"):
        ms = [value * 1000 for value in results.by_kind.get(kind, [])]
        failed = {s: n for (k, s), n in results.failures.items() if k == kind}
        lines.append(
            f"  {label:<16} {kind:<7} {len(ms) / seconds:6.1f}/s"
            f"   p50 {percentile(ms, 0.5):7.1f} ms   p99 {percentile(ms, 0.99):7.1f} ms"
            f"   n={len(ms)}" + (f"   failed {failed}" if failed else "")
        )
    return lines


async def hold(
    watched: Learner, other: Learner, seconds: float
) -> tuple[Latencies, Latencies, dict[str, float]]:
    """The other learner's requests while the watches are open: first with the watches
    idle, then while probes written in the watched namespace go out to every watch."""
    loop = asyncio.get_running_loop()
    idle = await loop.run_in_executor(None, other_learner, other, seconds)
    busy = loop.run_in_executor(None, other_learner, other, seconds)
    sent: dict[str, float] = {}
    conn = await loop.run_in_executor(None, watched.connect)
    for index in range(PROBES):
        await asyncio.sleep(seconds / (PROBES + 1))
        name = f"probe-{index}-{secrets.token_hex(2)}"
        sent[name] = time.monotonic()
        await loop.run_in_executor(
            None, watched.send, conn, "POST", watched.collection(), configmap(name)
        )
    conn.close()
    return idle, await busy, sent


def run(args: argparse.Namespace) -> None:
    from support.production import production_server, redis_url_for_tests

    print(f"\n== {args.watches} watches from one learner: production mode on PostgreSQL ==")
    print(f"  machine: {machine()}; {args.api_workers} API workers; load generator on it too")
    workdir = Path(tempfile.mkdtemp(prefix="watches-bench-"))
    with production_server(
        workdir,
        database="postgres",
        api_workers=args.api_workers,
        web_workers=1,
        controlplane=False,
        REDIS_URL=redis_url_for_tests(),
        WAREHOUSE_MAX_WATCHES_PER_USER=str(args.watches + 100),
        WAREHOUSE_LEARNER_QPS="100000",
        WAREHOUSE_LEARNER_BURST="100000",
        WAREHOUSE_LEARNER_LANE_QPS="100000",
        WAREHOUSE_LEARNER_LANE_BURST="100000",
        WAREHOUSE_NAMESPACE_QUOTA="100000",
    ) as server:
        api = urlsplit(server.api_url)
        context = server.ssl_context()
        suffix = secrets.token_hex(2)
        people = {}
        for role in ("watcher", "other"):
            name = f"{role}-{suffix}"
            people[role] = Learner(
                api.hostname, api.port, server.token(name), name, context, "warehouse-bench/watches"
            )
        watched, other = people["watcher"], people["other"]
        session = server.process.pid
        pids = lambda: server_pids(session, api.port)  # noqa: E731 - re-read: workers may change

        def measure(label: str) -> str:
            everyone, api_pids = pids()
            return row(
                label, usage(api_pids), usage(everyone), database_connections(server.database_url)
            )

        other_learner(other, 2.0)  # warm-up: first connections, caches
        baseline = other_learner(other, args.seconds)
        rows = [measure("before")]

        conn = watched.connect()
        _, listed = watched.send(conn, "GET", watched.collection())
        conn.close()
        revision = listed["metadata"]["resourceVersion"]
        path = (
            f"{watched.collection()}?watch=true&resourceVersion={revision}"
            f"&allowWatchBookmarks=true&timeoutSeconds={int(args.seconds * 4 + 600)}"
        )

        async def scenario() -> tuple:
            started = time.perf_counter()
            opened, tasks, open_ms, open_failures = await open_watches(watched, args.watches, path)
            took = time.perf_counter() - started
            await asyncio.sleep(SETTLE_SECONDS)
            rows.append(measure(f"{len(opened)} watches open"))
            idle, held, sent = await hold(watched, other, args.seconds)
            await asyncio.sleep(1.0)
            rows.append(measure("after the load"))
            ended_early = sum(watch.ended for watch in opened)
            for watch in opened:
                watch.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return opened, took, open_ms, open_failures, idle, held, sent, ended_early

        (opened, took, open_ms, open_failures, idle, held, sent, ended_early) = asyncio.run(
            scenario()
        )
        time.sleep(args.settle)
        rows.append(measure(f"{args.settle:.0f} s after closing"))

    print(f"  opened {len(opened)} of {args.watches} watches in {took:.1f} s", end="")
    open_ms = [value * 1000 for value in open_ms]
    print(
        f" (each: p50 {percentile(open_ms, 0.5):.0f} ms, p99 {percentile(open_ms, 0.99):.0f} ms)"
        + (f"; refused or failed: {dict(open_failures)}" if open_failures else "")
    )
    if ended_early:
        print(f"  {ended_early} watches ended before the bench closed them")
    print("\n  server                 API workers            all server processes   PostgreSQL")
    print("                              RSS  threads           RSS  threads   connections")
    print("\n".join(rows))
    delays = [
        (watch.arrived[name] - at) * 1000
        for name, at in sent.items()
        for watch in opened
        if name in watch.arrived
    ]
    reached = sum(all(name in watch.arrived for watch in opened) for name in sent)
    print(
        f"\n  probes written in the watched namespace: {len(sent)}; reached every watch: "
        f"{reached}; deliveries {len(delays)} of {len(sent) * len(opened)}"
        f" (after the write: p50 {percentile(delays, 0.5):.0f} ms,"
        f" p99 {percentile(delays, 0.99):.0f} ms, max {max(delays, default=float('nan')):.0f} ms)"
    )
    print(
        f"\n  the other learner, one request every 50 ms: alone, with {len(opened)} idle"
        f" watches open, and while {PROBES} writes go out to all of them"
    )
    print("\n".join(latency_lines("no watches", baseline, args.seconds)))
    print("\n".join(latency_lines(f"{len(opened)} idle", idle, args.seconds)))
    print("\n".join(latency_lines(f"{len(opened)} + probes", held, args.seconds)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--watches", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0, help="each learner phase")
    parser.add_argument("--settle", type=float, default=10.0, help="wait after closing")
    parser.add_argument("--api-workers", type=int, default=2)
    args = parser.parse_args()
    if not 1 <= args.watches <= 5000 or args.seconds > 120:
        parser.error("at most 5,000 watches and 120 seconds per phase")
    with contextlib.suppress(KeyboardInterrupt):
        run(args)


if __name__ == "__main__":
    main()
