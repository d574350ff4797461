"""A simulated workshop against Warehouse in production mode: how many learners fit?

    python bench/workshop_load.py                          # SQLite, then PostgreSQL
    python bench/workshop_load.py --database postgres --levels 10,25,50 --seconds 10

Starts ``deploy/run-production.sh`` (uvicorn workers, the control plane, rate limits in
Redis) on loopback ports with a fresh database, then for each number of learners N runs
N simulated learners for --seconds. Each learner signs in on the shop page, downloads
their kubeconfig, keeps one watch open on their ConfigMaps, and then, like someone
following a lesson, polls the "Your orders" page every 3 s the way htmx does (with
``since``), creates a ConfigMap every 5 s and lists them every 5 s. It prints throughput
and p50/p99 per request type, and stops at the first N where page polls' p99 exceeds
100 ms or creates' p99 exceeds 250 ms. Bounded: at most --max-seconds in all, loopback only.

The load generator runs on the same machine, so it takes CPU from the server: the
figures are a floor. Learner rate limits are raised for the run, so what is measured is
capacity, not the fairness policy.
"""

import argparse
import http.client
import json
import random
import re
import secrets
import ssl
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

POLL_SECONDS = 3.0
CREATE_SECONDS = 5.0
LIST_SECONDS = 5.0
PAGE_P99_MS = 100.0
CREATE_P99_MS = 250.0
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SINCE = re.compile(r"since=(\d+)")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


@dataclass
class Results:
    """Latencies in seconds per request type, and failures by (type, status)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            if status < 400:
                self.latencies[kind].append(seconds)
            else:
                self.failures[(kind, status)] += 1


class Learner:
    """One simulated learner with a browser session and a kubeconfig token."""

    def __init__(self, name: str, web: str, api: str, context: ssl.SSLContext) -> None:
        self.name = name
        self.web = urlsplit(web)
        self.api = urlsplit(api)
        self.context = context
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.since = ""
        self.count = 0

    def _page(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.web.hostname, self.web.port, timeout=30)

    def _api(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            self.api.hostname, self.api.port, context=self.context, timeout=30
        )

    def _send(self, conn, method: str, path: str, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return response.status, payload

    def sign_in(self) -> None:
        """The shop's sign-in form (with its CSRF token), then the kubeconfig download."""
        conn = self._page()
        try:
            _, page = self._send(conn, "GET", "/learner/")
            token = CSRF.search(page.decode()).group(1)
            form = urlencode({"csrfmiddlewaretoken": token, "name": self.name}).encode()
            status, _ = self._send(
                conn,
                "POST",
                "/learner/",
                form,
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert status == 302, f"sign-in answered {status}"
            status, config = self._send(conn, "GET", "/learner/kubeconfig/")
            assert status == 200, f"kubeconfig answered {status}"
            self.token = yaml.safe_load(config)["users"][0]["user"]["token"]
        finally:
            conn.close()

    def _api_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "kubectl/v1.32 (workshop-bench)",
        }

    def run(self, until: float, results: Results, stop: threading.Event) -> None:
        """Poll, create and list on the lesson's rhythm until `until`."""
        page, api = self._page(), self._api()
        now = time.monotonic()
        due = {
            "page poll": now + random.uniform(0, POLL_SECONDS),
            "create": now + random.uniform(0, CREATE_SECONDS),
            "list": now + random.uniform(0, LIST_SECONDS),
        }
        try:
            while not stop.is_set():
                kind = min(due, key=due.get)
                wait = due[kind] - time.monotonic()
                if due[kind] >= until:
                    return
                if wait > 0:
                    time.sleep(wait)
                started = time.perf_counter()
                try:
                    status = self._step(kind, page, api)
                except (OSError, http.client.HTTPException):
                    status = 599
                    page, api = self._page(), self._api()
                results.add(kind, time.perf_counter() - started, status)
                due[kind] += {"page poll": POLL_SECONDS, "create": CREATE_SECONDS}.get(
                    kind, LIST_SECONDS
                )
        finally:
            page.close()
            api.close()

    def _step(self, kind: str, page, api) -> int:
        collection = f"/api/v1/namespaces/{self.name}/configmaps"
        if kind == "page poll":
            query = f"?since={self.since}" if self.since else ""
            status, body = self._send(page, "GET", f"/orders/{query}", None, {"HX-Request": "true"})
            found = SINCE.search(body.decode(errors="replace")) if status == 200 else None
            if found:
                self.since = found.group(1)
            return status
        if kind == "create":
            self.count += 1
            manifest = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"order-{self.count}-{secrets.token_hex(2)}"},
                "data": {"item": "book"},
            }
            api.request("POST", collection, json.dumps(manifest), self._api_headers())
        else:
            api.request("GET", collection, headers=self._api_headers())
        response = api.getresponse()
        response.read()
        return response.status

    def watch(self, seconds: int, results: Results) -> None:
        """Hold one watch open, as a tracking page or `kubectl get -w` does."""
        # People open their tracking pages over a few seconds, not all in one instant.
        time.sleep(random.uniform(0, POLL_SECONDS))
        conn = self._api()
        path = f"/api/v1/namespaces/{self.name}/configmaps?watch=true&timeoutSeconds={seconds}"
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=self._api_headers())
            response = conn.getresponse()
            results.add("watch open", time.perf_counter() - started, response.status)
            while response.readline():
                pass
        except (OSError, http.client.HTTPException):
            results.add("watch open", time.perf_counter() - started, 599)
        finally:
            conn.close()


def run_level(
    learners: list[Learner], seconds: float, results: Results, stop: threading.Event
) -> float:
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=learner.watch, args=(int(seconds) + 1, results), daemon=True)
        for learner in learners
    ]
    threads += [
        threading.Thread(target=learner.run, args=(until, results, stop), daemon=True)
        for learner in learners
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    return time.monotonic() - started


def report(level: int, results: Results, elapsed: float) -> dict[str, float]:
    figures: dict[str, float] = {}
    total = sum(len(v) for v in results.latencies.values())
    print(f"\n  N={level:<4} {total / elapsed:7.1f} requests/s over {elapsed:.1f} s")
    for kind in ("page poll", "create", "list", "watch open"):
        values = [v * 1000 for v in results.latencies.get(kind, [])]
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        figures[kind] = p99
        failed = {s: n for (k, s), n in results.failures.items() if k == kind}
        print(
            f"    {kind:<11} {len(values) / elapsed:7.1f}/s   p50 {p50:7.1f} ms   "
            f"p99 {p99:7.1f} ms   n={len(values)}" + (f"   failed {failed}" if failed else "")
        )
    return figures


def bench(database: str, levels: list[int], seconds: float, args: argparse.Namespace) -> None:
    from support.production import production_server, redis_url_for_tests

    deadline = time.monotonic() + args.max_seconds
    print(
        f"\n== {database}: {args.api_workers} API workers, {args.web_workers} page workers, "
        "control plane on, rate limits in Redis =="
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
    ) as server:
        context = server.ssl_context()
        learners: list[Learner] = []
        best = previous = 0
        # A short unreported warm-up: first connections, caches and templates.
        for index in range(min(levels[0], 10)):
            learner = Learner(
                f"w{index}-{secrets.token_hex(2)}", server.web_url, server.api_url, context
            )
            learner.sign_in()
            learners.append(learner)
        run_level(learners, 5.0, Results(), threading.Event())
        for level in levels:
            if time.monotonic() + seconds + level * 0.1 > deadline:
                print(f"  (stopping: --max-seconds {args.max_seconds} reached)")
                break
            while len(learners) < level:
                learner = Learner(
                    f"l{len(learners)}-{secrets.token_hex(2)}",
                    server.web_url,
                    server.api_url,
                    context,
                )
                learner.sign_in()
                learners.append(learner)
            results, stop = Results(), threading.Event()
            elapsed = run_level(learners, seconds, results, stop)
            figures = report(level, results, elapsed)
            failures = sum(results.failures.values())
            answered = sum(len(v) for v in results.latencies.values()) + failures
            ok = (
                figures["page poll"] <= PAGE_P99_MS
                and figures["create"] <= CREATE_P99_MS
                and failures == 0
            )
            if ok and best == previous:
                best = level
            previous = level
            if not ok:
                print(f"    over budget at N={level} (page p99 > 100 ms or create p99 > 250 ms)")
            # Past the budget, go on only while the server still copes, to show the trend.
            if failures > 0.05 * answered or max(figures.values()) > 5000:
                print("    the server no longer copes; stopping the search here")
                break
        print(f"  highest N within budget on {database}: {best or 'none of those tried'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--levels", default="10,25,50,100,200,300")
    parser.add_argument("--seconds", type=float, default=15.0, help="per level")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="per database")
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",") if n.strip()]
    if not levels or max(levels) > 500 or args.seconds > 120:
        parser.error("at most 500 learners and 120 seconds per level")
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for database in databases:
        bench(database, levels, args.seconds, args)


if __name__ == "__main__":
    main()
