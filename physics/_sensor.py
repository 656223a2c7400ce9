"""``AllostericSensor``: dose-response curves of LacI-like sensor variants from the MWC model.

A variant (a sequence, or mutations relative to ``sensor.wild_type``) is mapped to MWC
parameters (Ka, Ki, ε_AI, ε_RA) by a seeded additive + epistatic landscape
(:mod:`physics._landscape`), and those give the fold-change in expression on the dose grid
through the MWC induction model (:mod:`physics._mwc`, Razo-Mejia et al. 2018). The wild type
has the published LacI parameters (Ka = 139 µM, Ki = 0.53 µM, ε_AI = 4.5 kBT) on the chosen
operator (O2: ε_RA = −13.9 kBT) with 260 repressor dimers per cell.

Modes:

* ``"deterministic"``: the mean-field curve and its closed-form properties; microseconds per
  variant.
* ``"stochastic"``: ``n_cells`` cells per variant with log-normal repressor copy numbers and
  measurement noise (:mod:`physics._cells`); returns the population mean and spread. This is
  the expensive, high-fidelity judge, batched on the GPU when there is one.

Targets: ``response`` ((n_doses,) fold-change at ``sensor.doses``, µM), ``ec50`` (µM),
``dynamic_range`` (saturation − leakiness, as Razo-Mejia 2018 define it), ``leakiness``
(F(0)), ``saturation`` (F(∞)), ``hill_n`` (effective Hill coefficient) and, in stochastic mode,
``response_std`` ((n_doses,) cell-to-cell standard deviation).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from ._base import (
    CandidateError,
    SimulationError,
    SimulationResult,
    Simulator,
    _check_batch,
    register_simulator,
)
from ._cells import draw_noise, population, variant_seed
from ._device import resolve_device
from ._landscape import Landscape
from ._mwc import (
    OPERATOR_ENERGIES,
    mwc_ec50,
    mwc_effective_hill,
    mwc_fold_change,
    mwc_leakiness,
    mwc_saturation,
)
from ._variants import VariantCodec

__all__ = ["AllostericSensor"]

DEFAULT_ALPHABET = "ACDEFGHIKLMNPQRSTVWY"
DETERMINISTIC_TARGETS = ("response", "ec50", "dynamic_range", "leakiness", "saturation", "hill_n")
#: stochastic mode evaluates variants in chunks of at most this many cell·dose values
_CHUNK_VALUES = 4_000_000


class _ConfigError(SimulationError, ValueError):
    """A bad constructor argument: a mis-configured simulator that is also a user input error."""


@register_simulator("sensor")
class AllostericSensor(Simulator):
    """MWC allosteric sensor variants → dose-response curves (see the module docstring).

    Args:
        n_sites: number of mutable sites of a variant.
        alphabet: letters a site may hold.
        seed: seeds the landscape (wild type, mutational effects) and the cells.
        epistasis: pairwise effect size relative to the additive one (0 = additive).
        doses: dose grid in µM (default ``np.logspace(-2, 4, 12)``), finite and ≥ 0.
        operator: ``"O1"``, ``"O2"``, ``"O3"``, ``"Oid"`` or ε_RA itself in kBT.
        repressors: mean repressor dimers per cell (≥ 0).
        Ka, Ki: wild-type inducer dissociation constants (µM).
        ep_ai: wild-type ε_AI (kBT).
        mode: ``"deterministic"`` or ``"stochastic"``.
        n_cells: cells per variant in stochastic mode.
        repressor_noise: σ of ln(repressor copy number) across cells.
        measurement_noise: σ of the log-normal measurement noise per cell and dose.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or a ``torch.device``.
    """

    targets = DETERMINISTIC_TARGETS
    input_kind: ClassVar[str] = "sequence"

    @classmethod
    def targets_for(cls, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The deterministic targets, plus ``response_std`` in stochastic mode."""
        stochastic = options.get("mode", "deterministic") == "stochastic"
        return DETERMINISTIC_TARGETS + (("response_std",) if stochastic else ())

    def __init__(self, n_sites: int = 5, alphabet: str = DEFAULT_ALPHABET, seed: int = 0,
                 epistasis: float = 0.3, doses: Sequence[float] | np.ndarray | None = None,
                 operator: str | float = "O2", repressors: float = 260.0, Ka: float = 139.0,
                 Ki: float = 0.53, ep_ai: float = 4.5, mode: str = "deterministic",
                 n_cells: int = 1000, repressor_noise: float = 0.3,
                 measurement_noise: float = 0.1, device: str | torch.device | None = "auto"):
        self.n_sites, self.alphabet, self.seed, self.epistasis = n_sites, alphabet, seed, epistasis
        self.operator, self.repressors, self.Ka, self.Ki, self.ep_ai = (
            operator, repressors, Ka, Ki, ep_ai)
        self.mode, self.n_cells = mode, n_cells
        self.repressor_noise, self.measurement_noise = repressor_noise, measurement_noise
        try:
            self.device = resolve_device(device)
            self.doses = _check_doses(doses)
            self.ep_ra = _operator_energy(operator)
            _check_config(mode, n_cells, repressors, Ka, Ki, ep_ai, repressor_noise,
                          measurement_noise)
            self._landscape = Landscape(int(n_sites), len(alphabet), seed, float(epistasis))
            self._codec = VariantCodec(alphabet, self._landscape.wild_type)
        except ValueError as exc:
            raise _ConfigError(f"AllostericSensor: {exc}") from None
        self.targets = self.targets_for({"mode": mode})
        self._wt = torch.tensor([math.log(Ka), math.log(Ki), ep_ai, self.ep_ra],
                                dtype=torch.float64)

    # ------------------------------------------------------------------ variants and truth
    @property
    def wild_type(self) -> str:
        """The seeded reference sequence (mutations like ``"A2V"`` are relative to it)."""
        return self._codec.wild_type_str

    def sequence(self, variant: Any) -> str:
        """Full sequence of a variant (raises CandidateError naming it if it is malformed)."""
        try:
            return self._codec.sequence(variant)
        except CandidateError as exc:
            raise CandidateError(f"variant {variant!r}: {exc}") from None

    def random_variants(self, count: int, n_mutations: int = 1, seed: int = 0) -> list[str]:
        """``count`` random sequences with ``n_mutations`` substitutions from the wild type."""
        return self._codec.random_variants(count, n_mutations, seed)

    def parameters(self, variants: Sequence[Any]) -> dict[str, np.ndarray]:
        """True MWC parameters of each variant: ``Ka``, ``Ki`` (µM), ``ep_ai``, ``ep_ra`` (kBT),
        each (B,) — the hidden truth, for tests and benchmarks.

        Raises:
            ValueError: naming the index of a malformed variant.
        """
        variants = _check_batch(variants)
        idx = []
        for i, v in enumerate(variants):
            try:
                idx.append(self._codec.encode(v))
            except ValueError as exc:
                raise ValueError(f"variant at index {i} ({v!r}): {exc}") from None
        p = self._params(torch.as_tensor(np.stack(idx), device=self.device)).cpu().numpy()
        return {"Ka": p[:, 0], "Ki": p[:, 1], "ep_ai": p[:, 2], "ep_ra": p[:, 3]}

    def _params(self, idx: torch.Tensor) -> torch.Tensor:
        """(B, L) indices → (B, 4) columns Ka, Ki (µM), ε_AI, ε_RA (kBT)."""
        theta = self._wt.to(idx.device) + self._landscape.shifts(idx)  # [B, 4] ln Ka, ln Ki, ...
        return torch.cat([theta[:, :2].exp(), theta[:, 2:]], dim=1)

    # ------------------------------------------------------------------ the simulator
    def evaluate_one(self, candidate: Any) -> dict[str, Any]:
        """One variant; prefer :meth:`evaluate`, which batches."""
        result = self.evaluate([candidate])[0]
        if not result.ok:
            raise CandidateError(result.error)
        return dict(result.values)

    def evaluate(self, candidates: Sequence[Any]) -> list[SimulationResult]:
        """Batched: parse every variant, simulate the valid ones together on ``self.device``.

        A malformed variant gets a failed result naming it; the others are unaffected.
        """
        candidates = _check_batch(candidates)
        t0 = time.perf_counter()
        errors: dict[int, str] = {}
        good: list[int] = []
        idx: list[np.ndarray] = []
        for i, cand in enumerate(candidates):
            try:
                idx.append(self._codec.encode(cand))
                good.append(i)
            except ValueError as exc:  # CandidateError is a ValueError
                errors[i] = f"variant {cand!r}: {exc}"
        values: list[dict[str, Any]] = []
        if good:
            index = torch.as_tensor(np.stack(idx), device=self.device)
            params = self._params(index)
            if self.mode == "stochastic":
                values = self._stochastic(index, params)
            else:
                values = self._deterministic(params)
        per = (time.perf_counter() - t0) / max(len(good), 1)
        results: list[SimulationResult] = []
        it = iter(values)
        for i in range(len(candidates)):
            if i in errors:
                results.append(SimulationResult.failure(errors[i], 0.0))
            else:
                results.append(SimulationResult.success(next(it), per))
        return results

    def _deterministic(self, params: torch.Tensor) -> list[dict[str, Any]]:
        args = (params[:, 0], params[:, 1], params[:, 2], params[:, 3], self.repressors)
        doses = torch.as_tensor(self.doses, dtype=params.dtype, device=params.device)
        response = mwc_fold_change(doses, *(a[:, None] for a in args[:4]), self.repressors)
        leak, sat = mwc_leakiness(*args), mwc_saturation(*args)
        out = {"response": response, "ec50": mwc_ec50(*args), "dynamic_range": sat - leak,
               "leakiness": leak, "saturation": sat, "hill_n": mwc_effective_hill(*args)}
        return _rows(out)

    def _stochastic(self, index: torch.Tensor, params: torch.Tensor) -> list[dict[str, Any]]:
        seqs = ["".join(self.alphabet[i] for i in row) for row in index.cpu().tolist()]
        doses = torch.as_tensor(self.doses, dtype=params.dtype, device=params.device)
        chunk = max(1, _CHUNK_VALUES // (self.n_cells * max(len(self.doses), 1)))
        rows: list[dict[str, Any]] = []
        for start in range(0, len(seqs), chunk):
            part = slice(start, start + chunk)
            z, u = draw_noise([variant_seed(self.seed, s) for s in seqs[part]], self.n_cells,
                              len(self.doses), params.device, params.dtype)
            rows += _rows(population(doses, params[part], self.repressors, z, u,
                                     self.repressor_noise, self.measurement_noise))
        return rows

    def __repr__(self) -> str:
        return (f"AllostericSensor(n_sites={self.n_sites}, seed={self.seed}, "
                f"operator={self.operator!r}, repressors={self.repressors}, mode={self.mode!r}, "
                f"device={str(self.device)!r})")


def _rows(out: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
    """Batch tensors → one dict per variant (arrays for curves, floats for scalars)."""
    host = {k: v.detach().cpu().numpy() for k, v in out.items()}
    n = next(iter(host.values())).shape[0]
    return [{k: (v[b].copy() if v.ndim > 1 else float(v[b])) for k, v in host.items()}
            for b in range(n)]


def _check_doses(doses: Any) -> np.ndarray:
    grid = np.logspace(-2, 4, 12) if doses is None else np.asarray(doses, dtype=float)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(f"doses must be a non-empty 1-D grid in µM, got shape {grid.shape}")
    for i, d in enumerate(grid):
        if not math.isfinite(d) or d < 0:
            raise ValueError(f"dose at index {i} is {d}: doses must be finite and ≥ 0 µM")
    return grid


def _operator_energy(operator: str | float) -> float:
    if isinstance(operator, str):
        if operator not in OPERATOR_ENERGIES:
            raise ValueError(f"unknown operator {operator!r}; choose one of "
                             f"{sorted(OPERATOR_ENERGIES)} or give ε_RA in kBT")
        return OPERATOR_ENERGIES[operator]
    energy = float(operator)
    if not math.isfinite(energy):
        raise ValueError(f"operator energy must be finite, got {operator}")
    return energy


def _check_config(mode: str, n_cells: int, repressors: float, Ka: float, Ki: float,
                  ep_ai: float, repressor_noise: float, measurement_noise: float) -> None:
    if mode not in ("deterministic", "stochastic"):
        raise ValueError(f"mode must be 'deterministic' or 'stochastic', got {mode!r}")
    if int(n_cells) != n_cells or n_cells < 2:
        raise ValueError(f"n_cells must be an integer ≥ 2, got {n_cells}")
    if not math.isfinite(ep_ai):
        raise ValueError(f"ep_ai must be finite, got {ep_ai}")
    for name, value, positive in (("repressors", repressors, False), ("Ka", Ka, True),
                                  ("Ki", Ki, True), ("repressor_noise", repressor_noise, False),
                                  ("measurement_noise", measurement_noise, False)):
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            raise ValueError(f"{name} must be finite and {'> 0' if positive else '≥ 0'}, "
                             f"got {value}")
