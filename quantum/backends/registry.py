"""Backends by name: ``get_backend("aer_noisy:fake_torino")``.

A name is ``kind`` or ``kind:argument``. The registry maps each kind to a
factory taking a ``BackendSpec``; tests swap a factory with
``register_backend`` instead of patching the adapters. Factories import their
adapter lazily, so looking a backend up is the first moment qiskit loads.

Default costs, in credits (1 credit = 1 USD): simulators and IBM's local
testing mode are free; IBM Runtime hardware is charged 1.6 per quantum
second, IBM's pay-as-you-go list price of USD 96 per QPU minute. Deployments
override these with admin-configured specs.
"""

from __future__ import annotations

from collections.abc import Callable

from quantum.backends.base import KINDS, Backend, BackendSpec, CostModel
from quantum.errors import BackendError

BackendFactory = Callable[[BackendSpec], Backend]

DEFAULT_DEVICE = "fake_torino"
DEFAULT_MAX_SHOTS = 100_000
FREE = CostModel()
IBM_PAY_AS_YOU_GO = CostModel(per_second=1.6)
# Statevector memory is 16 * 2^n bytes: 256 MB at 24 qubits.
STATEVECTOR_MAX_QUBITS = 24
# MPS cost grows with entanglement, not width; QAOA at low depth stays cheap.
MPS_MAX_QUBITS = 64
# Noisy simulation of k active qubits is a 4^k density matrix (up to 12) or
# averaged 2^k noisy trajectories (docs/noisy-simulation.md): 16 active qubits
# at 4096 shots take ~30 s here, and each further qubit doubles that.
NOISY_MAX_QUBITS = 20


def _aer_statevector(spec: BackendSpec) -> Backend:
    from quantum.backends.aer import AerStatevectorBackend

    return AerStatevectorBackend(spec)


def _aer_mps(spec: BackendSpec) -> Backend:
    from quantum.backends.aer import AerMpsBackend

    return AerMpsBackend(spec)


def _aer_noisy(spec: BackendSpec) -> Backend:
    from quantum.backends.aer import AerNoisyBackend

    return AerNoisyBackend(spec)


def _ibm_runtime(spec: BackendSpec) -> Backend:
    from quantum.backends.ibm_runtime import IBMRuntimeBackend

    return IBMRuntimeBackend(spec)


_FACTORIES: dict[str, BackendFactory] = {
    "aer_statevector": _aer_statevector,
    "aer_mps": _aer_mps,
    "aer_noisy": _aer_noisy,
    "ibm_runtime": _ibm_runtime,
}


def register_backend(kind: str, factory: BackendFactory) -> BackendFactory | None:
    """Make ``kind`` build its backends with ``factory``; returns the factory it replaced."""
    if kind not in KINDS:
        raise ValueError(f"unknown backend kind {kind!r}; one of: {', '.join(KINDS)}")
    previous = _FACTORIES.get(kind)
    _FACTORIES[kind] = factory
    return previous


def get_backend(name: str, spec: BackendSpec | None = None) -> Backend:
    """The backend called ``name``, built from ``spec`` or, without one, from its default spec."""
    if spec is None:
        spec = default_spec(name)
    elif _kind(name) != spec.kind:
        raise BackendError(
            f"backend name {name!r} does not match its spec's kind {spec.kind!r}", permanent=True
        )
    return _FACTORIES[spec.kind](spec)


def default_spec(name: str) -> BackendSpec:
    """The built-in spec for ``name``; IBM hardware has none, it needs credentials."""
    kind, _, argument = name.partition(":")
    if kind == "aer_statevector" and not argument:
        return BackendSpec(name, kind, STATEVECTOR_MAX_QUBITS, DEFAULT_MAX_SHOTS, FREE)
    if kind == "aer_mps" and not argument:
        return BackendSpec(name, kind, MPS_MAX_QUBITS, DEFAULT_MAX_SHOTS, FREE)
    if kind == "aer_noisy":
        device = argument or DEFAULT_DEVICE
        return BackendSpec(
            f"aer_noisy:{device}", kind, NOISY_MAX_QUBITS, DEFAULT_MAX_SHOTS, FREE, device=device
        )
    if kind == "ibm_runtime" and argument.startswith("fake_"):
        return BackendSpec(
            name,
            kind,
            NOISY_MAX_QUBITS,  # local testing mode simulates the device on this machine
            DEFAULT_MAX_SHOTS,
            FREE,
            channel="local",
            backend_name=argument,
        )
    if kind == "ibm_runtime":
        raise BackendError(
            f"backend {name} needs a BackendSpec with channel, token and backend_name "
            "(IBM Quantum credentials); none was configured",
            permanent=True,
        )
    known = ", ".join(spec.name for spec in default_backend_specs())
    raise BackendError(f"unknown backend {name!r}; known: {known}", permanent=True)


def default_backend_specs() -> tuple[BackendSpec, ...]:
    """The backends that work out of the box, with their default cost models."""
    return (
        default_spec("aer_statevector"),
        default_spec("aer_mps"),
        default_spec(f"aer_noisy:{DEFAULT_DEVICE}"),
        default_spec(f"ibm_runtime:{DEFAULT_DEVICE}"),
    )


def _kind(name: str) -> str:
    return name.partition(":")[0]


# The options each kind reads (BackendSpec.options), and what each accepts.
_OPTIMIZATION_LEVELS = (0, 1, 2, 3)
_OPTIONS: dict[str, tuple[str, ...]] = {
    "aer_statevector": (),
    "aer_mps": (),
    "aer_noisy": ("noise", "optimization_level", "trajectories"),
    "ibm_runtime": ("optimization_level",),
}


def spec_problems(spec: BackendSpec) -> list[tuple[str, str]]:
    """(field, message) for each setting the backend would refuse at its first run.

    An admin's change is checked here when saved, so a typo fails the edit,
    not every run sent there afterwards. Fields are ``device`` or
    ``options.<key>``. Credentials are not checked (only a connection test can).
    """
    from quantum.backends.devices import NOISE_KINDS

    problems: list[tuple[str, str]] = _unread_fields(spec)
    allowed = _OPTIONS.get(spec.kind, ())
    for key in sorted(set(spec.options) - set(allowed)):
        known = ", ".join(allowed) or "none"
        problems.append((f"options.{key}", f"unknown option for {spec.kind}; known: {known}"))
    options = spec.options
    level = options.get("optimization_level", 2)
    if "optimization_level" in allowed and (
        isinstance(level, bool) or level not in _OPTIMIZATION_LEVELS
    ):
        problems.append(("options.optimization_level", "must be 0, 1, 2 or 3"))
    if "noise" in allowed and options.get("noise", "device") not in NOISE_KINDS:
        problems.append(("options.noise", f"must be one of: {', '.join(NOISE_KINDS)}"))
    trajectories = options.get("trajectories")
    if (
        "trajectories" in allowed
        and trajectories is not None
        and (
            isinstance(trajectories, bool) or not isinstance(trajectories, int) or trajectories < 1
        )
    ):
        problems.append(("options.trajectories", "must be a positive integer"))
    if spec.kind == "aer_noisy" and spec.device:
        problems += _device_problems("device", spec.device)
    if spec.is_local_runtime:  # IBM's local testing mode runs a fake device
        field = "backend_name" if spec.backend_name else "device"
        problems += _device_problems(field, spec.backend_name or spec.device or "")
    return problems


# Which kinds read each optional field: a value set on any other kind would be
# ignored without a word (an operator who sets an instance on aer_noisy
# believes it is used).
_READ_BY: dict[str, tuple[str, ...]] = {
    "device": ("aer_noisy", "ibm_runtime"),
    "channel": ("ibm_runtime",),
    "instance": ("ibm_runtime",),
    "backend_name": ("ibm_runtime",),
}


def _unread_fields(spec: BackendSpec) -> list[tuple[str, str]]:
    problems = []
    for field, kinds in _READ_BY.items():
        if getattr(spec, field) and spec.kind not in kinds:
            problems.append(
                (
                    field,
                    f"is not read by {spec.kind} backends (only {' and '.join(kinds)}); "
                    "leave it empty",
                )
            )
    return problems


def _device_problems(field: str, device: str) -> list[tuple[str, str]]:
    from quantum.backends.devices import fake_device

    try:
        fake_device(device)
    except BackendError as exc:
        return [(field, str(exc))]
    return []
