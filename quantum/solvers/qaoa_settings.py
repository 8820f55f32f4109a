"""QAOA options: names, defaults and bounds, checked before any circuit is built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from quantum.solvers._classical import check_option_names, finite, int_option

NAME = "qaoa"
OPTIONS = (
    "reps",
    "optimizer",
    "maxiter",
    "initial",
    "objective",
    "cvar_alpha",
    "optimise_shots",
    "compare_ideal",
    "timeout_seconds",
    "optimum",
)
OPTIMIZERS = ("COBYLA", "Nelder-Mead")
DEFAULT_REPS = 2
MAX_REPS = 20
DEFAULT_MAXITER = 100
MAX_MAXITER = 5000
DEFAULT_CVAR_ALPHA = 0.25
# Shots per optimiser evaluation on sampling backends: enough for a CVaR over
# the best quarter to be stable, few enough that 100 evaluations stay cheap.
DEFAULT_OPTIMISE_SHOTS = 1024

Objective = Literal["expectation", "cvar"]


@dataclass(frozen=True)
class QaoaSettings:
    reps: int
    optimizer: str
    maxiter: int  # objective evaluations; 0 samples the initial angles as they are
    initial: str | tuple[float, ...]  # "ramp", "random", or explicit (gammas..., betas...)
    objective: Objective
    cvar_alpha: float
    optimise_shots: int
    compare_ideal: bool
    timeout_seconds: float | None
    optimum: float | None

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], *, exact_expectation: bool, shots: int
    ) -> QaoaSettings:
        """Validated settings; ``ValueError`` names the offending option."""
        check_option_names(NAME, options, OPTIONS)
        reps = int_option(options, "reps", DEFAULT_REPS, 1, MAX_REPS)
        return cls(
            reps=reps,
            optimizer=_choice(options, "optimizer", "COBYLA", OPTIMIZERS),
            maxiter=int_option(options, "maxiter", DEFAULT_MAXITER, 0, MAX_MAXITER),
            initial=_initial(options.get("initial", "ramp"), reps),
            objective=_objective(options, exact_expectation),
            cvar_alpha=_fraction(options, "cvar_alpha", DEFAULT_CVAR_ALPHA),
            optimise_shots=int_option(
                options, "optimise_shots", min(shots, DEFAULT_OPTIMISE_SHOTS), 1, 1_000_000
            ),
            compare_ideal=_flag(options, "compare_ideal", True),
            timeout_seconds=_optional_positive(options, "timeout_seconds"),
            optimum=_optional_number(options, "optimum"),
        )


def _choice(options: Mapping[str, Any], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = options.get(name, default)
    if value not in allowed:
        raise ValueError(f"option {name} must be one of {', '.join(allowed)}; got {value!r}")
    return str(value)


def _objective(options: Mapping[str, Any], exact_expectation: bool) -> Objective:
    # Exact expectation values where the backend offers them; elsewhere a
    # CVaR over samples, which rewards the good tail that sampling keeps.
    default = "expectation" if exact_expectation else "cvar"
    value = _choice(options, "objective", default, ("expectation", "cvar"))
    if value == "expectation" and not exact_expectation:
        raise ValueError("option objective 'expectation' needs an ideal simulator backend")
    return "expectation" if value == "expectation" else "cvar"


def _initial(value: Any, reps: int) -> str | tuple[float, ...]:
    if value in ("ramp", "random"):
        return str(value)
    if isinstance(value, list | tuple) and len(value) == 2 * reps:
        numbers = tuple(_finite(v, "initial") for v in value)
        return numbers
    raise ValueError(
        f"option initial must be 'ramp', 'random' or {2 * reps} angles "
        f"(gammas then betas); got {value!r}"
    )


def _fraction(options: Mapping[str, Any], name: str, default: float) -> float:
    value = _finite(options.get(name, default), name)
    if not 0 < value <= 1:
        raise ValueError(f"option {name} must be in (0, 1]; got {value}")
    return value


def _flag(options: Mapping[str, Any], name: str, default: bool) -> bool:
    value = options.get(name, default)
    if not isinstance(value, bool):
        raise ValueError(f"option {name} must be true or false; got {value!r}")
    return value


def _optional_positive(options: Mapping[str, Any], name: str) -> float | None:
    value = _optional_number(options, name)
    if value is not None and value <= 0:
        raise ValueError(f"option {name} must be > 0; got {value}")
    return value


def _optional_number(options: Mapping[str, Any], name: str) -> float | None:
    value = options.get(name)
    return None if value is None else _finite(value, name)


def _finite(value: Any, name: str) -> float:
    # bool is an int subclass; true is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float) or not finite(value):
        raise ValueError(f"option {name} must be a finite number; got {value!r}")
    return float(value)
