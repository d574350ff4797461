"""How much the request pipeline costs, in process: every gate, no network.

    python bench/pipeline.py                 # 2,000 requests per phase, at most 10 s each
    python bench/pipeline.py --count 5000 --seconds 30

Builds a throwaway SQLite database, seeds the catalog, then sends requests straight to
`pipeline.handle()` as a learner (authentication, fairness, authorization, admission,
store, audit), the way the loopback client does. Each figure is also given as a ratio to
a floor measured in the same run: reading the same object from the store directly, which
is the least any GET can cost. Rate limits and the namespace quota are off, so the
figures are the pipeline's own. Prints figures; asserts nothing.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _setup(database: Path) -> None:
    sys.path.insert(0, str(REPO))
    from support import inprocess

    quiet = {"WAREHOUSE_RATE_LIMIT_BACKEND": "off", "WAREHOUSE_NAMESPACE_QUOTA": "1000000"}
    inprocess.start(database, seed=True, env=quiet)


def _time(operation: Callable[[int], object], count: int, seconds: float) -> list[float]:
    for number in range(5):
        operation(-1 - number)
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    for number in range(count):
        started = time.perf_counter()
        operation(number)
        samples.append(time.perf_counter() - started)
        if time.perf_counter() > deadline:
            break
    return samples


def _report(label: str, samples: list[float], floor: float) -> None:
    median = statistics.median(samples)
    p99 = sorted(samples)[int(len(samples) * 0.99) - 1]
    print(
        f"{label:<34} n={len(samples):>5}  median {median * 1e6:8.0f} µs  "
        f"p99 {p99 * 1e6:8.0f} µs  {median / floor:6.1f}x floor"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        _setup(Path(folder) / "bench.sqlite3")
        from apiserver import accounts
        from apiserver.accounts import ClusterUser
        from apiserver.endpoints.request import ApiRequest
        from apiserver.pipeline import handle
        from apiserver.registry import kinds, store

        learner = ClusterUser.objects.create(
            name="bench", role=ClusterUser.Role.LEARNER, namespace="bench"
        )
        accounts.open_learner(learner)  # the namespace, and her RoleBinding in it
        configmaps = kinds.lookup("", "v1", "configmaps")
        collection = "/api/v1/namespaces/bench/configmaps"

        def send(method: str, path: str, body: dict | None = None) -> int:
            request = ApiRequest(
                method=method,
                path=path,
                headers={"accept": "application/json", "content-type": "application/json"},
                body=json.dumps(body).encode() if body is not None else b"",
                client="bench",
                user=learner,
            )
            return handle(request).status

        def create(number: int) -> None:
            name = f"c{number}".replace("-", "m")
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
            send("POST", collection, body | {"data": {"k": "v"}})

        for number in range(50):
            create(10_000 + number)

        floor_samples = _time(
            lambda n: store.get(configmaps, "bench", "c10000"), args.count, args.seconds
        )
        floor = statistics.median(floor_samples)
        print(f"{args.count} requests per phase at most, {args.seconds:.0f} s at most each")
        _report("floor: store.get (no pipeline)", floor_samples, floor)
        _report(
            "GET one ConfigMap",
            _time(lambda n: send("GET", f"{collection}/c10000"), args.count, args.seconds),
            floor,
        )
        _report(
            "LIST 50 ConfigMaps",
            _time(lambda n: send("GET", collection), args.count // 4, args.seconds),
            floor,
        )
        _report("CREATE a ConfigMap", _time(create, args.count, args.seconds), floor)
        _report(
            "GET /version (no auth)",
            _time(lambda n: send("GET", "/version"), args.count, args.seconds),
            floor,
        )


if __name__ == "__main__":
    main()
