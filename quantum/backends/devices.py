"""Device snapshots (qiskit-ibm-runtime's fake backends) and the noise models built from them.

Both are cached per process with ``functools.lru_cache``: a fake backend
parses its JSON snapshot on first use, and a full-device noise model for a
133-qubit chip takes 4-6 s to build, while a Celery worker solves many runs
against the same few devices. The cached objects are treated as read-only.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from quantum.errors import BackendError

if TYPE_CHECKING:
    from qiskit.transpiler import Target

NOISE_KINDS = ("device", "depolarizing")
# Density-matrix memory is 16 * 4^k bytes: 256 MB at 12 qubits, 1 GB at 13.
MAX_DENSITY_MATRIX_QUBITS = 12
# Measured on this code base: one trajectory costs about 4x one density-matrix
# "row" (2^k amplitudes), so trajectories win only when shots < 2^k / 4.
TRAJECTORY_COST_FACTOR = 4


@lru_cache(maxsize=8)
def fake_device(name: str) -> Any:
    """The fake backend called ``name`` (e.g. ``"fake_torino"``), from the fake provider."""
    from qiskit.providers.exceptions import QiskitBackendNotFoundError
    from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

    with warnings.catch_warnings():
        # Some snapshots warn on construction that they are not representative.
        warnings.simplefilter("ignore", UserWarning)
        provider = FakeProviderForBackendV2()
    try:
        return provider.backend(name)
    except QiskitBackendNotFoundError:
        known = ", ".join(sorted(b.name for b in provider.backends())[:8])
        raise BackendError(
            f"unknown fake device {name!r}; device names look like: {known}, ...",
            permanent=True,
        ) from None


@lru_cache(maxsize=64)
def restricted_noise_model(device: str, physical: tuple[int, ...], noise: str = "device") -> Any:
    """A noise model for just the ``physical`` qubits of ``device``, renumbered 0..k-1.

    Pairs with ``aer.compact``: the simulator then carries k qubits instead of
    the whole chip. Built from the device target restricted to those qubits,
    so it costs milliseconds rather than the seconds a full-device model
    takes. ``noise="depolarizing"`` drops thermal relaxation, leaving Pauli
    (unitary-mixture) errors with the same gate fidelities, which simulate
    about twice as fast. Relaxation during idle delays is not modelled: our
    circuits are not scheduled, so they contain no delays.
    """
    from qiskit_aer.noise import NoiseModel
    from qiskit_aer.noise.device import basic_device_gate_errors, basic_device_readout_errors

    if noise not in NOISE_KINDS:
        raise BackendError(
            f"unknown noise kind {noise!r}; one of: {', '.join(NOISE_KINDS)}", permanent=True
        )
    target = restricted_target(fake_device(device).target, physical)
    model = NoiseModel(basis_gates=list(target.operation_names))
    for qubits, error in basic_device_readout_errors(target=target):
        model.add_readout_error(error, qubits)
    gate_errors = basic_device_gate_errors(target=target, thermal_relaxation=noise == "device")
    for name, qubits, error in gate_errors:
        model.add_quantum_error(error, name, qubits)
    return model


def restricted_target(target: Target, physical: tuple[int, ...]) -> Target:
    """The part of ``target`` on ``physical`` qubits, with qubit p renumbered to its index."""
    from qiskit.transpiler import Target

    index = {p: i for i, p in enumerate(physical)}
    qubit_properties = target.qubit_properties
    sub = Target(
        num_qubits=len(physical),
        dt=target.dt,
        qubit_properties=[qubit_properties[p] for p in physical] if qubit_properties else None,
    )
    for name in target.operation_names:
        properties = target[name]
        # Control flow and other global operations carry no per-qubit errors.
        if properties is None or None in properties:
            continue
        mapped = {
            tuple(index[q] for q in qargs): props
            for qargs, props in properties.items()
            if all(q in index for q in qargs)
        }
        if mapped:
            sub.add_instruction(target.operation_from_name(name), mapped, name=name)
    return sub


def simulation_method(active_qubits: int, shots: int) -> str:
    """Density matrix when it is small and cheaper than one noisy trajectory per shot.

    Aer's "automatic" choice picks trajectories for 12 qubits at 4096 shots,
    which measured 4.4x slower (57 s) than the density matrix (13 s).
    """
    if active_qubits <= MAX_DENSITY_MATRIX_QUBITS and (
        2**active_qubits <= TRAJECTORY_COST_FACTOR * shots
    ):
        return "density_matrix"
    return "statevector"
