"""Shared fixtures: a seeded catalog, a shopper and a store manager.

Seeding reads the Kubernetes client (a few seconds), so the kinds are discovered once
per run and the rows are written once into the test database, before any test.
Each test runs inside a transaction that is rolled back, so none can spoil another's
shelves. Tests that need committed data (a live server) run last and re-seed if a
previous one emptied the database.
"""

import functools

import pytest
from django.db import connection
from django.test import Client

from apiserver.endpoints import watch
from apiserver.rbac import authorizer
from catalog import pagecache
from catalog.management.commands.seed_catalog import seed
from catalog.models import ResourceKind
from catalog.sources import KindInfo, discover_kinds


@functools.cache
def discovered_kinds() -> list[KindInfo]:
    return discover_kinds()


def ensure_seeded() -> None:
    if not ResourceKind.objects.exists():
        seed(discovered_kinds())


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ensure_seeded()
    yield
    with django_db_blocker.unblock():
        _end_background_sessions()


def _end_background_sessions() -> None:
    """On PostgreSQL, end the sessions the process's own background threads still hold (the
    audit writer's, the watch feed's), so the test database can be dropped at the end."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Serve static files by name: the hashed manifest only exists after collectstatic."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _watch_feeds_poll(monkeypatch):
    """In-process watch feeds poll, on PostgreSQL too: a test's writes are rolled back,
    never committed, so no NOTIFY would ever wake them. The NOTIFY path is tested on
    committed data, by other processes (test_watch_notify.py, test_two_hosts.py)."""
    monkeypatch.setattr(watch, "listens", lambda: False)


@pytest.fixture(autouse=True)
def _fresh_rbac_policy():
    """Each test reads the RBAC policy from its own database (the authorizer caches it, and
    a rolled-back test can leave revision numbers another test will use again)."""
    authorizer.invalidate()
    yield
    authorizer.invalidate()


@pytest.fixture(autouse=True)
def _fresh_catalog_pages():
    """Each test renders the catalog pages from its own database (a rolled-back catalog can
    come back with a state number another test's pages were cached under)."""
    pagecache.clear()
    yield
    pagecache.clear()


@pytest.fixture
def catalog(db) -> None:
    """The 72 stable kinds from the Kubernetes client, in 22 departments."""
    ensure_seeded()


@pytest.fixture
def shopper() -> Client:
    """Someone browsing the shop without logging in."""
    return Client()


@pytest.fixture
def store_manager(db, django_user_model) -> Client:
    """A superuser who looks after the catalog in the Django admin."""
    manager = django_user_model.objects.create_superuser("manager", "manager@example.com", "pw")
    client = Client()
    client.force_login(manager)
    return client
