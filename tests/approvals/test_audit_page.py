"""The audit page, its exports, and a request's timeline."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from approvals.audit import AuditAction, audit_record, canonical_json
from approvals.models import AuditEvent
from tests.support.html import inline_scripts

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_as(client):
    def get(user, path="/audit/", **params):
        client.force_login(user)
        response = client.get(path, params)
        if getattr(response, "streaming", False):
            response.body = b"".join(response.streaming_content).decode()
        else:
            response.body = response.content.decode()
            # The events table alone (the filters above it list every action), as
            # it reads: without the <wbr> that lets an action name break at a dot.
            found = re.search(r'<table id="audit-table".*?</table>', response.body, re.S)
            response.table = found.group(0).replace("<wbr>", "") if found else ""
        return response

    return get


def note(action, **kwargs):
    with transaction.atomic():
        return audit_record(action=action, **kwargs)


def test_the_page_lists_events_newest_first_without_inline_scripts(page_as, auditor, alpha):
    note("test.first", team=alpha, system="tests")
    note("test.second", team=alpha, system="tests")
    response = page_as(auditor)
    assert response.status_code == 200
    assert response.table.index("test.second") < response.table.index("test.first")
    assert inline_scripts(response.body) == []  # the CSP runs only scripts from static/


@pytest.mark.parametrize(
    ("params", "shown", "hidden"),
    [
        ({"action": "test.alpha"}, "test.alpha", "test.beta"),
        ({"actor": "ana"}, "test.alpha", "test.beta"),
        ({"object_type": "accounts.team", "object_id": "OBJ"}, "test.beta", "test.alpha"),
    ],
)
def test_filters_narrow_the_events(page_as, auditor, alpha, make_user, params, shown, hidden):
    ana = make_user("ana", "analyst", team=alpha)
    note("test.alpha", actor=ana, team=alpha)
    params = {k: (str(alpha.pk) if v == "OBJ" else v) for k, v in params.items()}
    note("test.beta", obj=alpha, system="tests")
    response = page_as(auditor, **params)
    assert shown in response.table and hidden not in response.table


def test_the_date_filters_take_whole_days_until_included(page_as, auditor, alpha):
    note("test.now", team=alpha, system="tests")
    today = timezone.now().date()
    tomorrow, yesterday = today + timedelta(days=1), today - timedelta(days=1)
    assert "test.now" not in page_as(auditor, since=tomorrow.isoformat()).table
    assert "test.now" in page_as(auditor, since=today.isoformat()).table
    assert "test.now" in page_as(auditor, until=today.isoformat()).table
    assert "test.now" not in page_as(auditor, until=yesterday.isoformat()).table


def test_a_bad_filter_is_shown_and_nothing_is_listed_until_it_is_fixed(page_as, auditor, alpha):
    # Listing the rest would pass off the whole trail as the filtered one.
    note("test.kept", team=alpha, system="tests")
    response = page_as(auditor, since="yesterday-ish", action="test.kept")
    assert response.status_code == 200
    assert "Enter a valid date" in response.body and "test.kept" not in response.table
    assert "a filter above is not valid" in response.body
    assert "test.kept" in page_as(auditor, action="test.kept").table


def test_the_page_is_paginated(page_as, auditor, alpha):
    with transaction.atomic():
        for i in range(60):
            audit_record(action=f"test.n{i:02d}", team=alpha, system="tests")
    first, second = page_as(auditor), page_as(auditor, page=2)
    assert "test.n59" in first.table and "test.n00" not in first.table
    assert "test.n00" in second.table


def test_logins_of_my_teams_members_are_visible_and_others_are_not(
    page_as, auditor, alpha, make_team, make_user, password
):
    make_user("ana", "analyst", team=alpha)
    make_user("zed", "analyst", team=make_team("zeta"))
    for name in ("ana", "zed"):
        Client().post("/accounts/login/", {"username": name, "password": password})
        Client().post("/accounts/login/", {"username": name, "password": "wrong"})
    text = page_as(auditor, action=AuditAction.LOGIN_FAILED).table
    assert "&quot;ana&quot;" in text and "zed" not in text
    text = page_as(auditor, action=AuditAction.LOGIN).table
    assert "ana" in text and "zed" not in text


def test_a_superuser_auditor_reads_events_that_belong_to_no_team(page_as, make_user, client):
    root = make_user("root", "auditor")
    root.is_superuser = True
    root.save()
    client.post("/accounts/login/", {"username": "ghost", "password": "x"})
    assert "ghost" in page_as(root, action=AuditAction.LOGIN_FAILED).table


def test_the_json_export_rehashes_with_the_documented_recipe(page_as, auditor, alpha, make_user):
    ana = make_user("ana", "analyst", team=alpha)
    note("test.export", actor=ana, team=alpha, after={"x": [1, 2.5, "é"]}, reason="because")
    response = page_as(auditor, "/audit/export.json")
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    events = json.loads(response.body)
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    for event in events:
        stored_hash = event.pop("hash")
        digest = hashlib.sha256(event["prev_hash"].encode() + canonical_json(event)).hexdigest()
        assert digest == stored_hash


def test_the_csv_export_has_every_column_and_defuses_formulas(page_as, auditor, alpha):
    note("test.csv", team=alpha, system="tests", reason='=HYPERLINK("http://x")')
    response = page_as(auditor, "/audit/export.csv", action="test.csv")
    rows = list(csv.reader(io.StringIO(response.body)))
    header, row = rows[0], rows[1]
    assert header[0] == "seq" and header[-1] == "hash"
    assert row[header.index("reason")] == '\'=HYPERLINK("http://x")'


def test_exports_apply_the_page_filters(page_as, auditor, alpha):
    note("test.in", team=alpha, system="tests")
    note("test.out", team=alpha, system="tests")
    text = page_as(auditor, "/audit/export.json", action="test.in").body
    assert "test.in" in text and "test.out" not in text


def test_the_request_timeline_holds_the_events_of_the_request_and_its_runs(
    client_as, make_user, alpha, make_request
):
    from jobs.models import Run

    ana = make_user("ana", "analyst", team=alpha)
    request_obj = make_request(ana, "t", team=alpha)
    with transaction.atomic():
        run = Run.objects.create(request=request_obj, solver="exact", kind="classical")
        audit_record(action=AuditAction.RUN_CLAIMED, obj=run, system="task:test")
        audit_record(action="test.unrelated", team=alpha, system="tests")
    response = client_as(ana).get(f"/api/v1/requests/{request_obj.pk}/audit/")
    assert response.status_code == 200
    results = response.json()["results"]
    actions = [e["action"] for e in results]
    assert actions == [
        AuditAction.REQUEST_SUBMITTED,
        AuditAction.PERMISSION_GRANTED,
        AuditAction.RUN_CLAIMED,
    ]
    run_event = results[-1]
    assert (run_event["object_type"], run_event["object_id"]) == ("jobs.run", str(run.pk))
    assert run_event["team_id"] == alpha.pk
    assert run_event["hash"] == AuditEvent.objects.get(seq=run_event["seq"]).hash


def test_the_timeline_partial_renders_a_requests_events(make_user, alpha, make_request):
    from django.template.loader import render_to_string

    from approvals.selectors import request_timeline
    from jobs.models import Run

    request_obj = make_request(make_user("ana", "analyst", team=alpha), "t", team=alpha)
    with transaction.atomic():
        run = Run.objects.create(request=request_obj, solver="exact", kind="classical")
        audit_record(action=AuditAction.RUN_CLAIMED, obj=run, system="task:test")
    html = render_to_string("approvals/_timeline.html", {"events": request_timeline(request_obj)})
    assert AuditAction.REQUEST_SUBMITTED in html and AuditAction.PERMISSION_GRANTED in html
    # The run is named as a person would, with the stored type in its tooltip.
    assert f'title="jobs.run {run.pk}">run #{run.pk}</span>' in html
