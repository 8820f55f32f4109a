"""The team members page in a real browser: a row's checkboxes belong to its
own Save form (the form attribute), removing asks a second click, and the
table fits a 1024 px laptop screen without scrolling sideways."""

from __future__ import annotations

from typing import Any

import pytest

from hybridreview.accounts.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_admin_changes_a_role_and_removes_a_member(
    open_page, login, live_server, make_user, make_team, password
):
    team = make_team("demo")
    make_user("adm", "admin", team=team)
    make_user("ana", "analyst", team=team)
    apo = make_user("apo", "approver", team=team)
    probe = open_page()
    probe.page.set_viewport_size({"width": 1024, "height": 768})
    login(probe, "adm", password)
    page = probe.page
    page.goto(f"{live_server.url}/teams/demo/members/")
    wrap = page.locator("#member-table").locator("xpath=..")
    assert page.evaluate("el => el.scrollWidth <= el.clientWidth", wrap.element_handle())

    page.get_by_label("approver (apo)").uncheck()
    page.get_by_label("consumer (apo)").check()
    page.get_by_label("analyst (ana)").uncheck()  # another row's change: not sent with apo's
    page.get_by_role("button", name="Save roles of apo").click()
    page.wait_for_url("**/teams/demo/members/")
    assert (
        "apo in team demo: now consumer; no longer approver."
        in page.locator(".messages").inner_text()
    )
    assert set(
        Membership.objects.get(team=team, user=apo).roles.values_list("name", flat=True)
    ) == {"consumer"}
    assert page.get_by_label("analyst (ana)").is_checked()  # unchanged on the server

    remove = page.get_by_role("button", name="Remove ana from demo")
    assert not remove.is_visible()  # behind "Remove…"
    page.locator('tr[data-member="ana"] summary').click()
    remove.click()
    page.wait_for_url("**/teams/demo/members/")
    assert "ana was removed from team demo." in page.locator(".messages").inner_text()
    assert page.locator('tr[data-member="ana"]').count() == 0
    probe.screenshot("team-members")
    assert probe.console_errors == [] and probe.failed_requests == []


def test_the_last_admin_is_told_why_nothing_changed(
    open_page, login, live_server, make_user, make_team, password
):
    team = make_team("demo")
    make_user("adm", "admin", team=team)
    probe = open_page()
    login(probe, "adm", password)
    page = probe.page
    page.goto(f"{live_server.url}/teams/demo/members/")
    page.get_by_label("admin (adm)").uncheck()
    page.get_by_role("button", name="Save roles of adm").click()
    alert = page.locator("#member-error")
    alert.wait_for()
    assert "only admin of team demo" in alert.inner_text()
    assert page.get_by_label("admin (adm)").is_checked()  # the page shows what holds
    described: Any = page.get_by_label("admin (adm)").get_attribute("aria-describedby")
    assert described and page.locator(f"#{described}").is_visible()
