"""Figures a reviewer can read: every bar labelled, no line hidden under another, no empty
chart drawn for samples that do not exist."""

from __future__ import annotations

import pytest

from approvals.figures import request_figures
from jobs import services
from tests.approvals.review_support import ranked_request
from tests.jobs.conftest import work

pytestmark = pytest.mark.django_db

CLASSICAL = [{"name": "exact"}, {"name": "local_search"}]
PENTAGON = {"type": "maxcut", "graph": {"nodes": 5, "edges": [[i, (i + 1) % 5] for i in range(5)]}}


@pytest.fixture
def ana(make_user, team):
    return make_user("ana", "analyst", team=team)


def by_kind(payload, kind):
    return [f for f in payload["figures"] if f["kind"] == kind]


def classical_request(ana):
    req = services.request_submit(requester=ana, problem=PENTAGON, solvers=CLASSICAL).request
    return work(req)


def test_every_bar_of_a_measurement_distribution_is_labelled(ana, team):
    [fig] = by_kind(request_figures(ranked_request(ana, team=team)), "measurement")
    axis = fig["figure"]["layout"]["xaxis"]
    assert (axis["tickmode"], axis["dtick"]) == ("linear", 1)


def test_a_chart_of_many_bars_leaves_plotly_to_thin_its_labels(ana, team):
    qubo = {"type": "qubo", "linear": [1.0] * 45, "quadratic": [], "sense": "minimize"}
    req = ranked_request(ana, team=team, problem=qubo, counts={"0" * 45: 10}, classical=False)
    [fig] = by_kind(request_figures(req), "problem")
    assert len(fig["figure"]["data"][0]["x"]) == 45
    assert "dtick" not in fig["figure"]["layout"]["xaxis"]


def test_the_exact_best_and_the_optimum_are_one_labelled_line_not_two_stacked(ana, team):
    [fig] = by_kind(request_figures(ranked_request(ana, team=team)), "objective")
    lines = [t for t in fig["figure"]["data"] if t["type"] == "scatter"]
    assert len(lines) == 1
    [line] = lines
    assert "optimum" in line["name"] and "exact best" in line["name"]
    assert line["mode"] == "lines+text" and line["text"][-1].startswith("optimum = #")
    assert "named after all of them" in fig["caption"]
    assert ". ." not in fig["caption"] and fig["caption"].endswith("of its shots.")


def test_a_request_without_quantum_samples_draws_no_objective_chart(ana):
    payload = request_figures(classical_request(ana))
    assert by_kind(payload, "objective") == []
    assert by_kind(payload, "problem") != []  # the answer is still drawn


def test_comparing_two_classical_runs_draws_no_empty_chart(client, ana):
    req = classical_request(ana)
    a, b = req.runs.order_by("id")
    client.force_login(ana)
    html = client.get(f"/requests/{req.pk}/compare/?run_a={a.pk}&run_b={b.pk}").content.decode()
    assert "Side by side" in html
    assert "quantum samples against classical baselines" not in html
    assert "Distributions and values" not in html and "plotly.min.js" not in html
