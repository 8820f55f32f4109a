"""Every page, as the role that uses it, passes axe-core's checks in a real browser.

axe-core (bundled by axe-playwright-python; nothing is downloaded) runs its
WCAG 2.x A/AA and best-practice rules on each page once its figures are drawn,
at a laptop's 1366x768 and at a narrower 1024x768, where wide tables scroll
inside their cards. Any violation fails the test, named with where it is.
"""

from __future__ import annotations

from typing import Any

import pytest

from approvals import services
from jobs.services.campaigns import campaign_create
from tests.approvals.review_support import best, ranked_request

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FIGURE_TIMEOUT_MS = 30_000


@pytest.fixture
def world(make_team: Any, make_user: Any, password: str) -> dict[str, Any]:
    """A team mid-way through its work: one request awaiting sign-off, one decided."""
    team = make_team("demo")
    ana = make_user("ana", "analyst", team=team)
    apo = make_user("apo", "approver", team=team)
    for name, role in (
        ("con", "consumer"),
        ("aud", "auditor"),
        ("adm", "admin"),
        ("ops", "operator"),
    ):
        make_user(name, role, team=team)
    waiting = ranked_request(ana, team=team, title="awaiting sign-off")
    decided = ranked_request(ana, team=team, title="decided")
    for req in (waiting, decided):
        services.request_recommend(
            request=req, actor=ana, candidate_id=best(req).pk, comment="cuts every edge"
        )
    services.request_approve(
        request=decided,
        actor=apo,
        candidate_id=best(decided).pk,
        meaning="approved for execution",
        password=password,
    )
    campaign = campaign_create(actor=ana, team=team, title="reps sweep", window_seconds=60)
    candidates = list(waiting.candidates.order_by("rank")[:2])
    return {
        "waiting": waiting,
        "decision": decided.decision,
        "campaign": campaign,
        "compare": f"?a={candidates[0].pk}&b={candidates[1].pk}",
    }


def _pages(world: dict[str, Any]) -> dict[str, list[str]]:
    w, d = world["waiting"].pk, world["decision"].pk
    return {
        "ana": [
            "/",
            "/requests/",
            "/requests/new/",
            f"/requests/{w}/",
            f"/requests/{w}/compare/{world['compare']}",
            f"/requests/{w}/compare/?run_a=",  # runs mode, on its default pair
            "/review/",
            "/campaigns/",
            f"/campaigns/{world['campaign'].pk}/",
            "/decisions/",
            "/requests/999999/",  # the 404 page
        ],
        "apo": [f"/requests/{w}/", f"/requests/{w}/sign/", "/review/"],
        "con": ["/decisions/", f"/decisions/{d}/", "/accounts/"],
        # Evidence packs are for reviewers and auditors (consumers get 403).
        "aud": ["/audit/", f"/decisions/{d}/evidence/"],
        "adm": [
            "/policies/",
            "/teams/demo/policy/",
            "/budgets/",
            "/backends/",
            "/teams/",
            "/teams/demo/members/",
        ],
        "ops": ["/backends/"],  # with the actions an admin does not see
    }


def _violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    # Figures are part of the page: check them drawn, not as empty boxes.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-review-figure]')]"
        ".every(el => el.dataset.drawn === 'true')",
        timeout=FIGURE_TIMEOUT_MS,
    )
    response = Axe().run(page).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in response["violations"]
    ]


@pytest.mark.parametrize("width", [1366, 1024])
def test_every_page_passes_axe_for_the_role_that_uses_it(
    open_page, live_server, login, password, world, width
):
    found: dict[str, list[str]] = {}
    for username, paths in _pages(world).items():
        probe = open_page()  # a browser context of its own: one user's session
        probe.page.set_viewport_size({"width": width, "height": 768})
        login(probe, username, password)
        for path in paths:
            response = probe.page.goto(f"{live_server.url}{path}")
            # The page itself, not an error page in its place (but the 404 page on purpose).
            expected = 404 if path == "/requests/999999/" else 200
            assert response is not None and response.status == expected, (username, path)
            probe.page.wait_for_load_state("networkidle")
            if problems := _violations(probe.page):
                found[f"{username} {path}"] = problems
    assert found == {}


def test_a_table_too_wide_for_its_card_can_be_reached_and_scrolled_by_keyboard(
    open_page, live_server, login, password, world
):
    probe = open_page()
    login(probe, "ana", password)
    page = probe.page
    page.goto(f"{live_server.url}/requests/")
    wrap = page.locator(".table-wrap").first
    handle = wrap.element_handle()
    assert wrap.get_attribute("tabindex") is None  # fits on a laptop: not a tab stop
    page.set_viewport_size({"width": 560, "height": 768})
    page.wait_for_function("el => el.getAttribute('tabindex') === '0'", arg=handle)
    assert page.evaluate("el => el.scrollWidth > el.clientWidth", handle)
    assert wrap.get_attribute("role") == "region"
    assert wrap.get_attribute("aria-label") == "2 requests (table, scrolls)"
    wrap.focus()
    assert page.evaluate("el => document.activeElement === el", handle)
    page.keyboard.press("ArrowRight")
    page.wait_for_function("el => el.scrollLeft > 0", arg=handle)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.wait_for_function("el => !el.hasAttribute('tabindex')", arg=handle)
    assert wrap.get_attribute("role") is None
    assert probe.console_errors == []
