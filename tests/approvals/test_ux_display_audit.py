"""The audit page's filters offer what the trail holds, and its objects read as names."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from approvals.audit import AuditAction, audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(make_user, alpha):
    return make_user("ana.b", "analyst", team=alpha)


def get(client, user, **params):
    client.force_login(user)
    response = client.get("/audit/", params)
    assert response.status_code == 200
    return response.content.decode()


def table(html: str) -> str:
    return re.search(r'<table id="audit-table".*?</table>', html, re.S).group(0)


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"{name} is not a select"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def note(action, **kwargs):
    with transaction.atomic():
        return audit_record(action=action, **kwargs)


def test_action_and_object_type_are_picked_from_what_the_trail_holds(
    client, auditor, alpha, ana, make_request
):
    make_request(ana, "t", team=alpha)
    html = get(client, auditor)
    actions = options(html, "action")
    assert actions[0] == "" and {"request.submitted", "permission.granted"} <= set(actions)
    types = options(html, "object_type")
    assert "jobs.optimizationrequest" in types
    assert '<option value="jobs.optimizationrequest">request</option>' in html


def test_an_action_first_recorded_after_a_page_view_is_offered_at_the_next(
    client, auditor, alpha, ana, make_request
):
    # The choices are cached under the chain's head, which every append moves.
    assert "request.submitted" not in options(get(client, auditor), "action")
    make_request(ana, "t", team=alpha)
    assert "request.submitted" in options(get(client, auditor), "action")


def test_picking_an_action_shows_only_its_events(client, auditor, alpha, ana, make_request):
    make_request(ana, "t", team=alpha)
    shown = table(get(client, auditor, action=AuditAction.PERMISSION_GRANTED))
    assert "permission.<wbr>granted" in shown and "request.<wbr>submitted" not in shown


def test_a_link_naming_an_action_not_offered_still_filters(client, auditor, alpha):
    note("test.rare", team=alpha, system="tests")
    note("test.other", team=alpha, system="tests")
    html = get(client, auditor, action="test.rare")
    assert "test.<wbr>rare" in table(html) and "test.<wbr>other" not in table(html)
    assert '<option value="test.rare" selected>' in html


def test_part_of_a_username_finds_the_actor(client, auditor, alpha, ana):
    note("test.by_ana", actor=ana, team=alpha)
    note("test.by_system", team=alpha, system="tests")
    shown = table(get(client, auditor, actor="ANA"))
    assert "by_ana" in shown and "by_system" not in shown
    assert "Part of a username." in get(client, auditor)


def test_dates_are_date_inputs_with_a_hint_and_until_takes_the_whole_day(client, auditor, alpha):
    note("test.today", team=alpha, system="tests")
    html = get(client, auditor)
    assert re.search(r'<input type="date" name="since"', html)
    assert re.search(r'<input type="date" name="until"[^>]*aria-describedby="id_until-hint"', html)
    assert 'id="id_until-hint"' in html and "Until includes the whole day" in html
    today = timezone.now().date()
    assert "test.<wbr>today" in table(get(client, auditor, since=today, until=today))
    yesterday = today - timedelta(days=1)
    assert "No events match" in get(client, auditor, until=yesterday)


def test_objects_are_named_and_requests_link_where_the_reader_can_open_them(
    client, auditor, alpha, ana, make_user, make_request
):
    req = make_request(ana, "t", team=alpha)
    note(AuditAction.LOGIN, obj=ana, actor=ana)
    # An auditor sees no request pages: the link narrows the trail to the request.
    shown = table(get(client, auditor))
    assert "user ana.b" in shown
    assert f'<a href="/audit/?request={req.pk}">request #{req.pk}</a>' in shown
    assert "jobs.optimizationrequest" not in shown and "auth.user" not in shown
    # An admin who also reviews does: the link opens the request.
    both = make_user("adm", "admin", "analyst", team=alpha)
    assert f'<a href="/requests/{req.pk}/">request #{req.pk}</a>' in table(get(client, both))


def test_hashes_are_shortened_with_the_whole_hash_one_click_away(client, auditor, alpha):
    event = note("test.hashed", team=alpha, system="tests", reason="because")
    shown = table(get(client, auditor))
    assert f"{event.hash[:8]}…" in shown
    assert f'<span class="mono wrap">{event.hash}</span>' in shown  # inside its <details>
    assert "because" in shown
