"""How fast the catalog pages render: store front, a search, and product pages.

    python bench/catalog_pages.py                 # 300 requests per page, at most 10 s each
    python bench/catalog_pages.py --count 1000 --seconds 30

Builds a throwaway SQLite database, seeds it from the Kubernetes client, then drives
Django's test Client in-process (no network, DEBUG off), so the figures are the cost of
the view, the queries and the templates. Prints figures; asserts nothing.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PAGES = [
    ("store front", "/", {}),
    ("search 'deploy'", "/?q=deploy", {}),
    ("search 'po', htmx fragment", "/?q=po&scope=namespaced", {"HTTP_HX_REQUEST": "true"}),
    ("product: Deployment", "/catalog/apps/v1/deployments/", {}),
    ("product: Pod (largest spec sheet)", "/catalog/core/v1/pods/", {}),
    ("missing product (404)", "/catalog/apps/v1/lawnmowers/", {}),
]


def _setup(database: Path) -> None:
    sys.path.insert(0, str(REPO))
    from support import inprocess

    inprocess.start(database, seed=True)
    from django.conf import settings

    # Plain static names: the hashed manifest only exists after collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def _measure(client, url: str, headers: dict, count: int, seconds: float) -> list[float]:
    for _ in range(5):
        client.get(url, **headers)
    timings = []
    deadline = time.perf_counter() + seconds
    while len(timings) < count and time.perf_counter() < deadline:
        started = time.perf_counter()
        response = client.get(url, **headers)
        timings.append(time.perf_counter() - started)
        if response.status_code not in (200, 404):
            raise SystemExit(f"{url} answered {response.status_code}")
    return timings


def _percentile(timings: list[float], fraction: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=300, help="requests per page")
    parser.add_argument("--seconds", type=float, default=10.0, help="time limit per page")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        _setup(Path(tmp) / "bench.sqlite3")
        from django.test import Client

        client = Client()
        print(f"{'page':36} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        for label, url, headers in PAGES:
            timings = _measure(client, url, headers, args.count, args.seconds)
            rate = len(timings) / sum(timings)
            print(
                f"{label:36} {len(timings):8d} {rate:8.1f} "
                f"{statistics.median(timings) * 1000:8.2f} {_percentile(timings, 0.99) * 1000:8.2f}"
            )


if __name__ == "__main__":
    main()
