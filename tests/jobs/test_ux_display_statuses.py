"""One status wording everywhere: sentence case, the same words as live updates, one colour
per meaning; and numbers a person can read."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.template import Context, Template

from jobs.models import RequestStatus, RunStatus
from jobs.services.campaigns import campaign_create
from jobs.templatetags.jobs_tags import circuit_summary, format_number
from tests.jobs.conftest import work
from tests.support.html import page_as, text_of

pytestmark = pytest.mark.django_db


def badges(html: str) -> list[tuple[str, str]]:
    """(colour class, words) of every status badge on the page."""
    return [
        (cls, " ".join(words.split()))
        for cls, words in re.findall(r'<span class="badge (\w+)"[^>]*>([^<]*)</span>', html)
    ]


def test_statuses_have_sentence_case_labels():
    assert RequestStatus.READY_FOR_REVIEW.label == "Ready for review"
    assert RunStatus.TIMED_OUT.label == "Timed out"
    for status in [*RequestStatus, *RunStatus]:
        assert status.label == status.label.capitalize(), status


def test_the_request_list_shows_request_and_run_statuses_in_the_same_words(client, analyst, submit):
    req = work(submit(title="ring"))
    run = req.runs.order_by("id").last()
    run.status = RunStatus.TIMED_OUT
    run.save(update_fields=["status"])
    shown = badges(page_as(client, analyst, "/requests/"))
    assert ("ok", "Ready for review") in shown
    assert ("ok", "exact: Succeeded") in shown
    assert ("warn", "local_search: Timed out") in shown
    assert not any(words.endswith(("succeeded", "timed_out")) for _, words in shown)


def test_every_page_hands_the_live_updater_the_servers_labels(client, analyst):
    html = page_as(client, analyst, "/requests/")
    found = re.search(r'<script id="status-labels" type="application/json">(.*?)</script>', html)
    statuses = json.loads(found.group(1))
    assert statuses["labels"]["ready_for_review"] == "Ready for review"
    assert statuses["labels"]["timed_out"] == "Timed out"
    assert statuses["classes"]["approved"] == "ok"


def test_the_live_updater_takes_its_labels_from_the_page_not_from_the_status_code(settings):
    script = (settings.BASE_DIR / "static" / "js" / "requests.js").read_text()
    assert 'getElementById("status-labels")' in script
    assert 'run.solver + ": " + run.status' not in script  # the raw code, lower case


def test_the_campaign_pages_use_the_same_status_badges(client, analyst, team, submit):
    campaign = campaign_create(actor=analyst, team=team, title="sweep", window_seconds=60)
    html = page_as(client, analyst, "/campaigns/")
    assert ("info", "Collecting") in badges(html)
    submit(title="in the campaign", campaign=campaign)
    html = page_as(client, analyst, f"/campaigns/{campaign.pk}/")
    assert ("info", "Collecting") in badges(html)
    assert ("info", "Queued") in badges(html)  # its runs, held until the campaign is sent


def test_the_compare_page_shows_run_statuses_and_objectives_plainly(client, analyst, submit):
    req = work(submit(title="ring"))
    a, b = req.runs.order_by("id")
    best = a.metrics["best_objective"]
    a.metrics["best_objective"] = best - 0.23750000000000002  # a sum of floats, as stored
    a.save(update_fields=["metrics"])
    html = page_as(client, analyst, f"/requests/{req.pk}/compare/?run_a={a.pk}&run_b={b.pk}")
    assert [w for _, w in badges(html)] == ["Succeeded", "Succeeded"]
    row = re.search(r"Best objective</th>(.*?)</tr>", html, re.S).group(1)
    assert text_of(row) == f"{format_number(best - 0.2375)} {format_number(best)}"
    assert "0000000" not in row


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-0.23750000000000002, "-0.2375"),
        (8.5, "8.5"),
        (-1.0, "-1"),
        (Decimal("1.600000"), "1.6"),
        (100000, "100,000"),
        (0.32958984375, "0.32959"),
        (Decimal("0.000001"), "0.000001"),
        (1234.5678901, "1,234.56789"),
        (-0.0, "0"),
        (None, "—"),
    ],
)
def test_numbers_are_shown_short_and_exact_looking(value, shown):
    assert format_number(value) == shown
    assert Template("{% load jobs_tags %}{{ v|number }}").render(Context({"v": value})) == shown


def test_circuit_facts_read_as_a_phrase_not_as_python():
    facts = {
        "sha256": "ab" * 32,
        "depth": 12,
        "two_qubit_gates": 16,
        "width": 6,
        "shots": 2048,
        "initial_layout": None,
        "operations": {"rzz": 16, "rx": 12, "h": 6, "measure": 6, "barrier": 1},
    }
    assert circuit_summary(facts) == (
        "depth 12, 16 two-qubit gates, 6 qubits, 2,048 shots; operations rzz 16, rx 12, h 6, "
        "measure 6"
    )
    assert circuit_summary({**facts, "initial_layout": [3, 5]}).endswith(
        "; on physical qubits 3, 5"
    )
    assert circuit_summary(None) == "—"
