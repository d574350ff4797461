"""Audit rows in batches: many requests, one INSERT, written a moment later."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apiserver.filters import audit
from apiserver.models import AuditRecord

PODS = "/api/v1/namespaces/alice/pods"


def test_a_batch_holds_the_rows_and_writes_them_in_one_statement(api, alice, settings):
    settings.WAREHOUSE_AUDIT_BATCH_SECONDS = 30.0
    before = AuditRecord.objects.count()
    for _ in range(5):
        assert api.get(PODS, alice).status_code == 200
    assert AuditRecord.objects.count() == before  # gathered, not yet written

    with CaptureQueriesContext(connection) as written:
        audit.flush()

    inserts = [q["sql"] for q in written.captured_queries if "INSERT" in q["sql"]]
    assert len(inserts) == 1
    newest = AuditRecord.objects.order_by("-id")[:5]
    assert [(r.verb, r.user, r.path) for r in newest] == [("list", "alice", PODS)] * 5


@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_writes_a_batch_soon_after_the_requests(api, alice, settings):
    settings.WAREHOUSE_AUDIT_BATCH_SECONDS = 0.1
    before = AuditRecord.objects.filter(user="alice").count()
    for _ in range(3):
        assert api.get(PODS, alice).status_code == 200
    deadline = time.monotonic() + 10
    while AuditRecord.objects.filter(user="alice").count() < before + 3:
        assert time.monotonic() < deadline, "the batch was never written"
        time.sleep(0.05)
    settings.WAREHOUSE_AUDIT_BATCH_SECONDS = 0
