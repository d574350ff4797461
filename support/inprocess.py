"""Warehouse inside this very process, on a throwaway SQLite file: how benchmarks start.

Production settings (DEBUG off), a database of its own, migrated and, when asked, seeded
with the catalog; `env` sets any other WAREHOUSE_* setting first.
"""

import logging
import os
import time
from pathlib import Path


def start(database: Path, *, seed: bool = False, env: dict[str, str] | None = None) -> None:
    """Configure and set up Django here, migrate `database`, and seed the catalog if asked."""
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ.update(env or {})
    import django

    django.setup()
    from django.core.management import call_command

    # One "Not Found" or "Forbidden" line per expected refusal would drown the figures.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    logging.getLogger("apiserver").setLevel(logging.ERROR)
    call_command("migrate", verbosity=0)
    if seed:
        started = time.perf_counter()
        with open(os.devnull, "w") as quiet:
            call_command("seed_catalog", stdout=quiet)
        print(f"seeded the catalog in {time.perf_counter() - started:.1f} s\n")
