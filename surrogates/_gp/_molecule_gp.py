"""``MoleculeGP``: an exact Gaussian process on molecules (Tanimoto fingerprint + descriptor RBF).

The low-data molecule model for campaigns that start from a few hundred labels (MolPAL-style
docking screens). Its kernel adds two views of a molecule::

    k(a, b) = c_fp · T(f_a, f_b) + c_d · exp(−|d_a − d_b|² / 2ℓ²) + σ²_n δ_ab

- ``T`` the Tanimoto similarity of binary Morgan fingerprints (``n_bits``, ``radius``):
  substructure overlap, a valid kernel on bit vectors;
- ``d`` the RDKit 2D descriptors (:mod:`surrogates._gp._descriptors`), signed-log transformed
  and z-scored with the training statistics (clipped at ±``clip`` σ): size, polarity, shape;
- optionally (``extra_inputs``) a third block ``c_x · exp(−Σ_j (x_aj − x_bj)² / 2ℓ_j²)``, an ARD
  RBF on per-molecule values another judge computed (a cheap judge's gap, HOMO, LUMO, dipole
  from 3D structures), z-scored: how a multi-fidelity campaign feeds the cheap value in.

``c_fp, c_d, ℓ, σ²_n`` maximise the log marginal likelihood (scikit-learn's
``GaussianProcessRegressor``, L-BFGS with restarts; targets normalised). ``predict`` returns
the posterior mean and the latent standard deviation, so UCB/EI/Thompson work with ``ensemble
= 1``. Cost: training O(m³) for m labels (m = 1000: ~0.1 s per likelihood evaluation); a pool
of n candidates costs an (n, m) kernel, computed in chunks.

Large pools: the descriptors cost ~11 ms per molecule once (cached per process, up to
:data:`~surrogates._gp._descriptors.CACHE_SIZE` molecules). For pools of 10⁵-10⁶ enable
``[compression]``: the GP then labels a sample to distil a fingerprint screener, and only the
screener's shortlist is featurised and re-ranked by the GP.

Saved files hold the hyper-parameters, training features and labels; loading refits the GP
with those hyper-parameters (no optimisation) and executes no code from the file.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from ase import Atoms
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Kernel, WhiteKernel

from .._base import Compression, Surrogate, register_surrogate
from .._mlp._fingerprint import as_smiles, morgan_counts
from .._prediction import Prediction
from ._descriptors import descriptor_matrix, descriptor_names, signed_log

__all__ = ["MoleculeGP", "TanimotoKernel"]

#: candidates whose kernel rows are built at once in ``predict``
PREDICT_CHUNK = 4096


class TanimotoKernel(Kernel):
    """Tanimoto similarity of the binary vectors in the first ``n_bits`` columns of X.

    ``T(a, b) = a·b / (|a| + |b| − a·b)``; 1 for two empty vectors. No hyper-parameters.
    """

    def __init__(self, n_bits: int = 2048) -> None:
        self.n_bits = n_bits

    def __call__(self, X: np.ndarray, Y: np.ndarray | None = None,
                 eval_gradient: bool = False) -> Any:
        A = np.asarray(X)[:, : self.n_bits]
        B = A if Y is None else np.asarray(Y)[:, : self.n_bits]
        ab = A @ B.T
        union = A.sum(axis=1)[:, None] + B.sum(axis=1)[None, :] - ab
        K = np.where(union > 0, ab / np.where(union > 0, union, 1.0), 1.0)
        if eval_gradient:
            if Y is not None:
                raise ValueError("gradient can only be evaluated when Y is None")
            return K, np.empty((len(A), len(A), 0))
        return K

    def diag(self, X: np.ndarray) -> np.ndarray:
        return np.ones(len(X))

    def is_stationary(self) -> bool:
        return False


class TailRBF(RBF):
    """scikit-learn's ``RBF`` on the columns ``start:stop`` (``stop=None``: to the end);
    isotropic for a scalar ``length_scale``, ARD for one length per column."""

    def __init__(self, start: int = 0, length_scale: Any = 1.0,
                 length_scale_bounds: Any = (1e-1, 1e3), stop: int | None = None) -> None:
        super().__init__(length_scale=length_scale, length_scale_bounds=length_scale_bounds)
        self.start = start
        self.stop = stop

    def __call__(self, X: np.ndarray, Y: np.ndarray | None = None,
                 eval_gradient: bool = False) -> Any:
        cols = slice(self.start, self.stop)
        tail = None if Y is None else np.asarray(Y)[:, cols]
        return super().__call__(np.asarray(X)[:, cols], tail, eval_gradient)


def _moments(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and scales of ``F`` (n, d) ignoring NaN; a constant column gets scale 1."""
    if not F.size:
        return np.zeros(F.shape[1]), np.ones(F.shape[1])
    mean, scale = np.nanmean(F, axis=0), np.nanstd(F, axis=0)
    return np.nan_to_num(mean), np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)


@register_surrogate("gp")
class MoleculeGP(Surrogate):
    """Exact GP regressor on SMILES with a Tanimoto + descriptor-RBF kernel.

    Args:
        radius, n_bits: Morgan fingerprint (binary) settings.
        descriptors: RDKit descriptor names, ``None`` for all of this RDKit's, ``[]`` for a
            fingerprint-only kernel.
        clip: z-scored descriptors are clipped to ±``clip`` (pool outliers).
        noise: initial noise variance (normalised targets); bounds ``(1e-6, 1)``.
        n_restarts: extra random starts of the likelihood optimisation.
        extra_inputs: names of per-molecule values to read from each candidate's
            ``ase.Atoms.info`` (then candidates must be Atoms carrying ``info["smiles"]`` and
            those values; a vector such as the dipole enters as its norm): an ARD RBF block on
            them (see the module docstring). Empty: SMILES alone.
        random_state: seeds the restarts.
    """

    input_kind = "smiles"
    native_std = True
    compression = Compression(default_student="fingerprint")

    def __init__(self, radius: int = 2, n_bits: int = 2048,
                 descriptors: Sequence[str] | None = None, clip: float = 10.0,
                 noise: float = 0.1, n_restarts: int = 2, extra_inputs: Sequence[str] = (),
                 random_state: int = 0) -> None:
        self.radius = radius
        self.n_bits = n_bits
        self.descriptors = descriptors
        self.clip = clip
        self.noise = noise
        self.n_restarts = n_restarts
        self.extra_inputs = extra_inputs
        self.random_state = random_state

    # --- features --------------------------------------------------------------------------
    def _raw(self, smiles: list[str], names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Binary fingerprints ``(n, n_bits)`` and signed-log descriptors ``(n, len(names))``."""
        bits = (morgan_counts(smiles, self.radius, self.n_bits) > 0).astype(np.float64)
        desc = descriptor_matrix(smiles, names) if names else np.zeros((len(smiles), 0))
        return bits, signed_log(desc)

    def _features(self, X: Any) -> np.ndarray:
        return self._standardised(*self._raw(as_smiles(X), self.names_), self._extra(X))

    def _extra(self, X: Any) -> np.ndarray:
        """``(n, len(extra_inputs))`` values from the candidates' ``info`` (vectors: norm)."""
        names = list(self.extra_inputs)
        if not names:
            return np.zeros((len(X), 0))
        out = np.zeros((len(X), len(names)))
        for i, item in enumerate(X):
            if not isinstance(item, Atoms):
                raise ValueError(f"candidate {i}: extra_inputs {names} are read from ase.Atoms "
                                 f"info, got a {type(item).__name__}")
            for j, name in enumerate(names):
                if name not in item.info:
                    raise ValueError(f"candidate {i} ({item.info.get('smiles', '?')}) has no "
                                     f"info[{name!r}] (extra_inputs {names})")
                value = np.asarray(item.info[name], dtype=float)
                out[i, j] = float(value) if value.ndim == 0 else float(np.linalg.norm(value))
        return out

    def _standardised(self, bits: np.ndarray, desc: np.ndarray,
                      extra: np.ndarray) -> np.ndarray:
        """The GP's input rows: bits, then descriptors and extra inputs z-scored with the
        training statistics."""
        z = (desc - self.d_mean_) / self.d_scale_
        z = np.clip(np.nan_to_num(z, nan=0.0), -self.clip, self.clip)  # missing → the mean
        x = np.clip((extra - self.e_mean_) / self.e_scale_, -self.clip, self.clip)
        # float32 precision, so saved features (float32) reproduce predictions exactly
        return np.hstack([bits, z, x]).astype(np.float32).astype(np.float64)

    def _kernel(self, n_desc: int, n_extra: int = 0) -> Kernel:
        k = ConstantKernel(1.0, (1e-3, 1e3)) * TanimotoKernel(int(self.n_bits))
        start = int(self.n_bits)
        if n_desc:
            k = k + ConstantKernel(1.0, (1e-3, 1e3)) * TailRBF(
                start, length_scale=float(np.sqrt(n_desc)), length_scale_bounds=(1e-1, 1e3),
                stop=start + n_desc)
        if n_extra:
            k = k + ConstantKernel(1.0, (1e-3, 1e3)) * TailRBF(
                start + n_desc, length_scale=np.ones(n_extra), length_scale_bounds=(1e-2, 1e3))
        return k + WhiteKernel(float(self.noise), (1e-6, 1.0))

    # --- fit / predict ---------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, **kwargs: Any) -> MoleculeGP:
        """Fit on SMILES ``X`` (n,) and values ``y`` (n,); hyper-parameters by max. likelihood."""
        if kwargs:
            raise TypeError(f"MoleculeGP.fit got unexpected arguments {sorted(kwargs)}")
        y = np.asarray(y, dtype=float).reshape(-1)
        smiles = as_smiles(X)
        if len(smiles) != y.size or y.size < 2:
            raise ValueError(f"fit needs >= 2 molecules and one value each; got {len(smiles)} "
                             f"molecules and {y.size} values")
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise ValueError(f"label of molecule {int(bad[0])} ({smiles[bad[0]]!r}) is not finite")
        self.names_ = descriptor_names(None if self.descriptors is None else
                                       list(self.descriptors))
        bits, desc = self._raw(smiles, self.names_)
        extra = self._extra(X)
        self.d_mean_, self.d_scale_ = _moments(desc)
        self.e_mean_, self.e_scale_ = _moments(extra)
        self._fit_gp(self._standardised(bits, desc, extra), y,
                     self._kernel(len(self.names_), extra.shape[1]), optimize=True)
        return self

    def _fit_gp(self, F: np.ndarray, y: np.ndarray, kernel: Kernel, optimize: bool) -> None:
        gp = GaussianProcessRegressor(
            kernel, normalize_y=True, optimizer="fmin_l_bfgs_b" if optimize else None,
            n_restarts_optimizer=int(self.n_restarts) if optimize else 0,
            random_state=int(self.random_state))
        with warnings.catch_warnings():  # a hyper-parameter at its bound is fine here
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp_ = gp.fit(F, y)  # keeps F as gp_.X_train_ (saved with the model)
        self.y_train_ = y

    def predict(self, X: Any) -> Prediction:
        """Posterior mean and latent std (the white noise excluded), shapes ``(n,)``."""
        self._require_fitted("gp_")
        items = list(X) if not isinstance(X, (str, bytes)) else X
        as_smiles(items)  # every candidate is a SMILES or carries one, else a clear error
        means, stds = [], []
        noise = self._noise_level()
        for s in range(0, len(items), PREDICT_CHUNK):
            F = self._features(items[s:s + PREDICT_CHUNK])
            m, sd = self.gp_.predict(F, return_std=True)
            means.append(m)
            # scikit-learn's std includes the white-noise term; remove it (latent f)
            stds.append(np.sqrt(np.maximum(sd**2 - noise, 0.0)))
        if not means:
            return Prediction(np.zeros(0), np.zeros(0))
        return Prediction(np.concatenate(means), np.concatenate(stds))

    def _noise_level(self) -> float:
        """The fitted white-noise variance in the units of y (0 if the kernel has none)."""
        params = self.gp_.kernel_.get_params()
        level = [v for k, v in params.items() if k.endswith("noise_level")]
        scale = float(np.atleast_1d(self.gp_._y_train_std)[0])
        return float(level[0]) * scale**2 if level else 0.0

    @property
    def kernel_(self) -> Kernel:
        """The fitted kernel (hyper-parameters as scikit-learn prints them)."""
        return self.gp_.kernel_

    # --- persistence -----------------------------------------------------------------------
    def _to_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        self._require_fitted("gp_")
        params = {**self.get_params(deep=False),
                  "descriptors": None if self.descriptors is None else list(self.descriptors),
                  "extra_inputs": list(self.extra_inputs)}
        meta = {"params": params, "names": list(self.names_),
                "theta": [float(t) for t in self.gp_.kernel_.theta]}
        tensors = {name: torch.from_numpy(np.ascontiguousarray(getattr(self, name)))
                   for name in ("y_train_", "d_mean_", "d_scale_", "e_mean_", "e_scale_")}
        tensors["X_train_"] = torch.from_numpy(self.gp_.X_train_.astype(np.float32))
        return meta, tensors

    @classmethod
    def _from_state(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> MoleculeGP:
        params = dict(meta["params"])
        params["extra_inputs"] = tuple(params.get("extra_inputs", ()))
        obj = cls(**params)
        obj.names_ = descriptor_names(meta["names"])
        for name in ("d_mean_", "d_scale_", "e_mean_", "e_scale_"):
            setattr(obj, name, tensors[name].double().numpy() if name in tensors
                    else np.zeros(0))  # e_*: files written before extra inputs existed
        kernel = obj._kernel(len(obj.names_), len(obj.extra_inputs)).clone_with_theta(
            np.asarray(meta["theta"]))
        obj._fit_gp(tensors["X_train_"].double().numpy(), tensors["y_train_"].double().numpy(),
                    kernel, optimize=False)
        return obj
