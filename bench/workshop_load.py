"""A simulated workshop against Warehouse in production mode: how many learners fit?

    python bench/workshop_load.py --database postgres               # 100,200,300,500
    python bench/workshop_load.py --database postgres --levels 10,50 --seconds 15

Starts ``deploy/run-production.sh`` (uvicorn workers, the control plane, rate limits in
Redis) on loopback ports with a fresh database. For each number of learners N, N
simulated learners run for --seconds: each has signed in on the shop page and downloaded
their kubeconfig, keeps the "Your orders" page streaming (its SSE stream,
``/orders/events/``) and a watch on their orders open (over TLS, with the kubeconfig's
token), orders through the API every 5 s and lists their orders every 5 s. The orders
are ConfigMaps (``--orders configmaps``, the default: the write path alone, which the
page watches too) or Pods (``--orders pods``: each one also sets the scheduler, a kubelet
and the events going). Each learner keeps at most KEEP_ORDERS, deleting the oldest (at
once, gracePeriodSeconds=0), so the run measures capacity, not the quota.

Per level it prints create/list/delete p50/p99, the write-to-page delay (from sending a
create to that order's name arriving on the learner's SSE stream) and the write-to-watch
delay, failures by status, dropped streams (an SSE or watch stream that ends or fails
before the level ends; it reconnects, but counts), requests/s, the server processes'
CPU and RSS (from /proc), the load generator's own CPU and event-loop lag (so one can
tell when the generator, not the server, is the limit), how much of the machine other
work took, what the database's busy sessions wait on mid-window, and the server log's
errors. Like a person at kubectl, a learner waits for each answer and skips the turns a
slow one took. A level holds when create and list p99 < 250 ms, write-to-page p99 <
500 ms, with no 5xx, no dropped stream and no order missing from its page. Every level
given is run, also after one fails, to show the trend.

The generator is --processes processes with asyncio inside (stdlib HTTP/1.1 over
asyncio streams), one share of the learners each; streams open over a ramp before the
measured window, and sign-ins (threads, before the level) are not measured. It runs on
the same machine and takes CPU from the server, so the figures are a floor. Learner rate
limits and quotas are raised for the run. Bounded: at most --max-seconds in all, and
only loopback addresses.
"""

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import secrets
import ssl
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CREATE_SECONDS = 5.0
LIST_SECONDS = 5.0
# Orders a learner keeps: the lessons' share is ten, and deleted ones free it at once.
KEEP_ORDERS = 3
# After the window, streams stay open this long for the last creates' events.
GRACE_SECONDS = 3.0
CREATE_P99_MS = 250.0
LIST_P99_MS = 250.0
PAGE_P99_MS = 500.0
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TIMED = ("create", "list", "delete", "page open", "watch open")
DELAYS = ("write-to-page", "write-to-watch")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


# Signing in (threads in the main process, before a level) -----------------------------


@dataclass
class Card:
    """What a learner needs to take part: their session cookie, token and namespace."""

    name: str
    namespace: str
    token: str
    cookies: dict[str, str]


def sign_in(name: str, web: str) -> Card:
    """The shop's sign-in form (with its CSRF token), then the kubeconfig download."""
    parts = urlsplit(web)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    cookies: dict[str, str] = {}

    def send(method: str, path: str, body=None, headers=None):
        headers = dict(headers or {})
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                cookies[key] = rest.split(";", 1)[0]
        return response.status, payload

    try:
        _, page = send("GET", "/learner/")
        token = CSRF.search(page.decode()).group(1)
        form = urlencode({"csrfmiddlewaretoken": token, "name": name}).encode()
        form_type = {"Content-Type": "application/x-www-form-urlencoded"}
        status, _ = send("POST", "/learner/", form, form_type)
        assert status == 302, f"sign-in answered {status}"
        status, text = send("GET", "/learner/kubeconfig/")
        assert status == 200, f"kubeconfig answered {status}"
    finally:
        conn.close()
    config = yaml.safe_load(text)
    namespace = config["contexts"][0]["context"].get("namespace") or name
    return Card(name, namespace, config["users"][0]["user"]["token"], cookies)


# A small HTTP/1.1 client on asyncio streams (the generator's processes) ----------------


class Closed(Exception):
    """The server closed the connection, or answered something unreadable."""


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
        raise Closed("no response head") from error
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if sep:
            headers[key.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers


async def body_chunks(reader: asyncio.StreamReader, headers: dict[str, str]):
    """The body as it arrives: chunked (streams), by Content-Length, or until EOF."""
    try:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass
                    return
                data = await reader.readexactly(size + 2)
                yield data[:-2]
        elif "content-length" in headers:
            length = int(headers["content-length"])
            if length:
                yield await reader.readexactly(length)
        else:
            while data := await reader.read(65536):
                yield data
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
        raise Closed("body cut short") from error


class Connection:
    """One keep-alive connection, reopened after a failure; one request at a time."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext | None) -> None:
        self.host, self.port, self.context = host, port, context
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, ssl=self.context, limit=2**22
        )

    def close(self) -> None:
        if self.writer is not None:
            self.writer.transport.abort()
        self.reader = self.writer = None

    async def send(self, method: str, path: str, headers: dict[str, str], body: bytes = b""):
        if self.writer is None:
            await self.open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method in ("POST", "PUT", "PATCH", "DELETE"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        return await read_head(self.reader)

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b""):
        """(status, body); the connection is dropped on any failure, to be reopened.

        A kept-alive connection the server has just closed as idle (uvicorn's keep-alive
        timeout is 5 s, the lesson's rhythm too) is reopened and the request sent again,
        as HTTP clients do; only a failure on a fresh connection counts.
        """
        if self.writer is not None:
            try:
                return await self._request(method, path, headers, body)
            except (OSError, Closed):
                pass
        return await self._request(method, path, headers, body)

    async def _request(self, method: str, path: str, headers: dict[str, str], body: bytes):
        try:
            status, answer = await self.send(method, path, headers, body)
            payload = b"".join([chunk async for chunk in body_chunks(self.reader, answer)])
        except BaseException:
            self.close()
            raise
        if answer.get("connection", "").lower() == "close":
            self.close()
        return status, payload


# One share of the room, in one generator process ---------------------------------------


@dataclass
class Plan:
    """Where the server is, and the level's timetable (time.monotonic, shared by all)."""

    web: str
    api: str
    ca_file: str
    opens_at: float
    ramp: float
    starts_at: float
    seconds: float
    stream_seconds: int
    orders: str = "configmaps"  # what learners order: configmaps or pods


@dataclass
class Tally:
    """What one process saw: latencies (ms) by kind, failures by (kind, status), drops."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: Counter = field(default_factory=Counter)
    drops: Counter = field(default_factory=Counter)
    missed: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)
    lag_ms: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    last_answer: float = 0.0

    def add(self, kind: str, started: float, status: int) -> None:
        if kind in ("create", "list", "delete"):
            self.last_answer = max(self.last_answer, time.monotonic())
        if 200 <= status < 400:
            self.latencies[kind].append((time.monotonic() - started) * 1000)
        else:
            self.failures[(kind, status)] += 1


class Learner:
    """One learner in a generator process: a live page, a watch, creates and lists."""

    def __init__(self, card: Card, plan: Plan, context: ssl.SSLContext, tally: Tally) -> None:
        self.card, self.plan, self.context, self.tally = card, plan, context, tally
        self.web, self.api = urlsplit(plan.web), urlsplit(plan.api)
        self.ends_at = plan.starts_at + plan.seconds
        self.closes_at = self.ends_at + GRACE_SECONDS
        # Order name -> when its create was sent; removed when seen (or when it failed).
        self.on_page: dict[str, float] = {}
        self.on_watch: dict[str, float] = {}
        self.pods: deque[str] = deque()
        self.writes = self.api_connection()
        self.collection = f"/api/v1/namespaces/{card.namespace}/{plan.orders}"

    def api_connection(self) -> Connection:
        return Connection(self.api.hostname, self.api.port, self.context)

    def api_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.card.token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "kubectl/v1.32 (workshop-bench)",
        }

    async def run(self, opens_at: float) -> None:
        await sleep_until(opens_at)
        streams = [
            asyncio.ensure_future(self.page_stream()),
            asyncio.ensure_future(self.watch_stream()),
        ]
        try:
            await asyncio.gather(self.every(CREATE_SECONDS, self.create), self.lister())
            # The last create may be answered after the window: its events get a grace too.
            await sleep_until(max(self.closes_at, time.monotonic() + GRACE_SECONDS))
        finally:
            for task in streams:
                task.cancel()
            await asyncio.gather(*streams, return_exceptions=True)
        self.tally.missed["write-to-page"] += len(self.on_page)
        self.tally.missed["write-to-watch"] += len(self.on_watch)

    async def every(self, period: float, step) -> None:
        """`step` on the lesson's rhythm through the window, from a random phase. Like a
        person at kubectl, a learner waits for each answer, and skips the turns a slow
        one took rather than catching up in a burst."""
        due = self.plan.starts_at + random.uniform(0, period)
        while due < self.ends_at:
            await sleep_until(due)
            await step()
            due += period
            while due < time.monotonic():
                due += period

    async def lister(self) -> None:
        conn = self.api_connection()

        async def one_list() -> None:
            started = time.monotonic()
            try:
                status, _ = await conn.request("GET", self.collection, self.api_headers())
            except (OSError, Closed):
                status = 0
            self.tally.add("list", started, status)

        try:
            await self.every(LIST_SECONDS, one_list)
        finally:
            conn.close()

    async def create(self) -> None:
        name = f"order-{secrets.token_hex(4)}"
        metadata = {"name": name, "labels": {"app": "workshop-bench"}}
        if self.plan.orders == "pods":
            containers = [{"name": "web", "image": "nginx:1.27"}]
            manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata}
            manifest["spec"] = {"containers": containers}
        else:
            manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
            manifest["data"] = {"table": "4", "dish": "soup"}
        started = time.monotonic()
        self.on_page[name] = self.on_watch[name] = started
        body = json.dumps(manifest).encode()
        try:
            status, payload = await self.writes.request(
                "POST", self.collection, self.api_headers(), body
            )
        except (OSError, Closed):
            status, payload = 0, b""
        self.tally.add("create", started, status)
        if status >= 300:
            self.on_page.pop(name, None)
            self.on_watch.pop(name, None)
            if status == 403 and b"quota" in payload.lower():
                self.tally.notes["create refused by quota"] += 1
                await self.delete(self.pods.popleft() if self.pods else "")
            return
        self.pods.append(name)
        if len(self.pods) > KEEP_ORDERS:
            await self.delete(self.pods.popleft())

    async def delete(self, name: str, timed: bool = True) -> None:
        if not name:
            return
        body = json.dumps({"kind": "DeleteOptions", "gracePeriodSeconds": 0}).encode()
        path = f"{self.collection}/{name}?gracePeriodSeconds=0"
        started = time.monotonic()
        try:
            status, _ = await self.writes.request("DELETE", path, self.api_headers(), body)
        except (OSError, Closed):
            status = 0
        if timed:
            self.tally.add("delete", started, status)

    async def clean_up(self) -> None:
        """Delete what is left, so the next level starts with empty namespaces."""
        for name in self.pods:
            await self.delete(name, timed=False)
        self.writes.close()

    async def page_stream(self) -> None:
        """The orders page's SSE stream, held open; an order is seen when its name arrives."""
        headers = {
            "Accept": "text/event-stream",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.card.cookies.items()),
            "Cache-Control": "no-cache",
        }
        last_id, first = "", True
        while True:
            conn = Connection(self.web.hostname, self.web.port, None)
            started = time.monotonic()
            try:
                sent = {**headers, **({"Last-Event-ID": last_id} if last_id else {})}
                status, answer = await conn.send("GET", "/orders/events/", sent)
                if status != 200:
                    self.tally.failures[("page open", status)] += 1
                else:
                    buffer = b""
                    async for chunk in body_chunks(conn.reader, answer):
                        buffer += chunk
                        while b"\n\n" in buffer:
                            text, buffer = buffer.split(b"\n\n", 1)
                            event_id, data = self.sse_message(text.decode(errors="replace"))
                            last_id = event_id or last_id
                            if data and first:
                                first = False
                                self.tally.add("page open", started, 200)
                            if data:
                                self.seen(self.on_page, "write-to-page", data)
            except (OSError, Closed) as error:
                self.tally.notes[f"page stream: {type(error).__name__}"] += 1
            finally:
                conn.close()
            # Ended or failed before the level's end: a drop, then reconnect as htmx would.
            self.tally.drops["page"] += 1
            await asyncio.sleep(1.0)

    @staticmethod
    def sse_message(text: str) -> tuple[str, str]:
        event_id, data = "", []
        for line in text.splitlines():
            if line.startswith("id:"):
                event_id = line[3:].strip()
            elif line.startswith("data:"):
                data.append(line[5:])
        return event_id, "\n".join(data)

    def seen(self, pending: dict[str, float], kind: str, text: str) -> None:
        now = time.monotonic()
        for name in [name for name in pending if name in text]:
            self.tally.latencies[kind].append((now - pending.pop(name)) * 1000)

    async def watch_stream(self) -> None:
        """A watch on the learner's orders, as `kubectl get pods -w` with the kubeconfig."""
        version, first = "", True
        while True:
            query = {
                "watch": "true",
                "allowWatchBookmarks": "true",
                "timeoutSeconds": str(self.plan.stream_seconds),
            }
            if version:
                query["resourceVersion"] = version
            conn = self.api_connection()
            started = time.monotonic()
            try:
                path = f"{self.collection}?{urlencode(query)}"
                status, answer = await conn.send("GET", path, self.api_headers())
                if status != 200:
                    self.tally.failures[("watch open", status)] += 1
                else:
                    if first:
                        first = False
                        self.tally.add("watch open", started, 200)
                    buffer = b""
                    async for chunk in body_chunks(conn.reader, answer):
                        buffer += chunk
                        while b"\n" in buffer:
                            line, buffer = buffer.split(b"\n", 1)
                            if line.strip():
                                version = self.watch_event(json.loads(line)) or version
            except (OSError, Closed, ValueError) as error:
                self.tally.notes[f"watch stream: {type(error).__name__}"] += 1
            finally:
                conn.close()
            self.tally.drops["watch"] += 1
            await asyncio.sleep(1.0)

    def watch_event(self, event: dict) -> str:
        meta = (event.get("object") or {}).get("metadata") or {}
        if event.get("type") == "ERROR":
            self.tally.notes[f"watch ERROR {event['object'].get('code')}"] += 1
            return ""
        name = meta.get("name", "")
        if event.get("type") == "ADDED" and name in self.on_watch:
            self.seen(self.on_watch, "write-to-watch", name)
        return str(meta.get("resourceVersion", ""))


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def loop_lag(tally: Tally, plan: Plan) -> None:
    """How late a 100 ms timer fires through the window, and the process's CPU meanwhile:
    when high, the generator itself is the limit."""
    await sleep_until(plan.starts_at)
    cpu = time.process_time()
    while time.monotonic() < plan.starts_at + plan.seconds:
        started = time.monotonic()
        await asyncio.sleep(0.1)
        tally.lag_ms.append((time.monotonic() - started - 0.1) * 1000)
    tally.cpu_seconds = time.process_time() - cpu


async def run_share_async(cards: list[Card], plan: Plan, first: int, stride: int) -> Tally:
    tally = Tally()
    context = ssl.create_default_context(cafile=plan.ca_file)
    learners = [Learner(card, plan, context, tally) for card in cards]
    # Learners' pages open evenly over the ramp, interleaved across the processes.
    total = len(cards) * stride
    opens = [plan.opens_at + plan.ramp * (first + i * stride) / total for i in range(len(cards))]
    lag = asyncio.ensure_future(loop_lag(tally, plan))
    await asyncio.gather(*(learner.run(at) for learner, at in zip(learners, opens, strict=True)))
    await lag
    await asyncio.gather(*(learner.clean_up() for learner in learners))
    return tally


def run_share(cards: list[Card], plan: Plan, first: int, stride: int) -> Tally:
    """One generator process's share of the learners (every stride-th, from first)."""
    return asyncio.run(run_share_async(cards, plan, first, stride))


# The server's processes, read from /proc ------------------------------------------------


def server_processes(group: int, api_port: int, web_port: int) -> dict[int, str]:
    """The production script's processes by role: API, pages, control plane, PostgreSQL."""
    found: dict[int, tuple[int, int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        found[int(entry.name)] = (int(fields[1]), int(fields[2]), cmdline)
    roles: dict[int, str] = {}
    for pid, (parent, pgrp, cmdline) in found.items():
        if cmdline.startswith("postgres"):
            roles[pid] = "postgres (all)"
            continue
        if pgrp != group:
            continue
        own = cmdline + " " + found.get(parent, (0, 0, ""))[2]
        if f"--port {api_port}" in own:
            roles[pid] = "api"
        elif f"--port {web_port}" in own:
            roles[pid] = "pages"
        elif "controlplane" in cmdline:
            roles[pid] = "control plane"
    return roles


def cpu_and_rss(pids: dict[int, str]) -> dict[int, tuple[float, int]]:
    """CPU seconds so far and resident bytes, per process."""
    ticks, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = ((int(fields[11]) + int(fields[12])) / ticks, int(fields[21]) * page)
    return out


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    idle = int(fields[3]) + int(fields[4])
    return (sum(int(f) for f in fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def database_waits(url: str) -> str:
    """What the run's database sessions are doing right now: active, idle, waiting on what."""
    import psycopg

    query = (
        "select state, coalesce(wait_event_type || ':' || wait_event, '-'), "
        "case when state = 'active' then left(query, 48) else '' end, count(*) "
        "from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
        " group by 1, 2, 3 order by 4 desc"
    )
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            rows = conn.execute(query).fetchall()
    except psycopg.Error as error:
        return f"(could not ask: {error})"
    return "; ".join(
        f"{n} {state} {wait}" + (f" [{text}...]" if text else "") for state, wait, text, n in rows
    )


def sample_usage(roles: dict[int, str], plan: "Plan", database_url: str):
    """The server's CPU and RSS at the window's start and end, and the database mid-way."""
    time.sleep(max(0.0, plan.starts_at - time.monotonic()))
    before = cpu_and_rss(roles) | {0: (machine_busy(), 0)}
    time.sleep(max(0.0, plan.starts_at + plan.seconds / 2 - time.monotonic()))
    waits = database_waits(database_url)
    time.sleep(max(0.0, plan.starts_at + plan.seconds - time.monotonic()))
    return before, cpu_and_rss(roles) | {0: (machine_busy(), 0)}, waits


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# Levels ---------------------------------------------------------------------------------


def run_level(cards: list[Card], plan: Plan, processes: int) -> tuple[Tally, float]:
    shares = [cards[i::processes] for i in range(processes)]
    tallies: list[Tally] = []
    with ProcessPoolExecutor(len(shares), mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(run_share, share, plan, i, processes)
            for i, share in enumerate(shares)
            if share
        ]
        tallies = [future.result() for future in futures]
    merged = Tally()
    for tally in tallies:
        for kind, values in tally.latencies.items():
            merged.latencies[kind].extend(values)
        merged.failures.update(tally.failures)
        merged.drops.update(tally.drops)
        merged.missed.update(tally.missed)
        merged.notes.update(tally.notes)
        merged.lag_ms.extend(tally.lag_ms)
        merged.cpu_seconds += tally.cpu_seconds
        merged.last_answer = max(merged.last_answer, tally.last_answer)
    return merged, max(tally.cpu_seconds for tally in tallies)


def report(
    level: int, tally: Tally, seconds: float, span: float, busiest: float, usage: list[str]
) -> bool:
    """Print the level's figures; whether it holds. `span` runs from the window's start to
    the last answer, which a slow server sends after the window's end."""
    requests = sum(len(tally.latencies[k]) for k in ("create", "list", "delete"))
    requests += sum(n for (kind, _), n in tally.failures.items() if kind in TIMED[:3])
    print(
        f"\n  N={level}: {requests / span:.1f} API requests/s ({requests} in {span:.0f} s: "
        f"the {seconds:.0f} s window and its last answers)"
    )
    p99 = {}
    for kind in TIMED + DELAYS:
        values = tally.latencies.get(kind, [])
        p99[kind] = percentile(values, 0.99)
        failed = {s: n for (k, s), n in tally.failures.items() if k == kind}
        missed = tally.missed.get(kind, 0)
        print(
            f"    {kind:<15} p50 {percentile(values, 0.5):8.1f} ms   p99 {p99[kind]:8.1f} ms"
            f"   n={len(values):<6}"
            + (f" failed {dict(sorted(failed.items()))}" if failed else "")
            + (f" never seen {missed}" if missed else "")
        )
    server_errors = sum(n for (_, s), n in tally.failures.items() if s >= 500)
    other = sum(n for (_, s), n in tally.failures.items() if s < 500)
    missed = sum(tally.missed.values())
    drops = sum(tally.drops.values())
    print(
        f"    5xx {server_errors}, other failures {other} (status 0 = connection failed), "
        f"dropped streams {dict(tally.drops) or 0}, never seen {missed}"
    )
    if tally.notes:
        print(f"    notes: {dict(tally.notes)}")
    print(
        f"    generator: {tally.cpu_seconds / seconds:.0%} CPU in all, busiest process "
        f"{busiest / seconds:.0%}; event-loop lag p99 {percentile(tally.lag_ms, 0.99):.0f} ms,"
        f" max {max(tally.lag_ms, default=0):.0f} ms"
    )
    for line in usage:
        print(f"    {line}")
    holds = (
        p99["create"] < CREATE_P99_MS
        and p99["list"] < LIST_P99_MS
        and p99["write-to-page"] < PAGE_P99_MS
        and server_errors == 0
        and drops == 0
        and missed == 0
    )
    print(f"    {'holds' if holds else 'does NOT hold'} at N={level}")
    return holds


def usage_lines(
    before, after, roles: dict[int, str], seconds: float, generator: float
) -> list[str]:
    """CPU (100% = one core) and RSS per server role over the window, and the machine's:
    other work on the machine takes its share too."""
    by_role: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for pid, (cpu, rss) in after.items():
        if pid and pid in before:
            by_role[roles[pid]].append(((cpu - before[pid][0]) / seconds, rss))
    lines = []
    for role in ("api", "pages", "control plane", "postgres (all)"):
        found = by_role.get(role, [])
        if found:
            busiest = max(cpu for cpu, _ in found)
            lines.append(
                f"server {role:<14} {sum(c for c, _ in found):5.0%} CPU "
                f"(busiest process {busiest:.0%}, {len(found)} processes), "
                f"RSS {sum(r for _, r in found) / 2**20:.0f} MiB"
            )
    machine = (after[0][0] - before[0][0]) / seconds
    ours = sum(cpu for found in by_role.values() for cpu, _ in found) + generator / seconds
    lines.append(
        f"machine busy {machine:.0%} of {os.cpu_count()} cores: server, PostgreSQL and "
        f"generator {ours:.0%}, anything else {max(0.0, machine - ours):.0%}"
    )
    return lines


def log_summary(path: Path, offset: int) -> tuple[list[str], int]:
    """The server log's failures since `offset`, counted: which requests, which errors."""
    with open(path, "rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
        offset = log.tell()
    found = Counter()
    for line in text.splitlines():
        if re.match(r"(Internal Server Error|Service Unavailable|ERROR|WARNING)\b", line) or (
            re.match(r"[\w.]+(Error|Exception|Timeout)\b", line)
        ):
            found[re.sub(r"\d+\.\d+ sec", "N sec", line)[:200]] += 1
    return [f"{n:6} x {line}" for line, n in found.most_common(12)], offset


def bench(database: str, levels: list[int], args: argparse.Namespace) -> None:
    from support.production import production_server, redis_url_for_tests

    deadline = time.monotonic() + args.max_seconds
    print(
        f"\n== {database}: {args.api_workers} API workers, {args.web_workers} page workers, "
        f"control plane on, rate limits in Redis; generator {args.processes} processes =="
    )
    workdir = Path(tempfile.mkdtemp(prefix=f"workshop-{database}-"))
    with production_server(
        workdir,
        database=database,
        api_workers=args.api_workers,
        web_workers=args.web_workers,
        REDIS_URL=redis_url_for_tests(),
        WAREHOUSE_LEARNER_LANE_QPS="100000",
        WAREHOUSE_LEARNER_LANE_BURST="100000",
        WAREHOUSE_LEARNER_CONCURRENCY="200",
        WAREHOUSE_NAMESPACE_QUOTA="10000",
        WAREHOUSE_NAMESPACE_EVENT_QUOTA="100000",
        # The whole room signs in from one address, and earlier runs' names count too.
        WAREHOUSE_NEW_LEARNERS_LIMIT="1000000",
        # Nodes enough for every learner's Pods, and shares sized for the largest room.
        WAREHOUSE_NODES=str(max(3, max(levels) * (KEEP_ORDERS + 1) // 100 + 1)),
        WAREHOUSE_EXPECTED_LEARNERS=str(max(levels)),
        WAREHOUSE_API_THREADS=str(args.api_threads),
    ) as server:
        web_port, api_port = urlsplit(server.web_url).port, urlsplit(server.api_url).port
        print(f"  server log: {server.log_file}")
        log_offset = 0
        cards: list[Card] = []
        holding: list[int] = []
        for number, level in enumerate([min(levels[0], 10), *levels]):
            warm_up = number == 0  # first connections, caches and templates; not reported
            seconds = 10.0 if warm_up else args.seconds
            ramp = max(5.0, level / args.ramp_rate)
            if time.monotonic() + seconds + ramp + level * 0.2 + 30 > deadline:
                print(f"  (stopping: --max-seconds {args.max_seconds} reached)")
                break
            started = time.monotonic()
            with ThreadPoolExecutor(args.sign_in_threads) as pool:
                names = [f"l{i}-{secrets.token_hex(2)}" for i in range(len(cards), level)]
                cards += pool.map(lambda name: sign_in(name, server.web_url), names)
            if not warm_up:
                print(
                    f"\n  N={level}: {len(names)} sign-ins took {time.monotonic() - started:.1f} s;"
                    f" load average before {load_average()}",
                    flush=True,
                )
            # The pool's processes take a moment to start: the timetable begins after that.
            opens_at = time.monotonic() + 3.0
            plan = Plan(
                web=server.web_url,
                api=server.api_url,
                ca_file=str(server.ca_file),
                opens_at=opens_at,
                ramp=ramp,
                starts_at=opens_at + ramp + 2.0,
                seconds=seconds,
                stream_seconds=3600,  # the most a watch may ask for: a slow level still fits
                orders=args.orders,
            )
            roles = server_processes(server.process.pid, api_port, web_port)
            with ThreadPoolExecutor(1) as sampler:
                sampled = sampler.submit(sample_usage, roles, plan, server.database_url)
                tally, busiest = run_level(cards[:level], plan, args.processes)
                before, after, waits = sampled.result()
            errors, log_offset = log_summary(server.log_file, log_offset)
            if warm_up:
                continue
            usage = usage_lines(before, after, roles, seconds, tally.cpu_seconds)
            usage.append(f"database sessions mid-window: {waits}")
            span = max(seconds, tally.last_answer - plan.starts_at)
            if report(level, tally, seconds, span, busiest, usage):
                holding.append(level)
            print(f"    load average after {load_average()}")
            print(f"    server log during the level: {'' if errors else 'no errors'}")
            for line in errors:
                print(f"      {line}")
            sys.stdout.flush()
            if not server.alive():
                print(f"  the server exited:\n{server.log_tail()}")
                break
        tried = ", ".join(str(n) for n in holding) or "none of those tried"
        best = max(holding, default=0)
        print(f"\n  levels that hold on {database}: {tried}; highest N: {best or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="postgres")
    parser.add_argument("--levels", default="100,200,300,500")
    parser.add_argument("--seconds", type=float, default=45.0, help="measured, per level")
    parser.add_argument("--max-seconds", type=float, default=1500.0, help="per database")
    parser.add_argument("--processes", type=int, default=4, help="load generator processes")
    parser.add_argument("--orders", choices=["configmaps", "pods"], default="configmaps")
    parser.add_argument("--ramp-rate", type=float, default=25.0, help="streams opened per s")
    parser.add_argument("--sign-in-threads", type=int, default=8)
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--api-threads", type=int, default=4, help="pipeline threads per worker")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",") if n.strip()]
    if not levels or max(levels) > 1000 or args.seconds > 300 or args.processes > 16:
        parser.error("at most 1000 learners, 300 seconds per level and 16 processes")
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for database in databases:
        bench(database, levels, args)


if __name__ == "__main__":
    main()
