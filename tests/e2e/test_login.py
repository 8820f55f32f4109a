import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_demo_user_logs_in_through_the_browser_and_sees_their_team(
    open_page, login, live_server, make_user, password
):
    make_user("ana", "analyst")
    probe = open_page()
    probe.page.goto(live_server.url + "/")
    assert "/accounts/login/" in probe.page.url
    probe.screenshot("login")
    login(probe, "ana", password)
    assert probe.page.get_by_role("heading", name="Welcome, Ana Test").is_visible()
    assert probe.page.get_by_text("Demo").first.is_visible()
    probe.screenshot("home")
    assert probe.console_errors == []
    assert probe.failed_requests == []


def test_the_interactive_api_docs_render_under_the_content_security_policy(
    open_page, login, live_server, make_user, password
):
    make_user("ana", "analyst")
    probe = open_page()
    login(probe, "ana", password)
    probe.page.goto(live_server.url + "/api/docs/")
    probe.page.wait_for_selector("text=HybridReview API", timeout=15000)
    probe.screenshot("api-docs")
    assert probe.console_errors == []
