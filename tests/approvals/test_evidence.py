"""The evidence pack of a request that is ready for review."""

from __future__ import annotations

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.template.loader import render_to_string

from approvals import immutability
from approvals.audit import AuditAction, audit_record, canonical_json, event_hash
from approvals.evidence import evidence_pack
from approvals.models import AuditEvent
from tests.support.html import inline_scripts

pytestmark = pytest.mark.django_db

COUNTS = {"010": 400, "101": 380, "000": 20}


@pytest.fixture
def ready_request(make_team, make_user, make_request):
    from jobs.models import Candidate, Distribution, RequestStatus, Run

    team = make_team("alpha")
    ana = make_user("ana", "analyst", team=team)
    request_obj = make_request(ana, "Evidence me", team=team)
    with transaction.atomic():
        run = Run.objects.create(
            request=request_obj,
            solver="qaoa",
            kind="quantum",
            backend="aer_statevector",
            status="succeeded",
            tier="simulator",
            attempt=1,
            timings={"transpile": 0.12, "execute": 0.5},
            circuit={"hash": "c" * 64, "depth": 14, "two_qubit_gates": 6, "shots": 800},
        )
        Distribution.objects.create(run=run, **Distribution.encode(COUNTS, compress_above=10))
        Candidate.objects.create(
            request=request_obj,
            run=run,
            assignment=[0, 1, 0],
            bitstring="010",
            objective=2.0,
            feasible=True,
            probability=0.5,
            count=400,
            run_rank=1,
            rank=1,
        )
        audit_record(action=AuditAction.RUN_SUCCEEDED, obj=run, system="task:test")
        request_obj.status = RequestStatus.READY_FOR_REVIEW
        request_obj.save(update_fields=["status"])
        audit_record(action=AuditAction.REQUEST_RANKED, obj=request_obj, system="jobs.ranking")
    return request_obj


def test_the_pack_holds_inputs_runs_digests_candidates_and_audit_events(ready_request):
    pack = evidence_pack(ready_request)
    assert pack["request"]["status"] == "ready_for_review"
    assert pack["inputs"]["schema_version"] == "1" and pack["inputs"]["problem"]["type"] == "maxcut"
    (run,) = pack["runs"]
    assert run["circuit"]["depth"] == 14 and run["timings"]["execute"] == 0.5
    canonical_counts = json.dumps(COUNTS, sort_keys=True, separators=(",", ":")).encode()
    assert run["distribution"]["sha256"] == hashlib.sha256(canonical_counts).hexdigest()
    assert pack["candidates"][0]["bitstring"] == "010"
    actions = [e["action"] for e in pack["audit"]["events"]]
    assert actions == [
        AuditAction.REQUEST_SUBMITTED,
        AuditAction.PERMISSION_GRANTED,
        AuditAction.RUN_SUCCEEDED,
        AuditAction.REQUEST_RANKED,
    ]
    assert all(len(e["hash"]) == 64 for e in pack["audit"]["events"])
    assert pack["audit"]["events_rehash_ok"] is True
    assert (
        pack["verify"]["command"] == f"python3 manage.py verify_audit --request {ready_request.pk}"
    )
    assert {"comments", "signatures", "recommendations", "decisions"} <= pack.keys()


def test_the_pack_is_plain_json_with_a_digest_over_the_rest(ready_request):
    pack = evidence_pack(ready_request)
    text = json.dumps(pack)  # nothing but JSON types
    reloaded = json.loads(text)
    digest = reloaded.pop("pack_sha256")
    assert hashlib.sha256(canonical_json(reloaded)).hexdigest() == digest


def test_each_event_in_the_pack_rehashes_outside_the_application(ready_request):
    for event in evidence_pack(ready_request)["audit"]["events"]:
        stored = event.pop("hash")
        assert (
            hashlib.sha256(event["prev_hash"].encode() + canonical_json(event)).hexdigest()
            == stored
        )


def test_the_pack_flags_an_event_altered_behind_the_triggers(ready_request):
    seq = AuditEvent.objects.filter(request_ref=ready_request.pk).values_list("seq", flat=True)[0]
    with immutability.suspended(connection), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {immutability.TABLE} SET reason = 'x' WHERE seq = %s", [seq])
    assert evidence_pack(ready_request)["audit"]["events_rehash_ok"] is False


def test_the_html_page_renders_the_pack(ready_request, rf, make_user):
    request = rf.get("/")
    request.user = make_user("viewer", "consumer")
    html = render_to_string(
        "approvals/evidence.html", {"pack": evidence_pack(ready_request)}, request
    )
    assert "Evidence me" in html
    # A command the reader can paste: python3, where a bare python may be Python 2.
    assert f"<code>python3 manage.py verify_audit --request {ready_request.pk}</code>" in html
    assert inline_scripts(html) == []  # the CSP runs only scripts from static/


def test_verify_audit_reports_the_requests_events(ready_request):
    out = StringIO()
    call_command("verify_audit", "--request", str(ready_request.pk), stdout=out)
    text = out.getvalue()
    assert "audit chain intact" in text
    assert f"request {ready_request.pk}: 4 events" in text
    assert text.count(" ok  #") == 4


def test_verify_audit_marks_the_requests_events_after_a_break(ready_request):
    events = list(AuditEvent.objects.filter(request_ref=ready_request.pk).order_by("seq"))
    with immutability.suspended(connection), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {immutability.TABLE} SET reason = 'x' WHERE seq = %s", [events[2].seq]
        )
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("verify_audit", "--request", str(ready_request.pk), stdout=out)
    assert failed.value.returncode == 1 and f"#{events[2].seq}" in str(failed.value)
    assert out.getvalue().count("BAD #") == 2
    assert event_hash(events[0]) == events[0].hash


def test_a_decisions_evidence_downloads_as_json_for_its_teams_auditor(
    ready_request, make_decision, make_user, client_as
):
    decision = make_decision(ready_request)
    auditor = make_user("aud", "auditor", team=ready_request.team)
    response = client_as(auditor).get(f"/api/v1/decisions/{decision.pk}/evidence/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="evidence-decision-{decision.pk}.json"'
    )
    pack = response.json()
    assert pack["request"]["id"] == ready_request.pk
    assert pack["decisions"][0]["id"] == decision.pk
    assert pack["decisions"][0]["digest"] == decision.digest


def test_a_consumer_reads_the_decision_but_not_the_record_behind_it(
    ready_request, make_decision, make_user, client_as, client
):
    # The pack holds every candidate, the comments and the audit events with
    # addresses; a consumer reads approved outputs only.
    decision = make_decision(ready_request)
    consumer = make_user("cons", "consumer", team=ready_request.team)
    api = client_as(consumer)
    assert api.get(f"/api/v1/decisions/{decision.pk}/").status_code == 200
    refused = api.get(f"/api/v1/decisions/{decision.pk}/evidence/")
    assert refused.status_code == 403 and "candidates" not in refused.content.decode()
    client.force_login(consumer)
    assert client.get(f"/decisions/{decision.pk}/evidence/").status_code == 403
