"""The decision, evidence and home pages: words counted right, no source paths, links where
the reader can follow them."""

from __future__ import annotations

import re

import pytest

from approvals import services
from tests.approvals.review_support import best, ranked_request
from tests.support.html import page_as, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user, team):
    names = ("analyst", "approver", "consumer", "auditor", "admin")
    return {role: make_user(role[:3], role, team=team) for role in names}


@pytest.fixture
def decision(people, team, password):
    req = ranked_request(people["analyst"], team=team, title="square cut")
    services.request_recommend(
        request=req, actor=people["analyst"], candidate_id=best(req).pk, comment="cuts all"
    )
    services.request_approve(
        request=req,
        actor=people["approver"],
        candidate_id=best(req).pk,
        meaning="approved for execution",
        password=password,
    )
    req.refresh_from_db()
    return req.decision


def test_the_evidence_page_counts_in_words_and_leaks_no_source_path(client, people, decision):
    html = page_as(client, people["auditor"], f"/decisions/{decision.pk}/evidence/")
    assert "1 recommendation, 0 comments, 1 signature, 1 decision." in text_of(html)
    assert "approvals/audit.py" not in html


def test_the_evidence_page_links_back_and_offers_the_json(client, people, decision):
    html = page_as(client, people["auditor"], f"/decisions/{decision.pk}/evidence/")
    assert f'<a href="/decisions/{decision.pk}/">Back to decision #{decision.pk}</a>' in html
    download = re.search(rf'<a [^>]*href="/api/v1/decisions/{decision.pk}/evidence/"[^>]*>', html)
    assert download and "download" in download.group(0)


def test_the_evidence_page_shows_runs_as_readable_facts(client, people, decision):
    html = page_as(client, people["auditor"], f"/decisions/{decision.pk}/evidence/")
    runs = text_of(re.search(r'<table id="evidence-runs">.*?</table>', html, re.S).group(0))
    assert "depth 8, 4 two-qubit gates, 4 qubits, 1,024 shots" in runs
    assert "=" not in runs and "None" not in runs and "{" not in runs
    assert "Succeeded" in runs
    # The request's status in the colour it has everywhere else: approved is good news.
    assert '<span class="badge ok">Approved</span>' in html


def test_the_evidence_page_rounds_probabilities(client, people, decision):
    html = page_as(client, people["auditor"], f"/decisions/{decision.pk}/evidence/")
    numbers = re.findall(r'<td class="num">(-?[0-9.,]+)</td>', html)
    fractions = [n.split(".")[1] for n in numbers if "." in n]
    assert fractions  # 300 of 824 shots is 0.364078, not 0.36407766990291263
    assert all(len(f.lstrip("0")) <= 6 for f in fractions), fractions


def test_decisions_link_their_request_for_those_who_can_open_it(client, people, decision):
    link = f'<a href="/requests/{decision.request_id}/">#{decision.request_id} square cut</a>'
    for path in ("/decisions/", f"/decisions/{decision.pk}/"):
        assert link in page_as(client, people["analyst"], path)
        # A consumer reads decisions, not requests: no link to a page that is a 404 for them.
        consumer_html = page_as(client, people["consumer"], path)
        assert "square cut" in consumer_html and f"/requests/{decision.request_id}/" not in (
            consumer_html
        )


def test_the_decision_page_offers_the_evidence_only_to_those_who_may_read_it(
    client, people, decision
):
    evidence = f'href="/decisions/{decision.pk}/evidence/"'
    download = f'href="/api/v1/decisions/{decision.pk}/evidence/" download'
    auditor_html = page_as(client, people["auditor"], f"/decisions/{decision.pk}/")
    assert evidence in auditor_html and download in auditor_html
    consumer_html = page_as(client, people["consumer"], f"/decisions/{decision.pk}/")
    assert "evidence" not in consumer_html.lower()
    assert client.get(f"/decisions/{decision.pk}/evidence/").status_code == 403


def test_the_decision_page_shows_its_objective_without_padding(client, people, decision):
    text = text_of(page_as(client, people["consumer"], f"/decisions/{decision.pk}/"))
    assert f"Objective {decision.objective:g}" in text
    assert "000000" not in text.split("Objective")[1][:20]


@pytest.mark.parametrize(
    ("role", "decisions", "audit"),
    [
        ("auditor", True, True),
        ("consumer", True, False),
        ("analyst", True, False),
        ("admin", False, True),
    ],
)
def test_the_home_page_links_what_the_role_may_open(client, people, role, decisions, audit):
    html = page_as(client, people[role], "/")
    tools = re.search(r"<h2>Tools</h2>(.*?)</section>", html, re.S).group(1)
    assert ('href="/decisions/"' in tools) is decisions
    assert ('href="/audit/"' in tools) is audit
    for path, shown in (("/decisions/", decisions), ("/audit/", audit)):
        assert (client.get(path).status_code == 200) is shown


def test_the_signature_caption_mentions_voiding_only_when_a_signature_was_voided(
    client, people, decision
):
    page = text_of(page_as(client, people["analyst"], f"/requests/{decision.request_id}/"))
    assert "Signatures" in page and "a voided one was given before a re-run" not in page
