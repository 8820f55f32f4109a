"""The one entry point callers use: ``solve`` a problem with a named solver, or estimate it first.

Classical solvers ignore the backend arguments. QAOA runs on a backend given
as an object, a registry name, or a spec; the width check happens here, before
anything is built, so an oversized request fails fast with the limit named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from quantum.backends.base import Backend, BackendSpec
from quantum.backends.devices import simulation_method
from quantum.backends.registry import default_spec, get_backend
from quantum.errors import BackendError
from quantum.problems.problem import Problem
from quantum.results import SolveResult
from quantum.solvers import annealing, exact, local_search
from quantum.solvers._classical import check_option_names
from quantum.solvers.qaoa_settings import QaoaSettings

SOLVERS: dict[str, str] = {
    "qaoa": "quantum",
    "exact": "classical",
    "annealing": "classical",
    "local_search": "classical",
}
_CLASSICAL: dict[str, ModuleType] = {
    "exact": exact,
    "annealing": annealing,
    "local_search": local_search,
}
DEFAULT_BACKEND = "aer_statevector"
DEFAULT_SHOTS = 4096
IDEAL_KINDS = frozenset({"aer_statevector", "aer_mps"})

# Estimate constants: order-of-magnitude guides for budgeting, not promises.
# Hardware: per-job overhead plus ~250 us repetition delay and readout per shot.
HARDWARE_SECONDS_PER_JOB = 2.0
HARDWARE_SECONDS_PER_SHOT = 3e-4
HARDWARE_LATENCY_PER_JOB = 5.0  # submission and result transfer; queue time excluded
# Aer, fitted to measurements on a 2-core worker (bench/RESULTS.md), per
# logical gate (reps * (couplings + 2n)): ideal statevector evolution per
# amplitude; a noisy density matrix per element (4^n); a noisy trajectory per
# shot and amplitude. Routing on a device multiplies the gates, folded in.
SIMULATOR_SECONDS_PER_AMPLITUDE_GATE = 5e-9
NOISY_SECONDS_PER_DENSITY_ELEMENT_GATE = 3.3e-8
NOISY_SECONDS_PER_TRAJECTORY_AMPLITUDE_GATE = 1.1e-8
SIMULATOR_SECONDS_PER_CALL = 0.01
TRANSPILE_SECONDS = 1.0
# Classical, per elementary update (one energy difference; one state for exact).
CLASSICAL_SECONDS_PER_UPDATE = 2.5e-8
EXACT_SECONDS_PER_STATE = 7e-8


@dataclass(frozen=True)
class RunEstimate:
    """What a run should cost before it starts: credits, wall seconds, qubits.

    ``jobs`` and ``shots`` are the provider jobs and total shots the credit
    figure assumes (QAOA on a sampling backend: one job per optimiser
    evaluation at ``optimise_shots`` plus the final job at ``shots``).
    """

    credits: float
    seconds: float
    qubits: int
    jobs: int = 0
    shots: int = 0


def solve(
    problem: Problem,
    *,
    solver: str,
    options: Mapping[str, Any] | None = None,
    seed: int = 0,
    shots: int = DEFAULT_SHOTS,
    backend: str | Backend | None = None,
    backend_spec: BackendSpec | None = None,
    on_job_submitted: Callable[[str], None] | None = None,
    resume_job_id: str | None = None,
    on_optimised: Callable[[dict[str, Any]], None] | None = None,
    resume_optimised: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
) -> SolveResult:
    """Solve ``problem`` with ``solver`` (a key of ``SOLVERS``).

    Resuming after a crash (QAOA): ``on_job_submitted`` receives the final
    sampling job's id before any waiting, and ``on_optimised`` the optimised
    angles (JSON) once an optimisation that submitted jobs is done; pass them
    back as ``resume_job_id`` and ``resume_optimised`` and neither the paid
    optimisation nor the final job is submitted again.

    Raises ``BackendError(permanent=True)`` when the problem is too large for
    the solver or backend, ``BackendError`` from the backend while running,
    and ``ValueError`` for an unknown solver or bad options.
    """
    kind = _solver_kind(solver)
    options = dict(options or {})
    if kind == "classical":
        _check_classical_size(problem, solver)
        result: SolveResult = _CLASSICAL[solver].solve(problem, options, seed=seed)
        return result
    resolved = resolve_backend(backend, backend_spec)
    resolved.check_width(problem.num_variables)
    from quantum.solvers import qaoa  # imports qiskit: only when a circuit will run

    return qaoa.solve(
        problem,
        options,
        seed=seed,
        shots=shots,
        backend=resolved,
        on_job_submitted=on_job_submitted,
        resume_job_id=resume_job_id,
        on_optimised=on_optimised,
        resume_optimised=resume_optimised,
        tags=tags,
    )


def check_options(solver: str, options: Mapping[str, Any], problem: Problem) -> None:
    """Raise ``ValueError`` if ``solver`` would refuse these options or this problem.

    Cheap and provider-free, for validating a request before it is queued:
    option names, types and ranges for every solver (a solver module's own
    ``check_options`` where it has one). The backend is not known here, so a
    backend's own width limit is checked by ``solve``.
    """
    kind = _solver_kind(solver)
    if kind == "classical":
        try:
            _check_classical_size(problem, solver)
        except BackendError as exc:
            raise ValueError(str(exc)) from None
        _check_classical_options(solver, options)
        return
    QaoaSettings.from_options(options, exact_expectation=True, shots=DEFAULT_SHOTS)


def _check_classical_options(solver: str, options: Mapping[str, Any]) -> None:
    module = _CLASSICAL[solver]
    checker = getattr(module, "check_options", None)
    if checker is not None:
        checker(options)
    else:
        check_option_names(solver, options, getattr(module, "OPTIONS", ()))


def resolve_backend(backend: str | Backend | None, spec: BackendSpec | None = None) -> Backend:
    if isinstance(backend, Backend):
        return backend
    if backend is None:
        return get_backend(spec.name, spec) if spec is not None else get_backend(DEFAULT_BACKEND)
    return get_backend(backend, spec)


def estimate_run(
    problem: Problem,
    *,
    solver: str,
    options: Mapping[str, Any] | None = None,
    shots: int = DEFAULT_SHOTS,
    backend_spec: BackendSpec | str | None = None,
) -> RunEstimate:
    """A pre-run estimate from the backend's cost model and rough speed figures.

    Classical solvers cost no credits. QAOA's credits follow the cost model
    over the jobs and shots it will submit; its seconds exclude provider
    queueing, which nobody can promise. Raises like ``solve`` for a problem
    the solver cannot take.
    """
    kind = _solver_kind(solver)
    options = dict(options or {})
    if kind == "classical":
        _check_classical_size(problem, solver)
        _check_classical_options(solver, options)
        return RunEstimate(0.0, _classical_seconds(problem, solver, options), 0)
    spec = _spec(backend_spec)
    n = problem.num_variables
    if n > spec.max_qubits:
        raise BackendError(
            f"needs {n} qubits; backend {spec.name} allows {spec.max_qubits}", permanent=True
        )
    settings = QaoaSettings.from_options(
        options, exact_expectation=spec.kind in IDEAL_KINDS, shots=shots
    )
    sampled = settings.maxiter if settings.objective == "cvar" else 0
    jobs = sampled + 1
    total_shots = sampled * settings.optimise_shots + shots
    quantum_seconds = 0.0
    if spec.kind == "ibm_runtime" and not spec.is_local_runtime:
        quantum_seconds = jobs * HARDWARE_SECONDS_PER_JOB + total_shots * HARDWARE_SECONDS_PER_SHOT
    seconds = _qaoa_seconds(problem, spec, settings, jobs, total_shots, quantum_seconds)
    credits = spec.cost.estimate(jobs, total_shots, quantum_seconds)
    return RunEstimate(credits, seconds, n, jobs=jobs, shots=total_shots)


def _qaoa_seconds(
    problem: Problem,
    spec: BackendSpec,
    settings: QaoaSettings,
    jobs: int,
    total_shots: int,
    quantum_seconds: float,
) -> float:
    if quantum_seconds > 0:
        return TRANSPILE_SECONDS + quantum_seconds + jobs * HARDWARE_LATENCY_PER_JOB
    n = problem.num_variables
    gates = settings.reps * (len(problem.bqm.quadratic) + 2 * n)
    if spec.kind in IDEAL_KINDS:
        # MPS cost is set by entanglement, not width; the statevector figure
        # at up to 20 qubits is a fair ceiling for shallow QAOA.
        width = min(n, 20) if spec.kind == "aer_mps" else n
        per_evaluation = SIMULATOR_SECONDS_PER_CALL + 2.0**width * gates * (
            SIMULATOR_SECONDS_PER_AMPLITUDE_GATE
        )
        return TRANSPILE_SECONDS + (settings.maxiter + 1) * per_evaluation
    sampled = jobs - 1
    final_shots = total_shots - sampled * settings.optimise_shots
    return (
        TRANSPILE_SECONDS
        + sampled * _noisy_job_seconds(n, gates, settings.optimise_shots)
        + _noisy_job_seconds(n, gates, final_shots)
    )


def _noisy_job_seconds(n: int, gates: int, shots: int) -> float:
    if simulation_method(n, shots) == "density_matrix":
        work = 4.0**n * gates * NOISY_SECONDS_PER_DENSITY_ELEMENT_GATE
    else:
        work = shots * 2.0**n * gates * NOISY_SECONDS_PER_TRAJECTORY_AMPLITUDE_GATE
    return SIMULATOR_SECONDS_PER_CALL + work


def _classical_seconds(problem: Problem, solver: str, options: Mapping[str, Any]) -> float:
    n = problem.num_variables
    terms = len(problem.bqm.quadratic)
    if solver == "exact":
        return float(2**n) * EXACT_SECONDS_PER_STATE
    if solver == "annealing":
        sweeps = int(options.get("sweeps", annealing.DEFAULT_SWEEPS))
        restarts = int(options.get("restarts", annealing.DEFAULT_RESTARTS))
        updates = float(sweeps) * restarts * (n + terms)
    else:
        restarts = int(options.get("restarts", local_search.DEFAULT_RESTARTS))
        updates = float(restarts) * n * (n + terms)
    return updates * CLASSICAL_SECONDS_PER_UPDATE


def _spec(backend_spec: BackendSpec | str | None) -> BackendSpec:
    if isinstance(backend_spec, BackendSpec):
        return backend_spec
    return default_spec(backend_spec or DEFAULT_BACKEND)


def _solver_kind(solver: str) -> str:
    kind = SOLVERS.get(solver)
    if kind is None:
        raise ValueError(f"unknown solver {solver!r}; one of: {', '.join(SOLVERS)}")
    return kind


def _check_classical_size(problem: Problem, solver: str) -> None:
    if solver == "exact" and problem.num_variables > exact.MAX_VARIABLES:
        raise BackendError(
            f"needs {problem.num_variables} variables; solver exact allows {exact.MAX_VARIABLES}",
            permanent=True,
        )
