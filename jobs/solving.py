"""The one place the jobs app calls the quantum library.

Everything the pipeline needs from ``quantum`` (which solvers exist, whether a
backend name is valid, the solve itself) goes through here, so the
orchestration code reads in the pipeline's terms and a change in the
library's surface is a change in one file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import quantum
from quantum import BackendError, Problem, SolveResult

logger = logging.getLogger(__name__)

DEFAULT_QUANTUM_BACKEND = "aer_statevector"
QUANTUM = "quantum"
CLASSICAL = "classical"
# When the caller names no solvers: QAOA, plus a classical baseline that can
# still finish in seconds (exhaustive search is 2^n).
EXACT_MAX_DEFAULT_VARIABLES = 20
# Solvers whose best answer is a proof of optimality; ranking prefers them on ties.
PROVEN_OPTIMAL_SOLVERS = frozenset({"exact"})


def solver_kinds() -> dict[str, str]:
    """Solver name -> "quantum" | "classical"."""
    return dict(quantum.SOLVERS)


def solver_kind(name: str) -> str | None:
    return solver_kinds().get(name)


def backend_error(name: str) -> str | None:
    """Why ``name`` is not a usable backend name, or None when it is.

    Backends are the admin's ``BackendConfig`` rows: a name must have one,
    enabled. Only the row is checked: building an IBM backend would contact
    the provider, which a submission must not wait for.
    """
    from jobs.services.backends import backend_name_error

    return backend_name_error(name)


def backend_spec(name: str, *, with_credentials: bool = False, for_new_work: bool = True) -> Any:
    """The ``BackendSpec`` the admin configured for ``name`` (jobs.services.backends)."""
    from jobs.services.backends import backend_spec_for

    return backend_spec_for(name, with_credentials=with_credentials, for_new_work=for_new_work)


def run_refusal(
    solver: str, backend: str | None, options: Mapping[str, Any], shots: int, problem: Problem
) -> tuple[str, str] | None:
    """Why the solver would refuse this run before starting, as (what, message), or None.

    ``what`` is "options" (a bad option) or "size" (the problem is too large
    for the solver or backend); the library's pre-run estimate does both checks.
    """
    try:
        quantum.estimate_run(
            problem,
            solver=solver,
            options=options,
            shots=shots,
            backend_spec=backend_spec(backend) if backend else None,
        )
    except BackendError as exc:
        return "size", str(exc)
    except (ValueError, TypeError, OverflowError) as exc:
        return "options", str(exc)
    return None


def is_ibm_backend(name: str) -> bool:
    return name.split(":", 1)[0] == "ibm_runtime"


@contextmanager
def backend_batch(name: str) -> Iterator[Any]:
    """One backend object whose jobs inside the block form one provider batch."""
    backend = quantum.get_backend(name, backend_spec(name, with_credentials=True))
    with backend.batch() as shared:
        yield shared


def solve_run(
    problem: Problem,
    *,
    solver: str,
    backend: Any,
    options: Mapping[str, Any],
    seed: int,
    shots: int,
    on_job_submitted: Callable[[str], None],
    resume_job_id: str | None,
    on_optimised: Callable[[dict[str, Any]], None] | None = None,
    resume_optimised: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
) -> SolveResult:
    return quantum.solve(
        problem,
        solver=solver,
        options=dict(options),
        seed=seed,
        shots=shots,
        backend=backend or None,  # a name, or a Backend object shared by a batch
        # A name is built from its admin-configured spec, credentials included.
        backend_spec=(
            backend_spec(backend, with_credentials=True)
            if isinstance(backend, str) and backend
            else None
        ),
        on_job_submitted=on_job_submitted,
        resume_job_id=resume_job_id or None,
        on_optimised=on_optimised,
        resume_optimised=resume_optimised or None,
        tags=tags,
    )


def cancel_provider_job(backend: str, job_id: str) -> None:
    """Ask the provider to stop a job we no longer want; best effort."""
    try:
        spec = backend_spec(backend, with_credentials=True, for_new_work=False)
        quantum.get_backend(backend, spec).cancel(job_id)
    except Exception:
        # The run is already timed out in our rows; a provider that cannot
        # cancel only costs queue time, so this must not fail the sweep.
        logger.warning("could not cancel provider job %s on %s", job_id, backend, exc_info=True)
