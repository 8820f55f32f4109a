"""Appends from many threads at once still make one linear chain."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from approvals.audit import audit_record, audit_verify
from approvals.models import AuditEvent

THREADS = 12
PER_THREAD = 25


def append_many(worker: int, start: threading.Barrier, errors: list[BaseException]) -> None:
    try:
        start.wait()
        for i in range(PER_THREAD):
            with transaction.atomic():
                audit_record(action="test.concurrent", system=f"thread-{worker}", after={"i": i})
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)
    finally:
        connection.close()  # each thread has its own connection


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_leave_a_valid_linear_chain():
    # On PostgreSQL the advisory lock serialises the appends; on SQLite, BEGIN IMMEDIATE.
    before = AuditEvent.objects.count()
    start, errors = threading.Barrier(THREADS), []
    threads = [
        threading.Thread(target=append_many, args=(n, start, errors)) for n in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    result = audit_verify()
    assert result.ok, result.describe()
    assert result.events == before + THREADS * PER_THREAD
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == len(prev_hashes), "two events claim the same predecessor"
