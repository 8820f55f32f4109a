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

import numpy as np

from quantum.errors import BackendError
from quantum.model import FloatArray

if TYPE_CHECKING:
    from qiskit.transpiler import Target

NOISE_KINDS = ("device", "depolarizing")
# Density-matrix memory is 16 * 4^k bytes: 256 MB at 12 qubits, 1 GB at 13.
MAX_DENSITY_MATRIX_QUBITS = 12
# Measured on this code base: one trajectory costs about 4x one density-matrix
# "row" (2^k amplitudes), so trajectories win only when there are fewer than 2^k / 4.
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
    target = _device_target(device, physical)
    model = NoiseModel(basis_gates=list(target.operation_names))
    for qubits, error in basic_device_readout_errors(target=target):
        model.add_readout_error(error, qubits)
    gate_errors = basic_device_gate_errors(target=target, thermal_relaxation=noise == "device")
    for name, qubits, error in gate_errors:
        model.add_quantum_error(error, name, qubits)
    return model


@lru_cache(maxsize=64)
def readout_matrices(device: str, physical: tuple[int, ...]) -> FloatArray:
    """Per-qubit readout confusion matrices, shape (k, 2, 2): ``[q, prepared, measured]``.

    The same errors ``restricted_noise_model`` attaches to measurements, read
    from the same restricted target, for applying readout to exact
    probabilities instead of to sampled bits. A qubit with no calibrated
    readout error gets the identity. Read-only: the array is cached.
    """
    from qiskit_aer.noise.device import basic_device_readout_errors

    matrices = np.tile(np.eye(2), (len(physical), 1, 1))
    for (qubit,), error in basic_device_readout_errors(target=_device_target(device, physical)):
        matrices[qubit] = np.asarray(error.probabilities, dtype=np.float64)
    matrices.flags.writeable = False
    return matrices


@lru_cache(maxsize=64)
def _device_target(device: str, physical: tuple[int, ...]) -> Target:
    return restricted_target(fake_device(device).target, physical)


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


def simulation_method(active_qubits: int, trajectories: int) -> str:
    """Density matrix when it is small and cheaper than ``trajectories`` noisy statevectors.

    Measured on the 12-qubit QAOA circuit of bench/solvers.py section E
    (fake_torino, 2 shared cores): the density matrix took 20 s (13-14 s in
    quieter runs), 512 trajectories 9.3 s. So the density matrix costs about
    1100 trajectories, 2^12 / 3.7: the factor of 4 above. Aer's "automatic"
    choice ignores this and picked one trajectory per shot at 4096 shots,
    4.4x slower (57 s) than the density matrix (13 s).
    """
    if active_qubits <= MAX_DENSITY_MATRIX_QUBITS and (
        2**active_qubits <= TRAJECTORY_COST_FACTOR * trajectories
    ):
        return "density_matrix"
    return "statevector"
