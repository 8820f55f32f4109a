"""The hash chain: how events are appended, and that verify_audit finds tampering."""

from __future__ import annotations

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from approvals import immutability
from approvals.audit import (
    GENESIS_HASH,
    AuditError,
    anchor_write,
    audit_health_check,
    audit_record,
    audit_verify,
    event_hash,
)
from approvals.models import AuditEvent, AuditHealth
from hybridreview.correlation import correlation_scope

pytestmark = pytest.mark.django_db


def record(n: int, **kwargs: object) -> list[AuditEvent]:
    with transaction.atomic():
        return [audit_record(action=f"test.event{i}", system="tests", **kwargs) for i in range(n)]  # type: ignore[arg-type]


def verify_exit(*args: str) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except CommandError as exc:  # manage.py turns this into sys.exit(returncode)
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def tamper(sql: str, params: list[object]) -> None:
    """Change the table behind the application's back, triggers lifted."""
    with immutability.suspended(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_events_chain_each_hash_to_the_one_before():
    first, second, third = record(3)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert [e.seq for e in (first, second, third)] == [
        first.seq,
        first.seq + 1,
        first.seq + 2,
    ]


def test_an_outsider_can_recompute_a_hash_from_the_documented_recipe(make_user):
    user = make_user("ana", "analyst")
    with transaction.atomic(), correlation_scope("cid-1"):
        audit_record(action="test.thing", actor=user, after={"n": 1.5, "big": 1e20, "s": "é"})
    event = AuditEvent.objects.order_by("-seq").first()
    payload = {
        "seq": event.seq,
        "time": event.time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": user.pk,
        "actor_label": "ana",
        "system": "",
        "action": "test.thing",
        "object_type": "",
        "object_id": "",
        "request_ref": None,
        "team_id": None,
        "before": None,
        "after": {"n": 1.5, "big": 100000000000000000000, "s": "é"},
        "reason": "",
        "correlation_id": "cid-1",
        "ip": "",
        "user_agent": "",
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256(event.prev_hash.encode() + canonical.encode("utf-8")).hexdigest()
    assert event.hash == expected == event_hash(event)


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused():
    with pytest.raises(AuditError, match="inside the transaction"):
        audit_record(action="test.x", system="tests")
    assert not AuditEvent.objects.exists()


def test_an_event_takes_ip_user_agent_and_actor_from_the_http_request(rf, make_user):
    user = make_user("ana", "analyst")
    http = rf.get("/", HTTP_USER_AGENT="pytest-agent", REMOTE_ADDR="203.0.113.9")
    http.user = user
    with transaction.atomic():
        event = audit_record(action="test.http", request=http)
    assert (event.actor_id, event.actor_label) == (user.pk, "ana")
    assert (event.ip, event.user_agent) == ("203.0.113.9", "pytest-agent")


def test_the_database_refuses_update_and_delete_through_the_orm():
    (event,) = record(1)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(seq=event.seq).update(reason="edited")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(seq=event.seq).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        event.reason = "edited"
        event.save()
    assert AuditEvent.objects.get(seq=event.seq).reason == ""


@pytest.mark.postgres
def test_postgres_refuses_truncate():
    # On an empty table: the statement trigger fires whether or not there are rows.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {immutability.TABLE}")


def test_verify_audit_exits_0_on_an_intact_chain():
    record(5)
    code, output = verify_exit()
    assert code == 0
    assert "audit chain intact" in output


def test_verify_audit_names_the_event_whose_contents_were_changed():
    events = record(5)
    target = events[2]
    tamper(f"UPDATE {immutability.TABLE} SET reason = %s WHERE seq = %s", ["forged", target.seq])
    code, output = verify_exit()
    assert code == 1
    assert f"event #{target.seq}" in output and "altered" in output


def test_verify_audit_names_a_rehashed_event_by_the_broken_link_after_it():
    events = record(5)
    target = events[2]
    forged = AuditEvent.objects.get(seq=target.seq)
    forged.reason = "forged"
    tamper(
        f"UPDATE {immutability.TABLE} SET reason = %s, hash = %s WHERE seq = %s",
        ["forged", event_hash(forged), target.seq],
    )
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == target.seq + 1
    assert "prev_hash" in result.problem


def test_verify_audit_names_a_deleted_event():
    events = record(5)
    target = events[1]
    tamper(f"DELETE FROM {immutability.TABLE} WHERE seq = %s", [target.seq])
    code, output = verify_exit()
    assert code == 1
    assert f"event #{target.seq} is missing" in output


def test_an_event_deleted_from_the_end_is_caught_by_the_anchor():
    events = record(3)
    anchor = anchor_write()
    assert anchor is not None and anchor.seq == events[-1].seq
    tamper(f"DELETE FROM {immutability.TABLE} WHERE seq = %s", [events[-1].seq])
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == events[-1].seq
    assert "removed from the end" in result.problem


def test_the_anchor_is_a_json_line_in_a_daily_file(_anchors_in_tmp, caplog):
    (event,) = record(1)
    with caplog.at_level("INFO", logger="approvals.audit"):
        anchor = anchor_write()
    (path,) = _anchors_in_tmp.glob("*.jsonl")
    line = json.loads(path.read_text().splitlines()[-1])
    assert line["seq"] == event.seq and line["hash"] == event.hash
    assert anchor is not None and anchor.hash == event.hash
    assert any(getattr(r, "audit_head_hash", None) == event.hash for r in caplog.records)


def test_the_periodic_check_records_health_and_logs_an_error_when_broken(caplog):
    events = record(3)
    assert audit_health_check().ok
    assert AuditHealth.objects.get().ok is True
    tamper(f"UPDATE {immutability.TABLE} SET action = %s WHERE seq = %s", ["x", events[0].seq])
    with caplog.at_level("ERROR", logger="approvals.audit"):
        result = audit_health_check()
    assert not result.ok
    health = AuditHealth.objects.get()
    assert (health.ok, health.first_bad_seq) == (False, events[0].seq)
    assert any(r.levelname == "ERROR" and "BROKEN" in r.getMessage() for r in caplog.records)


def test_readyz_reports_the_audit_check_without_failing_readiness(client):
    events = record(2)
    tamper(f"UPDATE {immutability.TABLE} SET action = %s WHERE seq = %s", ["x", events[0].seq])
    audit_health_check()
    body = client.get("/readyz").json()
    assert body["checks"]["audit"]["ok"] is False
    assert body["checks"]["audit"]["first_bad_seq"] == events[0].seq
    assert "audit" not in body["down"]


def test_the_triggers_are_back_after_a_suspension():
    with immutability.suspended(connection):
        pass
    assert len(immutability.installed(connection)) == 2 * len(immutability.TABLES)
    assert immutability.installed(connection) == immutability.expected(connection)


def test_flush_is_refused_outside_the_test_suite(settings):
    settings.AUDIT_ALLOW_FLUSH = False
    with pytest.raises(CommandError, match="audit trail"):
        call_command("flush", interactive=False, verbosity=0)


def test_the_beat_tasks_are_scheduled_and_run_the_services(settings, _anchors_in_tmp):
    from approvals import tasks

    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"approvals.verify_audit_chain", "approvals.anchor_audit_head"} <= names
    record(1)
    tasks.verify_audit_chain.apply()
    tasks.anchor_audit_head.apply()
    assert AuditHealth.objects.get().ok is True
    assert list(_anchors_in_tmp.glob("*.jsonl"))
