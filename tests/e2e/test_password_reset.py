"""A forgotten password in a real browser: from the sign-in page to a new
password through the emailed link; each page passes axe at 1024 px."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_accessibility import _violations

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_user_resets_a_forgotten_password_and_signs_in_with_it(
    open_page, live_server, make_user, mailoutbox
):
    user = make_user("ana", "analyst")
    user.email = "ana@example.org"
    user.save()
    probe = open_page()
    probe.page.set_viewport_size({"width": 1024, "height": 768})
    page = probe.page
    page.goto(f"{live_server.url}/accounts/login/")
    assert _violations(page) == []  # the sign-in page, as everyone first sees it
    page.get_by_role("link", name="Forgot your password?").click()
    assert _violations(page) == []
    page.get_by_label("Email address").fill("ana@example.org")
    page.get_by_role("button", name="Send the link").click()
    assert page.get_by_role("heading", name="Check your email").is_visible()
    link = re.search(r"(http://\S+/accounts/reset/\S+/)", mailoutbox[0].body).group(1)

    page.goto(link)
    assert page.url.endswith("/set-password/")  # the token is gone from the address bar
    assert _violations(page) == []
    page.get_by_label("New password", exact=True).fill("a-fresh-passphrase-58")
    page.get_by_label("New password confirmation").fill("a-fresh-passphrase-58")
    page.get_by_role("button", name="Set password").click()
    page.wait_for_url("**/accounts/login/")
    assert "Your password was set." in page.locator(".messages").inner_text()
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("a-fresh-passphrase-58")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("heading", name="Welcome, Ana Test").is_visible()
    page.get_by_role("link", name="Account").click()
    page.get_by_role("link", name="Change your password").click()
    assert page.get_by_role("heading", name="Change your password").is_visible()
    assert _violations(page) == []
    probe.screenshot("password-change")
    assert probe.console_errors == [] and probe.failed_requests == []
