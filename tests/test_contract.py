"""One contract for every core, device preset and read model (as scikit-learn's
``check_estimator`` runs every estimator through the same checks).

Cases: :class:`meliso.core.AnalogCore` for every preset (``meliso.devices.all_presets()``) with
every read model the code registers (:func:`_models`; binary presets store bit-sliced weights
under ``physics``; a model may refuse a device kind only as :data:`REFUSED` says, with a
:class:`meliso.ParameterError`), and :class:`meliso.core.BinaryCore` for every binary preset
with every encoding of Cubero-Cascante et al.'s Table I (``meliso.mapping.encodings``).
Each case is checked for

- shapes: ``matvec`` (n,) -> (m,), (B, n) -> (B, m), a stack (S, m, n) with x (S, n) -> (S, m)
  and (S, B, n) -> (S, B, m); ``BinaryCore.matmul`` (rows,) -> (cols,), (B, rows) -> (B, cols);
- reproducibility: one seed gives the same programmed conductances and the same outputs; another
  seed gives other outputs if and only if the device is noisy (:func:`_noisy`);
- the ideal limit, with the reference each model states (:data:`IDEAL_LIMIT`);
- pickling (Dask ships cores to workers): the copy reads as the original;
- refusal of NaN and infinite inputs with :class:`meliso.ParameterError`;

and every preset round-trips through ``model_dump``. Matrices are small (6 x 10 analog, 20 x 8
binary on 8 x 8 crossbars, i.e. partly filled tiles), so the module runs in seconds.
"""

from __future__ import annotations

import pickle
import typing
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from meliso import ParameterError
from meliso.core import AnalogCore, AnalogCoreConfig, BinaryCore, quantisation_bound
from meliso.devices import all_presets, get_device
from meliso.mapping.encodings import ENCODINGS, get_encoding


def _models() -> tuple[str, ...]:
    """Read models the code offers: the registry ``meliso.core.readmodel.READ_MODELS`` (name ->
    implementation) where it exists, else the ``Literal`` of ``AnalogCoreConfig.model``."""
    try:
        from meliso.core.readmodel import READ_MODELS
    except ImportError:
        return tuple(typing.get_args(AnalogCoreConfig.model_fields["model"].annotation))
    return tuple(READ_MODELS)


PRESETS = all_presets()
MODELS = _models()

#: (model, device kind) pairs a read model refuses, and why. Every other pair must build.
REFUSED = {
    ("neurosim", "binary"): "NeuroSim's read path models multilevel analog cells only",
}

#: The ideal limit each read model promises (see :func:`test_ideal_limit`).
IDEAL_LIMIT = {
    "physics": "within meliso.core.analog.quantisation_bound of A x",
    "neurosim": "deterministic and finite (NeuroSim's quirks keep it away from A x)",
    "binary": "exactly x @ W",
}

M, N, BATCH, STACK = 6, 10, 4, 3  # AnalogCore: A (M, N), x (BATCH, N), stacks of STACK
ROWS, COLS, CROSSBAR = 20, 8, (8, 8)  # BinaryCore: W (ROWS, COLS) on 3 x 2 crossbars
SLICES = 16  # bit slices of binary devices in AnalogCore's ideal limit: 2^16 - 1 levels
IDEAL_BITS = 12  # levels 2^12 of analog devices in the ideal limit


def _noisy(device: Any) -> bool:
    """True if programming or reading ``device`` draws random numbers that change results."""
    return any(getattr(device, f, 0) > 0
               for f in ("sigma_c2c", "sigma_d2d", "sigma_program", "sigma_read"))


def _ideal_device(name: str) -> Any:
    """Preset ``name`` with every noise and non-linearity off that applies to its kind; analog
    devices also get 2^IDEAL_BITS levels, programming from G_min (``g_init_frac=0``) and no
    access transistor, the assumptions of :func:`meliso.core.quantisation_bound`."""
    if PRESETS[name].kind == "binary":
        return get_device(name, sigma_program=0.0, sigma_read=0.0, r_access_ohm=0.0)
    return get_device(name, sigma_c2c=0.0, nl_ltp=0.0, nl_ltd=0.0, sigma_d2d=0.0,
                      sigma_read=0.0, g_init_frac=0.0, r_access_ohm=0.0,
                      weight_bits=IDEAL_BITS)


@dataclass(frozen=True)
class Case:
    """One core on one preset: ``variant`` is the read model (AnalogCore) or the encoding
    (BinaryCore)."""

    core: str
    device: str
    variant: str

    def __str__(self) -> str:
        return f"{self.core}[{self.variant}]-{self.device}"

    @property
    def analog(self) -> bool:
        return self.core == "AnalogCore"

    @property
    def ternary(self) -> bool:
        return not self.analog and get_encoding(self.variant).ternary

    def matrix(self, stack: int | None = None) -> np.ndarray:
        """A in [-1, 1] (every model's weight range), or W in the encoding's alphabet."""
        rng = np.random.default_rng(11)
        if self.analog:
            return rng.uniform(-1, 1, (M, N) if stack is None else (stack, M, N))
        return self._symbols(rng, (ROWS, COLS))

    def inputs(self, *batch: int) -> np.ndarray:
        """x of shape (*batch, n): in [0, 1] for AnalogCore (the range every read model reads;
        neurosim wraps beyond 1), in the encoding's alphabet for BinaryCore."""
        rng = np.random.default_rng(12)
        if self.analog:
            return rng.uniform(0, 1, (*batch, N))
        return self._symbols(rng, (*batch, ROWS))

    def _symbols(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        if self.ternary:
            return rng.integers(-1, 2, shape).astype(np.float64)
        return np.where(rng.random(shape) < 0.5, -1.0, 1.0)

    def build(self, seed: int, *, ideal: bool = False, stack: int | None = None) -> Any:
        """The core, programmed with ``seed``; ``ideal``: the noise-free, fine-grained limit."""
        device = _ideal_device(self.device) if ideal else PRESETS[self.device]
        if self.analog:
            settings: dict[str, Any] = {"model": self.variant}
            if ideal and device.kind == "binary":
                settings["weight_slices"] = SLICES
            return AnalogCore(self.matrix(stack), device, rng=seed, **settings)
        extra = {} if ideal else {"adc_bits": 4, "r_bitline_ohm": 1.0}
        return BinaryCore(self.matrix(), device, self.variant, CROSSBAR,
                          rng=np.random.default_rng(seed), **extra)

    def read(self, core: Any, x: np.ndarray) -> np.ndarray:
        return core.matvec(x) if self.analog else core.matmul(x)


ANALOG_CASES = [Case("AnalogCore", name, model) for name, dev in PRESETS.items()
                for model in MODELS if (model, dev.kind) not in REFUSED]
REFUSED_CASES = [Case("AnalogCore", name, model) for name, dev in PRESETS.items()
                 for model in MODELS if (model, dev.kind) in REFUSED]
BINARY_CASES = [Case("BinaryCore", name, enc) for name, dev in PRESETS.items()
                if dev.kind == "binary" for enc in ENCODINGS]
CASES = ANALOG_CASES + BINARY_CASES
every_case = pytest.mark.parametrize("case", CASES, ids=str)


def test_the_contract_covers_every_preset_model_and_encoding():
    """The case lists are built from the code (presets, models, encodings), not typed in: both
    kinds of preset, both known read models and the four encodings of Cubero-Cascante et al.'s
    Table I."""
    kinds = {dev.kind for dev in PRESETS.values()}
    assert kinds == {"analog", "binary"}
    assert {"physics", "neurosim"} <= set(MODELS)
    assert set(ENCODINGS) == {"B-I", "B-II", "T-I", "T-II"}
    assert {c.device for c in ANALOG_CASES} == set(PRESETS)
    for model, kind in REFUSED:
        assert model in MODELS and kind in kinds, f"stale refusal ({model}, {kind})"
    missing = [m for m in MODELS if m not in IDEAL_LIMIT]
    assert not missing, f"read models without a stated ideal limit in IDEAL_LIMIT: {missing}"


@pytest.mark.parametrize("case", REFUSED_CASES, ids=str)
def test_models_refuse_devices_they_cannot_model(case):
    """A refusal (:data:`REFUSED`) is a ParameterError naming the device, raised on creation."""
    with pytest.raises(ParameterError, match=case.device):
        case.build(0)


@every_case
def test_shapes(case):
    """Outputs keep the inputs' batch axes (the ``matvec``/``matmul`` docstrings)."""
    core = case.build(0)
    if case.analog:
        assert case.read(core, case.inputs()).shape == (M,)
        assert case.read(core, case.inputs(BATCH)).shape == (BATCH, M)
        stacked = case.build(0, stack=STACK)
        assert stacked.matvec(case.inputs(STACK)).shape == (STACK, M)
        assert stacked.matvec(case.inputs(STACK, BATCH)).shape == (STACK, BATCH, M)
    else:
        assert case.read(core, case.inputs()).shape == (COLS,)
        assert case.read(core, case.inputs(BATCH)).shape == (BATCH, COLS)


@every_case
def test_one_seed_one_result(case):
    """Reference: the same core built twice from one seed. Programming (the conductances
    ``g_s``) and reads are identical; without read noise so are two reads of one core."""
    first, second = case.build(7), case.build(7)
    np.testing.assert_array_equal(first.g_s, second.g_s)
    x = case.inputs(BATCH)
    y = case.read(first, x)
    np.testing.assert_array_equal(y, case.read(second, x))
    if getattr(PRESETS[case.device], "sigma_read", 0) == 0:
        np.testing.assert_array_equal(y, case.read(first, x))


@every_case
def test_another_seed_changes_results_only_on_noisy_devices(case):
    """Reference: :func:`_noisy` of the preset. A seed only feeds the device's random
    variation, so without any the result does not depend on it."""
    x = case.inputs(BATCH)
    y1, y2 = case.read(case.build(1), x), case.read(case.build(2), x)
    if _noisy(PRESETS[case.device]):
        assert not np.array_equal(y1, y2), f"{case}: the paper does not reach the noise"
    else:
        np.testing.assert_array_equal(y1, y2)


@every_case
def test_ideal_limit(case):
    """Reference, by model (:data:`IDEAL_LIMIT`), with noise and non-linearity off
    (:func:`_ideal_device`):

    - ``physics``: within :func:`meliso.core.quantisation_bound` of A x, with the device's
      2^12 levels or, for a binary device, 2^16 - 1 levels of 16 one-bit slices (the bound
      assumes programming from G_min without an access transistor, as the ideal device does);
    - ``neurosim``: deterministic (another seed, the same outputs) and finite, but not A x.
      With C-to-C = 0 it equals NeuroSim's output (README, "Two models"), and NeuroSim's
      quirks stay on: every cell starts at G0 = (G_max - G_min) / 2 without + G_min (an
      offset of about -2 / (on/off - 1) per weight: -0.58 for AlOx/HfO2), position-dependent
      wire resistance, per-plane digitisation of separately truncated currents, and MELISO's
      two-point calibration dividing by each row's programmed sum. On this 6 x 10 problem
      the Table I presets miss A x by about |A x| itself (EpiRAM's calibration by 60 |A x|),
      so there is no bound to test;
    - ``BinaryCore`` with an ideal ADC (``adc_bits=None``) and no wire resistance: exactly
      x @ W (the ``meliso.core.binary`` docstring).
    """
    x = case.inputs(BATCH)
    core = case.build(3, ideal=True)
    y = case.read(core, x)
    if not case.analog:
        np.testing.assert_array_equal(y, x @ case.matrix())
        return
    a = case.matrix()
    if case.variant == "physics":
        levels = (1 << SLICES) - 1 if PRESETS[case.device].kind == "binary" else 1 << IDEAL_BITS
        bound = quantisation_bound(a, x, levels=levels)
        err = np.abs(y - x @ a.T)
        slack = 1e-12 * np.abs(a).max() * np.abs(x).max() * N  # float64 round-off
        assert np.all(err <= bound + slack), f"{case}: error {err.max():.3g} > {bound.max():.3g}"
    elif case.variant == "neurosim":
        assert np.all(np.isfinite(y))
        np.testing.assert_array_equal(y, case.read(case.build(4, ideal=True), x))
        np.testing.assert_array_equal(y, case.read(core, x))
    else:
        pytest.fail(f"read model {case.variant!r} states no ideal limit; add it to IDEAL_LIMIT")


@every_case
def test_pickled_core_reads_as_the_original(case):
    """Reference: the original core on the same inputs. Dask pickles cores to send them to
    workers; without read noise a read is a function of the programmed state alone."""
    if getattr(PRESETS[case.device], "sigma_read", 0) > 0:
        pytest.skip("read noise: two reads differ by design")
    core = case.build(5)
    copy = pickle.loads(pickle.dumps(core))
    x = case.inputs(BATCH)
    np.testing.assert_array_equal(case.read(copy, x), case.read(core, x))
    np.testing.assert_array_equal(case.read(copy, x[0]), case.read(core, x[0]))


@every_case
@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_non_finite_inputs_are_refused(case, bad):
    """Reference: :class:`meliso.ParameterError`, the error every core raises for a bad
    parameter or input (a NaN must not travel silently into the outputs)."""
    core = case.build(0)
    x = case.inputs(BATCH)
    x[1, 2] = bad
    try:
        case.read(core, x)
    except ParameterError:
        return
    except Exception as exc:  # the wrong kind of error is a breach of the contract too
        pytest.fail(f"{case}: x with {bad} raised {type(exc).__name__} ({exc}), not "
                    "meliso.ParameterError")
    pytest.fail(f"{case}: x with {bad} was accepted")


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_round_trip_through_their_dump(name):
    """Reference: the preset itself. ``get_device`` accepts a device and rebuilds it from its
    fields (``model_dump``), so a dumped device (a run's config, a Dask task) is the same
    device again, by Python dict, by JSON, by pickle and by its name."""
    dev = get_device(name)
    dump = dev.model_dump()
    again = type(dev)(**dump)
    assert again == dev
    assert get_device(again) == dev
    assert get_device(dump["name"]) == dev
    assert type(dev).model_validate_json(dev.model_dump_json()) == dev
    assert pickle.loads(pickle.dumps(dev)) == dev
    assert dump["kind"] == dev.kind
