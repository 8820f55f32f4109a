"""The compare page opens on something worth comparing, and its approximation
ratios measure every run against the one optimum the request knows."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from jobs import services
from jobs.models import Candidate, OptimizationRequest, Run, RunStatus, Tier
from jobs.services.ranking import candidates_rank
from jobs.services.recording import candidate_rows
from tests.approvals.review_support import SQUARE_COUNTS, ranked_request
from tests.jobs.conftest import work

pytestmark = pytest.mark.django_db

PENTAGON = {"type": "maxcut", "graph": {"nodes": 5, "edges": [[i, (i + 1) % 5] for i in range(5)]}}
# Cuts two of the square's four edges at best: a quantum run that did poorly.
POOR_COUNTS = {"0011": 500, "0000": 300, "1111": 224}


@pytest.fixture
def ana(make_user, team):
    return make_user("ana", "analyst", team=team)


# What the analyst sees ------------------------------------------------------------


class _Form(HTMLParser):
    """Each <select>'s shown option (the selected one, else the first, as a
    browser shows it) and the table rows, by their header."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: dict[str, tuple[str, str]] = {}
        self.rows: dict[str, list[str]] = {}
        self.titles: dict[str, list[str]] = {}
        self._select: str | None = None
        self._option: tuple[str, bool] | None = None
        self._row: list[str] | None = None
        self._row_titles: list[str] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "select":
            self._select = a["id"]
        elif tag == "option":
            self._option, self._text = (a["value"] or "", "selected" in a), []
        elif tag == "tr":
            self._row, self._row_titles = [], []
        elif tag in ("th", "td"):
            self._text = []
            if tag == "td":
                self._row_titles.append(a.get("title") or "")

    def handle_endtag(self, tag: str) -> None:
        text = " ".join("".join(self._text).split())
        if tag == "option" and self._select and self._option:
            value, selected = self._option
            if selected or self._select not in self.shown:
                self.shown[self._select] = (value, text)
        elif tag == "select":
            self._select = None
        elif tag in ("th", "td") and self._row is not None:
            self._row.append(text)
        elif tag == "tr" and self._row:
            self.rows[self._row[0]] = self._row[1:]
            self.titles[self._row[0]] = self._row_titles

    def handle_data(self, data: str) -> None:
        self._text.append(data)


def opened(client: Client, path: str) -> tuple[str, _Form]:
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    form = _Form()
    form.feed(html)
    return html, form


def press(client: Client, req: OptimizationRequest, form: _Form, button: str) -> tuple[str, _Form]:
    """Submit one of the two picker forms with what its selects show."""
    a, b = ("cand-a", "cand-b") if button == "Compare candidates" else ("run-a", "run-b")
    names = ("a", "b") if button == "Compare candidates" else ("run_a", "run_b")
    query = f"{names[0]}={form.shown[a][0]}&{names[1]}={form.shown[b][0]}"
    return opened(client, f"/requests/{req.pk}/compare/?{query}")


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def run_label(run: Run) -> str:
    return f"#{run.pk} {run.solver}" + (f" on {run.backend}" if run.backend else "")


# Requests ------------------------------------------------------------------------


def solved(ana: Any, solvers: list[dict[str, Any]], problem: Any = PENTAGON) -> Any:
    """A request the real pipeline solved in-process with classical solvers."""
    return work(services.request_submit(requester=ana, problem=problem, solvers=solvers).request)


def add_classical_run(req: OptimizationRequest, solver: str) -> Run:
    """Solve ``req`` again with a classical solver, store it as a worker would, re-rank."""
    import importlib

    from quantum import parse_problem

    module = importlib.import_module(f"quantum.solvers.{solver}")
    result = module.solve(parse_problem(req.problem, req.schema_version), {}, seed=0)
    run = Run.objects.create(
        request=req,
        solver=solver,
        kind="classical",
        status=RunStatus.SUCCEEDED,
        tier=Tier.CLASSICAL,
        attempt=1,
        metrics=dict(result.metrics),
    )
    Candidate.objects.bulk_create(candidate_rows(run, result.candidates[:5]))
    candidates_rank(request=req, runs=list(req.runs.order_by("id")))
    return run


def quantum_best(run: Run, best: float, **metrics: Any) -> None:
    """The metrics a QAOA worker stores with its run (the test rows carry none)."""
    run.metrics = {**run.metrics, "best_objective": best, **metrics}
    run.save(update_fields=["metrics"])


# 1. The run pair it opens with -----------------------------------------------------


def failed_qaoa_run(req):
    """A quantum run of ``req`` that failed: no answer to compare."""
    return Run.objects.create(
        request=req,
        solver="qaoa",
        kind="quantum",
        backend="aer_statevector",
        status=RunStatus.FAILED,
        error_message="the backend went away",
    )


def test_the_page_opens_on_the_best_quantum_run_against_the_best_classical_run(ana, team):
    req = ranked_request(ana, team=team, counts=POOR_COUNTS, noisy_counts=SQUARE_COUNTS)
    poor, good = req.runs.filter(solver="qaoa").order_by("id")
    exact = req.runs.get(solver="exact")
    client = browser(ana)
    _, page = opened(client, f"/requests/{req.pk}/compare/")
    assert poor.pk < good.pk  # the first run cut 2 of the 4 edges; the second all 4
    assert page.shown["run-a"][1] == run_label(good)
    assert page.shown["run-b"][1] == run_label(exact)
    _, runs = press(client, req, page, "Compare runs")
    assert runs.rows["Solver"] == ["qaoa", "exact"]
    assert runs.rows["Backend, tier"] == ["aer_noisy:fake_torino, noisy_simulator", "—, classical"]


def test_with_no_quantum_answer_the_two_best_classical_runs_are_compared(ana):
    req = solved(ana, [{"name": "local_search"}, {"name": "exact"}])
    failed_qaoa_run(req)
    exact, local = req.runs.get(solver="exact"), req.runs.get(solver="local_search")
    _, page = opened(browser(ana), f"/requests/{req.pk}/compare/")
    # Both cut 4 of 5 edges; the exact search's answer is proven, so it ranks first.
    assert (page.shown["run-a"][1], page.shown["run-b"][1]) == (run_label(exact), run_label(local))


def test_a_request_of_one_run_compares_that_run_with_itself(ana):
    req = solved(ana, [{"name": "exact"}])
    [exact] = req.runs.all()
    client = browser(ana)
    _, page = opened(client, f"/requests/{req.pk}/compare/")
    assert page.shown["run-a"] == page.shown["run-b"] == (str(exact.pk), run_label(exact))
    _, runs = press(client, req, page, "Compare runs")
    assert runs.rows["Solver"] == ["exact", "exact"]


def test_naming_one_run_compares_it_with_the_default_other(ana, team):
    req = ranked_request(ana, team=team)
    qaoa, exact = req.runs.get(solver="qaoa"), req.runs.get(solver="exact")
    _, page = opened(browser(ana), f"/requests/{req.pk}/compare/?run_a={qaoa.pk}")
    assert page.rows["Solver"] == ["qaoa", "exact"]
    assert page.shown["run-b"][1] == run_label(exact)


# 2. The candidate pair it opens with ---------------------------------------------


def test_comparing_runs_offers_each_runs_own_best_candidate(ana, team):
    req = ranked_request(ana, team=team)
    qaoa, exact = req.runs.get(solver="qaoa"), req.runs.get(solver="exact")
    client = browser(ana)
    _, page = opened(client, f"/requests/{req.pk}/compare/?run_a={qaoa.pk}&run_b={exact.pk}")
    # Both cut all four edges (0101): the pickers tell them apart by their runs.
    assert page.shown["cand-a"][1].endswith(f" · 0101 · run #{qaoa.pk}")
    assert page.shown["cand-b"][1].endswith(f" · 0101 · run #{exact.pk}")
    _, pair = press(client, req, page, "Compare candidates")
    assert pair.rows["Found by"] == ["qaoa on aer_statevector (simulator)", "exact (classical)"]
    assert pair.rows["Objective (maximize)"] == ["4", "4"]


def test_the_first_candidate_pair_differs_in_some_variable(ana, team):
    # A unique optimum, x = (1, 1, 0), found by both runs: ranks 1 and 2 are the same answer.
    qubo = {"type": "qubo", "linear": [-1.0, -1.0, 2.0], "quadratic": [], "sense": "minimize"}
    req = ranked_request(ana, team=team, problem=qubo, counts={"011": 900, "000": 100})
    rank2 = Candidate.objects.get(request=req, rank=2)
    assert rank2.assignment == [1, 1, 0]
    html, page = opened(browser(ana), f"/requests/{req.pk}/compare/")
    assert page.shown["cand-a"][1].startswith("rank 1 · 011 · run #")
    assert page.shown["cand-b"][1].startswith("rank 3 · ")
    assert "1 variable differs" in " ".join(html.split())
    assert "assign every variable the same value" not in html


# 3. The approximation ratio -------------------------------------------------------


def ratio_row(client: Client, req: OptimizationRequest, a: Run, b: Run) -> tuple[str, _Form]:
    html, page = opened(client, f"/requests/{req.pk}/compare/?run_a={a.pk}&run_b={b.pk}")
    return " ".join(html.split()), page


def test_an_annealing_run_at_the_optimum_reads_the_ratio_of_the_exact_run(ana):
    req = solved(ana, [{"name": "annealing"}, {"name": "exact"}])
    annealing, exact = req.runs.get(solver="annealing"), req.runs.get(solver="exact")
    # The cause: each run stores a ratio against the optimum it knew, and a heuristic knows none.
    assert annealing.metrics["approximation_ratio"] is None
    assert annealing.metrics["best_objective"] == exact.metrics["best_objective"] == 4
    html, page = ratio_row(browser(ana), req, annealing, exact)
    assert page.rows["Approximation ratio"] == ["1.0000", "1.0000"]
    assert "against this request's optimum, 4, proven by exhaustive search" in html


def test_a_quantum_run_below_the_optimum_reads_its_ratio_against_the_exact_run(ana, team):
    req = ranked_request(ana, team=team, counts=POOR_COUNTS)
    qaoa, exact = req.runs.get(solver="qaoa"), req.runs.get(solver="exact")
    quantum_best(qaoa, 2.0)
    _, page = ratio_row(browser(ana), req, qaoa, exact)
    assert page.rows["Best objective"] == ["2", "4"]
    assert page.rows["Approximation ratio"] == ["0.5000", "1.0000"]


def test_a_quantum_runs_exact_reference_serves_when_no_exact_run_was_asked_for(ana, team):
    req = ranked_request(ana, team=team, classical=False)
    qaoa = req.runs.get(solver="qaoa")
    quantum_best(qaoa, 4.0, optimum=4.0, optimum_source="exact")
    annealing = add_classical_run(req, "annealing")
    _, page = ratio_row(browser(ana), req, qaoa, annealing)
    assert page.rows["Approximation ratio"] == ["1.0000", "1.0000"]


def test_an_optimum_given_to_a_quantum_run_serves_every_run_when_none_is_proven(ana, team):
    req = ranked_request(ana, team=team, classical=False)
    qaoa = req.runs.get(solver="qaoa")
    quantum_best(qaoa, 4.0, optimum=5.0, optimum_source="given", approximation_ratio=0.8)
    annealing = add_classical_run(req, "annealing")
    html, page = ratio_row(browser(ana), req, qaoa, annealing)
    assert page.rows["Approximation ratio"] == ["0.8000", "0.8000"]
    assert f"optimum, 5, as given in the options of run #{qaoa.pk};" in html


def test_with_no_known_optimum_the_ratio_is_a_dash_and_the_page_says_why(ana):
    req = solved(ana, [{"name": "annealing"}, {"name": "local_search"}])
    annealing, local = req.runs.get(solver="annealing"), req.runs.get(solver="local_search")
    html, page = ratio_row(browser(ana), req, annealing, local)
    assert page.rows["Approximation ratio"] == ["—", "—"]
    assert page.titles["Approximation ratio"] == ["No optimum is known for this request."] * 2
    assert re.search(r'id="ratio-note"[^>]*>Approximation ratio: “—” because no optimum', html)
    assert 'aria-describedby="ratio-note"' in html


def test_a_ratio_undefined_at_zero_says_so(ana, team):
    # Minimising x0 + x1: the optimum is 0, where a ratio of magnitudes means nothing.
    qubo = {"type": "qubo", "linear": [1.0, 1.0], "quadratic": [], "sense": "minimize"}
    req = ranked_request(ana, team=team, problem=qubo, counts={"01": 10})
    qaoa, exact = req.runs.get(solver="qaoa"), req.runs.get(solver="exact")
    quantum_best(qaoa, 1.0)
    html, page = ratio_row(browser(ana), req, qaoa, exact)
    assert page.rows["Approximation ratio"] == ["—", "1.0000"]
    assert (
        page.titles["Approximation ratio"][0] == "Undefined when the optimum or the objective is 0."
    )
    assert "A: Undefined when the optimum or the objective is 0." in html


def test_a_failed_run_has_no_ratio_and_the_page_says_why(ana):
    req = solved(ana, [{"name": "exact"}])
    failed = failed_qaoa_run(req)
    html, page = ratio_row(browser(ana), req, failed, req.runs.get(solver="exact"))
    assert page.rows["Approximation ratio"] == ["—", "1.0000"]
    assert f"A: Run #{failed.pk} has no best objective to measure." in html
