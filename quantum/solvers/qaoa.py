"""QAOA on any backend: optimise the angles, sample the result, decode it.

On an ideal simulator the optimiser minimises the exact expectation of the
normalised Hamiltonian (Aer's EstimatorV2). On a noisy simulator or hardware
it minimises the CVaR of sampled energies (Barkoutsos et al. 2020): the mean
of the best ``cvar_alpha`` share of shots, which tracks the good tail that
a sampler actually hands back. Every optimiser evaluation on such a backend
is one job with the same seed ("common random numbers"), so on a simulator
the objective is a deterministic function of the angles and COBYLA is not
chasing shot noise.

The final sampling job's id goes to ``on_job_submitted`` before any
waiting; a retry passes it back as ``resume_job_id`` and is polled instead
of resubmitted. An optimisation that submitted jobs (a sampled objective)
hands its result to ``on_optimised`` before the final job is sent; a retry
passes it back as ``resume_optimised`` and goes straight to sampling, so
the paid optimiser jobs are never run twice. An exact-expectation
optimisation costs nothing and is simply repeated (it is deterministic from
the seed). For hardware the cheapest pattern is still to optimise on a
simulator first and run the hardware solve with that result's
``metrics["parameters"]`` as ``initial`` and ``maxiter=0``: one job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

from quantum.backends.base import Backend, JobNotFoundError, JobStatus
from quantum.backends.registry import get_backend
from quantum.decode import bitstrings_to_assignments, decode_counts
from quantum.errors import BackendError
from quantum.metrics import summary_metrics, total_variation_distance
from quantum.model import FloatArray
from quantum.problems.problem import Problem
from quantum.results import CandidateResult, SolveResult
from quantum.solvers import exact
from quantum.solvers.qaoa_circuits import (
    QaoaProgram,
    build_program,
    circuit_facts,
    parameter_order,
    ramp,
)
from quantum.solvers.qaoa_settings import NAME, QaoaSettings

# Comparing with an ideal run needs a statevector of the problem's width.
IDEAL_COMPARE_MAX_QUBITS = 20
IDEAL_COUNTS_KEPT = 1024  # top outcomes stored, so a 2^20 distribution cannot bloat a row
EXACT_REFERENCE_MAX_VARIABLES = 20  # 2^20 energies: well under a second
MAX_CANDIDATES = 256  # the full distribution is in ``counts``; candidates are for ranking
# COBYLA's first steps: the normalised Hamiltonian makes ~0.1 rad a meaningful move.
RHOBEG = 0.1
POLL_FIRST, POLL_MAX, POLL_GROWTH = 0.02, 5.0, 1.5


@dataclass(frozen=True)
class Optimised:
    x: FloatArray  # (gammas..., betas...) in normalised units
    trace: tuple[float, ...]  # objective per evaluation, in the problem's own terms
    message: str

    def checkpoint(self) -> dict[str, Any]:
        """Plain JSON, for ``on_optimised``."""
        return {"x": [float(v) for v in self.x], "trace": list(self.trace), "message": self.message}

    @classmethod
    def from_checkpoint(cls, data: Mapping[str, Any] | None, reps: int) -> Optimised | None:
        """The optimisation a checkpoint saved, or None when there is none.

        Raises ``ValueError`` for a checkpoint that cannot be this run's
        (angles for other ``reps``): resuming from it would sample the wrong circuit.
        """
        if not data:
            return None
        x = np.asarray(data.get("x", ()), dtype=np.float64)
        if x.shape != (2 * reps,) or not np.isfinite(x).all():
            wanted = f"{2 * reps} finite angles"
            raise ValueError(f"a resume checkpoint needs {wanted}; got {x.tolist()}")
        trace = tuple(float(v) for v in data.get("trace", ()))
        message = f"resumed: {data.get('message', '')}".strip()
        return cls(x=x, trace=trace, message=message)


def solve(
    problem: Problem,
    options: Mapping[str, Any],
    *,
    seed: int,
    shots: int = 4096,
    backend: Backend,
    on_job_submitted: Callable[[str], None] | None = None,
    resume_job_id: str | None = None,
    on_optimised: Callable[[dict[str, Any]], None] | None = None,
    resume_optimised: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
) -> SolveResult:
    started = time.perf_counter()
    settings = QaoaSettings.from_options(
        options, exact_expectation=backend.supports_expectation, shots=shots
    )
    backend.check_width(problem.num_variables)
    backend.check_shots(shots)
    timings: dict[str, float] = {}
    runner = JobRunner(backend, settings.timeout_seconds, tags)
    with _timed(timings, "transpile"):
        program = build_program(problem, settings.reps, backend, seed)
    resumed = Optimised.from_checkpoint(resume_optimised, settings.reps)
    with _provider_batch(backend, settings, resume_job_id, optimising=resumed is None):
        with _timed(timings, "optimise"):
            optimised = resumed or optimise(program, settings, runner, seed)
        if resumed is None and runner.usage["jobs"] and on_optimised is not None:
            on_optimised(optimised.checkpoint())  # before the final job: a retry skips to it
        with _timed(timings, "sample"):
            job_id, counts = sample_final(
                program, optimised.x, runner, shots, seed, on_job_submitted, resume_job_id
            )
    comparison: dict[str, Any] = {}
    if _compares_with_ideal(backend, settings, problem):
        with _timed(timings, "compare_ideal"):
            comparison = compare_with_ideal(program, optimised.x, counts, shots, seed)
    candidates = decode_counts(problem, counts)
    metrics = _metrics(program, candidates, settings, optimised, runner) | comparison
    circuit = circuit_facts(program.bound_isa(optimised.x), backend, shots)
    timings["total"] = time.perf_counter() - started
    return SolveResult(
        solver=NAME,
        backend=backend.name,
        tier=backend.tier,
        counts=counts,
        candidates=candidates[:MAX_CANDIDATES],
        metrics=metrics,
        timings=timings,
        circuit=circuit,
        trace=optimised.trace,
        provider_job_id=job_id,
        usage=runner.usage,
    )


class JobRunner:
    """Submits jobs to one backend, waits for them, and adds up their usage."""

    def __init__(self, backend: Backend, timeout: float | None, tags: Sequence[str]) -> None:
        self.backend = backend
        self.timeout = timeout
        self.tags = tuple(tags)
        self.usage: dict[str, float] = {"quantum_seconds": 0.0, "queue_seconds": 0.0, "jobs": 0}

    def submit(self, circuit: Any, shots: int, seed: int) -> str:
        try:
            job_id = self.backend.run([circuit], shots=shots, seed=seed, tags=self.tags)
        except BackendError as exc:
            exc.usage = exc.usage or dict(self.usage)  # the attempt's earlier jobs were billed
            raise
        self.usage["jobs"] += 1
        return job_id

    def wait(self, job_id: str) -> dict[str, int]:
        """Counts of the job's (only) circuit; raises ``BackendError`` if it did not finish."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        delay = POLL_FIRST
        status = self.backend.poll(job_id)
        while not status.terminal:
            if deadline is not None and time.monotonic() > deadline:
                raise BackendError(
                    f"job {job_id} still {status.state} after {self.timeout:g} s; "
                    "resume it with its id",
                    permanent=False,
                    usage=self.usage,
                )
            time.sleep(delay)
            delay = min(delay * POLL_GROWTH, POLL_MAX)
            status = self.backend.poll(job_id)
        self._add_usage(status)
        if status.state != "done":
            raise BackendError(
                f"job {job_id} on {self.backend.name} {status.state}: {status.error}",
                permanent=status.permanent,
                usage=self.usage,
            )
        return status.counts[0]

    def counts(self, circuit: Any, shots: int, seed: int) -> dict[str, int]:
        return self.wait(self.submit(circuit, shots, seed))

    def _add_usage(self, status: JobStatus) -> None:
        for key in ("quantum_seconds", "queue_seconds"):
            self.usage[key] += float(status.usage.get(key, 0.0))


def optimise(
    program: QaoaProgram, settings: QaoaSettings, runner: JobRunner, seed: int
) -> Optimised:
    x0 = initial_point(settings, seed)
    if settings.maxiter == 0:
        return Optimised(x=x0, trace=(), message="not optimised: maxiter is 0")
    if settings.objective == "expectation":
        energy_of = expectation_objective(program, runner.backend)
    else:
        energy_of = cvar_objective(program, runner, settings, seed)
    trace: list[float] = []

    def objective(x: FloatArray) -> float:
        energy = energy_of(np.asarray(x, dtype=np.float64))
        trace.append(program.problem.objective_from_energy(energy))
        return energy

    result = minimize(
        objective, x0, method=settings.optimizer, options=_optimizer_options(settings)
    )
    return Optimised(
        x=np.asarray(result.x, dtype=np.float64), trace=tuple(trace), message=str(result.message)
    )


def initial_point(settings: QaoaSettings, seed: int) -> FloatArray:
    if settings.initial == "ramp":
        return ramp(settings.reps)
    if settings.initial == "random":
        rng = np.random.default_rng(seed)
        return rng.uniform(-np.pi / 2, np.pi / 2, 2 * settings.reps)
    return np.asarray(settings.initial, dtype=np.float64)


def expectation_objective(program: QaoaProgram, backend: Backend) -> Callable[[FloatArray], float]:
    """x -> exact expected BQM energy, through the backend's EstimatorV2."""
    circuit = program.isa.remove_final_measurements(inplace=False)
    observable = program.hamiltonian
    if circuit.layout is not None:
        observable = observable.apply_layout(circuit.layout)
    order = parameter_order(circuit, program.reps)

    def energy(x: FloatArray) -> float:
        value = backend.expectation(circuit, observable, x[order].reshape(1, -1))[0]
        return program.energy(float(value))

    return energy


def cvar_objective(
    program: QaoaProgram, runner: JobRunner, settings: QaoaSettings, seed: int
) -> Callable[[FloatArray], float]:
    """x -> CVaR_alpha of the BQM energies sampled from the backend."""

    def energy(x: FloatArray) -> float:
        counts = runner.counts(program.bound_isa(x), settings.optimise_shots, seed)
        energies, weights = sampled_energies(program.problem, counts)
        return cvar(energies, weights, settings.cvar_alpha)

    return energy


def sampled_energies(problem: Problem, counts: Mapping[str, int]) -> tuple[FloatArray, FloatArray]:
    """BQM energy (penalties included) of each distinct outcome, and its shot count."""
    keys = [k.replace(" ", "") for k in counts]
    xs = bitstrings_to_assignments(keys, problem.num_variables)
    weights = np.fromiter(counts.values(), dtype=np.float64, count=len(keys))
    return problem.bqm.energies(xs), weights


def cvar(energies: FloatArray, weights: FloatArray, alpha: float) -> float:
    """Mean energy of the lowest ``alpha`` share of the weight (alpha = 1: the plain mean)."""
    order = np.argsort(energies, kind="stable")
    e, w = energies[order], weights[order]
    budget = alpha * w.sum()
    before = np.concatenate([[0.0], np.cumsum(w)[:-1]])
    taken = np.clip(budget - before, 0.0, w)
    return float(taken @ e / budget)


def sample_final(
    program: QaoaProgram,
    x: FloatArray,
    runner: JobRunner,
    shots: int,
    seed: int,
    on_job_submitted: Callable[[str], None] | None,
    resume_job_id: str | None,
) -> tuple[str, dict[str, int]]:
    if resume_job_id is not None:
        try:
            return resume_job_id, runner.wait(resume_job_id)
        except JobNotFoundError:
            # A local simulator's jobs die with its process. Rerunning is free
            # there; anywhere that charges, losing a job must not be silent.
            if not runner.backend.spec.cost.is_free:
                raise
    job_id = runner.submit(program.bound_isa(x), shots, seed)
    if on_job_submitted is not None:
        on_job_submitted(job_id)
    return job_id, runner.wait(job_id)


def compare_with_ideal(
    program: QaoaProgram, x: FloatArray, counts: Mapping[str, int], shots: int, seed: int
) -> dict[str, Any]:
    """Sample the same bound circuit noise-free and measure how far the real counts drifted."""
    ideal = get_backend("aer_statevector")
    circuit = ideal.transpile(program.bound_logical(x), seed=seed)
    ideal_counts = JobRunner(ideal, None, ()).counts(circuit, shots, seed)
    top = sorted(ideal_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:IDEAL_COUNTS_KEPT]
    return {
        "tvd_to_ideal": total_variation_distance(counts, ideal_counts),
        "ideal_counts": dict(top),
    }


def _compares_with_ideal(backend: Backend, settings: QaoaSettings, problem: Problem) -> bool:
    return (
        backend.tier != "simulator"
        and settings.compare_ideal
        and problem.num_variables <= IDEAL_COMPARE_MAX_QUBITS
    )


def _metrics(
    program: QaoaProgram,
    candidates: tuple[CandidateResult, ...],
    settings: QaoaSettings,
    optimised: Optimised,
    runner: JobRunner,
) -> dict[str, Any]:
    problem = program.problem
    optimum, source = _reference_optimum(problem, settings)
    metrics: dict[str, Any] = dict(summary_metrics(problem, candidates, optimum))
    reps = settings.reps
    metrics.update(
        {
            "optimum": optimum,
            "optimum_source": source,
            "objective": settings.objective,
            "cvar_alpha": settings.cvar_alpha if settings.objective == "cvar" else None,
            "reps": reps,
            "optimizer": settings.optimizer,
            "evaluations": len(optimised.trace),
            "optimizer_message": optimised.message,
            # Normalised angles; feed them back as ``initial`` to reuse them.
            "parameters": [float(v) for v in optimised.x],
            "gammas": [float(v) for v in optimised.x[:reps]],
            "betas": [float(v) for v in optimised.x[reps:]],
            "hamiltonian_scale": program.scale,
            "jobs": int(runner.usage["jobs"]),
        }
    )
    return metrics


def _reference_optimum(problem: Problem, settings: QaoaSettings) -> tuple[float | None, str | None]:
    if settings.optimum is not None:
        return settings.optimum, "given"
    if problem.num_variables <= EXACT_REFERENCE_MAX_VARIABLES:
        optimum = exact.solve(problem, {}, seed=0).metrics["optimum"]
        return (None, None) if optimum is None else (float(optimum), "exact")
    return None, None


def _optimizer_options(settings: QaoaSettings) -> dict[str, Any]:
    if settings.optimizer == "COBYLA":
        return {"maxiter": settings.maxiter, "rhobeg": RHOBEG}
    return {"maxfev": settings.maxiter, "xatol": 1e-3, "fatol": 1e-6}


def _provider_batch(
    backend: Backend, settings: QaoaSettings, resume_job_id: str | None, *, optimising: bool
) -> AbstractContextManager[Any]:
    # One provider batch for the optimiser's jobs and the final one; nothing
    # to group when every job is local or the only job is being resumed.
    sampled_optimisation = optimising and settings.objective == "cvar" and settings.maxiter > 0
    submits = resume_job_id is None or sampled_optimisation
    return backend.batch() if backend.tier == "hardware" and submits else nullcontext()


@contextmanager
def _timed(timings: dict[str, float], key: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = time.perf_counter() - started
