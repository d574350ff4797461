"""What a hostile order form costs: 10,000 `[` through the body gate vs the pure-Python loader.

    python bench/order_form.py                 # 10,000 brackets (about 10 KiB)
    python bench/order_form.py --brackets 3000 # a smaller body, for a quicker run

The order form now reads its YAML through the API server's body gate (the C loader with
its depth limit); before, PyYAML's pure-Python loader read it, and a body well under the
64 KiB limit kept a worker busy for many seconds. Needs no database. Prints figures;
asserts nothing.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _setup(workdir: str) -> None:
    sys.path.insert(0, str(REPO))
    os.environ["DATABASE_URL"] = f"sqlite:///{Path(workdir) / 'unused.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    import django

    django.setup()


def through_the_gate(text: str) -> tuple[float, str]:
    """The order form as it is: `shop.manifests.parse_manifest`."""
    from shop.manifests import ManifestError, parse_manifest

    started = time.perf_counter()
    try:
        parse_manifest(text)
        outcome = "accepted"
    except ManifestError as error:
        outcome = str(error)
    return time.perf_counter() - started, outcome


def pure_python(text: str) -> tuple[float, str]:
    """What the form did before: an alias scan and `safe_load`, both pure Python."""
    started = time.perf_counter()
    try:
        for _ in yaml.parse(text, Loader=yaml.SafeLoader):
            pass
        yaml.safe_load(text)
        outcome = "accepted"
    except yaml.YAMLError as error:
        outcome = f"YAMLError: {getattr(error, 'problem', error)}"
    except RecursionError:
        outcome = "RecursionError"
    return time.perf_counter() - started, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brackets", type=int, default=10_000)
    args = parser.parse_args()
    text = "[" * args.brackets
    with tempfile.TemporaryDirectory(prefix="warehouse-bench-") as workdir:
        _setup(workdir)
        print(f"order form body: {args.brackets:,} '[' ({len(text.encode()):,} bytes)\n")
        gate, gate_outcome = through_the_gate(text)
        print(f"  body gate (C loader)       {gate * 1000:10.1f} ms   {gate_outcome}")
        sys.stdout.flush()
        old, old_outcome = pure_python(text)
        print(f"  pure-Python loader         {old * 1000:10.1f} ms   {old_outcome}")
        print(f"\n  the gate is {old / max(gate, 1e-9):,.0f} times faster")


if __name__ == "__main__":
    main()
