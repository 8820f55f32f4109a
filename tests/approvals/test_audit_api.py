"""GET /api/v1/audit/: the audit page's events for a token, oldest first."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from approvals.audit import GENESIS_HASH, AuditAction, canonical_json
from approvals.models import AuditEvent
from approvals.selectors import audit_events_for_user
from tests.approvals.test_audit_page import note

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit/"


def every_page(client, **params):
    """The results of every page, following ``next`` as a script would."""
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    pages = [response.json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    return pages


def page_export(user, **params):
    """The page's own list for a query, whole and oldest first: its JSON export."""
    client = Client()
    client.force_login(user)
    response = client.get("/audit/export.json", params)
    assert response.status_code == 200
    return json.loads(b"".join(response.streaming_content))


def rehashes(event):
    fields = {k: v for k, v in event.items() if k != "hash"}
    digest = hashlib.sha256(event["prev_hash"].encode() + canonical_json(fields)).hexdigest()
    return digest == event["hash"]


def test_an_auditor_with_a_token_lists_their_teams_events_oldest_first_in_pages(
    client_as, auditor, alpha
):
    client = client_as(auditor)
    for i in range(5):
        note(f"test.n{i}", team=alpha, system="tests")
    pages = every_page(client, page_size=2)
    events = [e for page in pages for e in page["results"]]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert pages[0]["count"] == len(events) == audit_events_for_user(auditor).count()
    assert len(pages) == math.ceil(len(events) / 2) and pages[0]["previous"] is None
    assert [e["action"] for e in events][-5:] == [f"test.n{i}" for i in range(5)]


def test_each_event_has_the_shape_of_the_request_timeline(
    client_as, make_user, auditor, alpha, make_request
):
    request_obj = make_request(make_user("ana", "analyst", team=alpha), "t", team=alpha)
    timeline = client_as(auditor).get(f"/api/v1/requests/{request_obj.pk}/audit/").json()
    listed = client_as(auditor).get(URL, {"request": request_obj.pk}).json()
    assert listed["results"] == timeline["results"]
    assert {"prev_hash", "hash"} <= set(listed["results"][0])


def test_an_admin_reads_their_teams_trail_too(client_as, make_user, alpha):
    note("test.admin", team=alpha, system="tests")
    response = client_as(make_user("adm", "admin", team=alpha)).get(URL, {"action": "test.admin"})
    assert response.status_code == 200
    assert [e["action"] for e in response.json()["results"]] == ["test.admin"]


def test_events_of_another_team_never_appear(
    client_as, auditor, alpha, make_team, make_user, password
):
    zeta = make_team("zeta")
    zed = make_user("zed", "analyst", team=zeta)
    Client().post("/accounts/login/", {"username": "zed", "password": password})
    note("test.zeta", team=zeta, actor=zed)
    note("test.alpha", team=alpha, system="tests")
    events = [e for page in every_page(client_as(auditor), page_size=200) for e in page["results"]]
    hidden = set(AuditEvent.objects.filter(team=zeta).values_list("seq", flat=True)) | set(
        AuditEvent.objects.filter(actor=zed).values_list("seq", flat=True)
    )
    assert hidden and not hidden & {e["seq"] for e in events}
    actions = {e["action"] for e in events}
    assert "test.alpha" in actions and "test.zeta" not in actions
    assert "zed" not in {e["actor_label"] for e in events}


@pytest.mark.parametrize(
    ("params", "shown", "hidden"),
    [
        ({"action": "test.alpha"}, "test.alpha", "test.beta"),
        ({"actor": "ana"}, "test.alpha", "test.beta"),
        ({"object_type": "accounts.team", "object_id": "OBJ"}, "test.beta", "test.alpha"),
        ({"since": "TODAY", "until": "TODAY", "action": "test.beta"}, "test.beta", "test.alpha"),
        ({"action": "test.alpha", "actor": "", "request": ""}, "test.alpha", "test.beta"),
    ],
)
def test_a_filter_narrows_the_list_as_the_pages_filter_does(
    client_as, auditor, alpha, make_user, params, shown, hidden
):
    ana = make_user("ana", "analyst", team=alpha)
    note("test.alpha", actor=ana, team=alpha)
    note("test.beta", obj=alpha, system="tests")
    today = timezone.now().date().isoformat()
    params = {k: {"OBJ": str(alpha.pk), "TODAY": today}.get(v, v) for k, v in params.items()}
    events = [e for page in every_page(client_as(auditor), **params) for e in page["results"]]
    actions = {e["action"] for e in events}
    assert shown in actions and hidden not in actions
    assert events == page_export(auditor, **params)


def test_a_day_filter_takes_whole_days_in_utc(client_as, auditor, alpha):
    note("test.now", team=alpha, system="tests")
    client, today = client_as(auditor), timezone.now().date()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)

    def actions(**params):
        return {e["action"] for e in client.get(URL, params).json()["results"]}

    assert "test.now" in actions(until=today.isoformat())
    assert "test.now" not in actions(until=yesterday.isoformat())
    assert "test.now" not in actions(since=tomorrow.isoformat())
    # The calendar's last day has no next midnight to stop at: no upper bound.
    assert "test.now" in actions(until="9999-12-31")


def test_the_page_and_its_export_take_the_calendars_last_day_too(auditor, alpha):
    note("test.now", team=alpha, system="tests")
    assert "test.now" in {e["action"] for e in page_export(auditor, until="9999-12-31")}
    client = Client()
    client.force_login(auditor)
    assert client.get("/audit/", {"until": "9999-12-31"}).status_code == 200


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"acton": "test.x"}, "acton"),
        ({"since": "yesterday-ish"}, "since"),
        ({"until": "2026-02-30"}, "until"),
        ({"request": "abc"}, "request"),
        ({"request": "0"}, "request"),
        ({"object_type": "x" * 101}, "object_type"),
        ({"page_size": "500"}, "page_size"),
    ],
)
def test_an_unknown_or_bad_filter_is_a_400_naming_it(client_as, auditor, params, named):
    response = client_as(auditor).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert [e["field"] for e in body["errors"]] == [named]
    assert named in body["detail"]


@pytest.mark.parametrize("role", ["analyst", "approver", "consumer", "operator"])
def test_a_role_that_may_not_read_the_trail_gets_the_pages_403_as_json(
    client_as, make_user, alpha, role
):
    user = make_user("someone", role, team=alpha)
    client = client_as(user)
    response = client.get(URL)
    assert response.status_code == 403
    assert response.json()["detail"] == "The audit trail is for admins and auditors."
    assert client.get(URL, {"acton": "x"}).status_code == 403  # the role before the filters
    page = Client()
    page.force_login(user)
    assert page.get("/audit/").status_code == 403


def test_anonymous_gets_401_as_json(api_client):
    response = api_client.get(URL)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_the_hashes_chain_across_a_page_boundary(client_as, auditor, alpha):
    client = client_as(auditor)
    for i in range(6):
        note(f"test.chain{i}", team=alpha, system="tests")
    # Any 6 events in a row hold a boundary between pages of 4.
    pages = every_page(client, page_size=4)
    events = [e for page in pages for e in page["results"]]
    boundaries = set(range(4, len(events), 4))  # the index of each page's first event
    ours = [i for i, e in enumerate(events) if e["action"].startswith("test.chain")]
    assert boundaries & set(ours[1:])
    for i in ours[1:]:
        assert events[i]["prev_hash"] == events[i - 1]["hash"]
    assert all(rehashes(e) for e in events)


def test_a_superuser_auditor_walks_the_whole_chain_from_genesis(client_as, make_user, make_team):
    root = make_user("root", "auditor")
    root.is_superuser = True
    root.save()
    note(AuditAction.LOGIN_FAILED, system="tests", after={"username": "ghost"})
    note("test.other", team=make_team("zeta"), system="tests")
    events = [e for page in every_page(client_as(root), page_size=3) for e in page["results"]]
    assert events[0]["prev_hash"] == GENESIS_HASH
    assert [e["prev_hash"] for e in events[1:]] == [e["hash"] for e in events[:-1]]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(rehashes(e) for e in events)


def test_an_export_with_a_filter_that_is_not_valid_is_refused(auditor, alpha):
    note("test.now", team=alpha, system="tests")
    client = Client()
    client.force_login(auditor)
    export = client.get("/audit/export.csv", {"since": "2026-13-45"})
    assert export.status_code == 400
    assert "Not exported: the filter since is not valid" in export.content.decode()
