"""An invitation in a real browser: an admin invites an address and sees the
link once; the invitee opens it, the token leaves the address bar, a refused
password is explained at its field, and the new account lands in the team.
Both pages pass axe at a 1024 px laptop width."""

from __future__ import annotations

import pytest

from hybridreview.accounts.models import Membership
from tests.e2e.test_accessibility import _violations

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_invitee_creates_an_account_from_the_link(
    open_page, login, live_server, make_user, make_team, password, mailoutbox
):
    team = make_team("demo")
    make_user("adm", "admin", team=team)
    admin = open_page()
    admin.page.set_viewport_size({"width": 1024, "height": 768})
    login(admin, "adm", password)
    page = admin.page
    page.goto(f"{live_server.url}/teams/demo/members/")
    page.get_by_label("Email address").fill("neo@example.org")
    page.locator("#member-invite").get_by_label("analyst").check()
    page.get_by_role("button", name="Send invitation").click()
    issued = page.locator("#invitation-issued")
    assert "Invitation made for neo@example.org. It was emailed to them." in issued.inner_text()
    link = page.get_by_label("Their link", exact=False).input_value()
    assert link in mailoutbox[0].body
    assert page.locator('tr[data-invitation="neo@example.org"]').count() == 1
    assert _violations(page) == []
    admin.screenshot("invitation-issued")

    invitee = open_page()
    invitee.page.set_viewport_size({"width": 1024, "height": 768})
    guest = invitee.page
    guest.goto(link)
    assert guest.url == f"{live_server.url}/invitations/accept/"  # the token is gone
    assert "invites neo@example.org to team demo as analyst" in guest.locator("main").inner_text()
    guest.get_by_label("Username").fill("neo")
    guest.get_by_label("Password", exact=True).fill("12345678")
    guest.get_by_label("Password again").fill("12345678")
    guest.get_by_role("button", name="Create account and join").click()
    password_box = guest.get_by_label("Password", exact=True)
    assert password_box.get_attribute("aria-invalid") == "true"
    error = guest.locator("#id_password1_error")
    assert "too common" in error.inner_text()
    assert "id_password1_error" in (password_box.get_attribute("aria-describedby") or "")
    assert guest.get_by_label("Username").input_value() == "neo"  # kept
    assert _violations(guest) == []
    invitee.screenshot("invitation-form-refused")

    guest.get_by_label("Password", exact=True).fill("a-fresh-passphrase-58")
    guest.get_by_label("Password again").fill("a-fresh-passphrase-58")
    guest.get_by_role("button", name="Create account and join").click()
    guest.wait_for_url(f"{live_server.url}/")
    assert "Welcome: you are in team demo (analyst)." in guest.locator(".messages").inner_text()
    assert list(
        Membership.objects.get(team=team, user__username="neo").roles.values_list("name", flat=True)
    ) == ["analyst"]
    invitee.screenshot("invitation-accepted")
    assert admin.console_errors == [] and admin.failed_requests == []
    # The refused form came back as a 400 on purpose; the browser notes it, nothing else.
    assert invitee.console_errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    assert invitee.failed_requests == []
