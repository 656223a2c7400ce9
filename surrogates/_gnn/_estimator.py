"""``EquivariantGNN``: the scikit-learn-style surrogate around :class:`GNNModule`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from ase import Atoms

from physics._device import resolve_device

from .._base import DEPRECATED, Compression, Surrogate, register_surrogate
from .._io import prefixed
from .._prediction import Prediction
from ._data import VECTOR_TARGETS, read_labels
from ._graph import GraphData, batch_graphs, check_structures, to_graph_data
from ._layers import hidden_irreps
from ._model import GNNConfig, GNNModule, energy_and_forces, fit_reference
from ._train import TrainSettings, plot_history, train

__all__ = ["EquivariantGNN"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
#: a warm start fine-tunes at this share of ``lr`` (the cosine schedule starts there)
WARM_LR_FACTOR = 0.1
_PREDICT_CHUNK = 64


@contextmanager
def _frozen(module: torch.nn.Module) -> Iterator[None]:
    """Parameters without ``requires_grad`` for the block: autograd then records only the
    position path (forces), not the weight gradients prediction never uses."""
    flags = [p.requires_grad for p in module.parameters()]
    try:
        for p in module.parameters():
            p.requires_grad_(False)
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


def _split(settings: TrainSettings, share: float) -> tuple[TrainSettings, TrainSettings]:
    """Settings of the pre-training phase (``share`` of the epochs and of the time budget)
    and of the target phase (the rest)."""
    pre_epochs = max(1, round(share * settings.epochs))
    if settings.max_time is None:
        pre_time = rest_time = None
    else:
        pre_time, rest_time = share * settings.max_time, (1.0 - share) * settings.max_time
    return (replace(settings, epochs=pre_epochs, max_time=pre_time),
            replace(settings, epochs=max(1, settings.epochs - pre_epochs), max_time=rest_time))


def _transfer(pretrained: dict[str, torch.Tensor], pre_scale: float, module: GNNModule,
              scale: float) -> dict[str, torch.Tensor]:
    """Earlier weights (pre-training, or the last fit when warm-starting) whose name and shape
    match ``module``'s. The readouts are rescaled from the earlier output unit to this fit's,
    so the network starts from the function it had already learned."""
    factor = pre_scale / scale
    own = module.state_dict()
    out = {}
    for k, v in pretrained.items():
        if k in own and own[k].shape == v.shape:
            out[k] = v * factor if k.startswith(("readouts.", "vector_readout.")) else v
    return out


@register_surrogate("gnn")
class EquivariantGNN(Surrogate):
    """E(3)-equivariant message-passing network for energies, forces and properties.

    Args:
        target: what ``predict`` returns: ``"energy"`` (eV, extensive, forces by autograd),
            ``"dipole"`` ((n, 3) e·Å, equivariant vector head) or any scalar name (``"gap"``,
            ``"energy_per_atom"``, a campaign objective …).
        lmax: highest rotation order of features and spherical harmonics.
        channels: multiplicity of every irrep (``channels x 0e + channels x 1o + …``).
        n_layers: interaction layers.
        cutoff: neighbour cutoff in Å (smooth polynomial envelope).
        n_radial: Bessel radial basis functions.
        extensive: sum (``True``) or average (``False``) the per-atom outputs of a scalar
            head; ``None`` means extensive for ``"energy"`` only.
        scalar_last_layer: give the last interaction layer scalar (``channels x 0e``)
            outputs only, for scalar targets. The scalar heads read only scalars, so the
            function class is the same, but the last tensor product keeps 3 of its ~11 paths
            (lmax 2): about 3x faster energy + forces on batches. Ignored for the dipole.
        attention: for an intensive scalar target, pool the per-atom outputs with softmax
            weights from a learned invariant score instead of the plain mean (helps
            properties set by a few atoms, such as the HOMO-LUMO gap). Needs
            ``extensive=False``.
        epochs, batch_size, lr, weight_decay: AdamW mini-batch training with a cosine
            learning-rate schedule.
        energy_weight, force_weight: loss weights (forces used when present for ``energy``).
        ema_decay: decay of the exponential moving average of weights used for prediction.
        patience: early stopping after this many epochs without validation improvement.
        val_fraction: held-out share of the structures for early stopping.
        max_time: training-time budget in seconds (``None``: train all ``epochs``).
        max_time_clock: what ``max_time`` counts: ``"wall"`` seconds, or ``"cpu"`` seconds
            of this process (fair budgets on a shared machine).
        pretrain: share (0-1) of the epochs and of ``max_time`` spent first training the same
            network on the structures' energies and forces, for a target other than
            ``"energy"``; the target model then starts from those weights. A simulator
            returns energy and forces with every property, and 3N force components per
            molecule teach the layers chemistry a few hundred gap labels cannot (xTB gap of
            300 Enamine molecules, ``benchmarks/gnn.py``: 0.46 → 0.35 eV MAE). Needs energies and forces on every
            structure (attached results, or ``targets["energy"]``/``["forces"]``).
        warm_start: when ``True`` and this model is already fitted (same elements and
            architecture), ``fit`` starts from the current weights instead of a fresh
            initialisation (and skips ``pretrain``, which those weights already had),
            fine-tuning at a tenth of ``lr``: a campaign round then needs fewer epochs to
            converge (early stopping ends it).
        elements: atomic numbers (or symbols) the network must accept besides those of the
            training structures — in a campaign, every element of the candidate pool, so a
            candidate with an element no label has yet is predicted, never refused. Such an
            element gets an embedding row and a per-element reference drawn (seeded by
            ``random_state``) from N(mean, sd²) of the trained elements' references, so the
            members of an ensemble disagree about it as much as the known elements differ:
            its prediction is honestly more uncertain.
        dtype: ``"float32"`` or ``"float64"``.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        random_state: seed of initial weights, shuffling and the validation split.
        valid_fraction: deprecated name of ``val_fraction`` (removed in the next release).

    Learned attributes: ``module_`` (the network), ``config_``, ``elements_`` (atomic numbers
    seen in training), ``reference_`` (per-element reference values, float64), ``history_``
    (one dict per epoch; :meth:`plot_history` draws it), ``pretrain_history_`` (the same for
    the energy/force pre-training, empty without it).
    """

    input_kind = "atoms"
    compression = Compression(student="structures", prune="irrep_channels",
                              default_student="fingerprint")
    pool_options = ("elements",)

    def __init__(self, target: str = "energy", lmax: int = 2, channels: int = 32,
                 n_layers: int = 2, cutoff: float = 5.0, n_radial: int = 8,
                 extensive: bool | None = None, scalar_last_layer: bool = False,
                 attention: bool = False,
                 epochs: int = 100, batch_size: int = 16,
                 lr: float = 5e-3, weight_decay: float = 1e-6, energy_weight: float = 1.0,
                 force_weight: float = 10.0, ema_decay: float = 0.99, patience: int = 20,
                 val_fraction: float = 0.1, max_time: float | None = None,
                 max_time_clock: str = "wall", pretrain: float = 0.0,
                 warm_start: bool = False, elements: Sequence[int | str] | None = None,
                 dtype: str = "float32", device: str = "auto", random_state: int = 0,
                 valid_fraction: float | str = DEPRECATED) -> None:
        self.target = target
        self.lmax = lmax
        self.channels = channels
        self.n_layers = n_layers
        self.cutoff = cutoff
        self.n_radial = n_radial
        self.extensive = extensive
        self.scalar_last_layer = scalar_last_layer
        self.attention = attention
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.energy_weight = energy_weight
        self.force_weight = force_weight
        self.ema_decay = ema_decay
        self.patience = patience
        self.val_fraction = val_fraction
        self.max_time = max_time
        self.max_time_clock = max_time_clock
        self.pretrain = pretrain
        self.warm_start = warm_start
        self.elements = elements
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.valid_fraction = valid_fraction

    # --- fitting ---------------------------------------------------------------------------
    def _check_params(self) -> tuple[torch.dtype, float]:
        """The dtype, and the validation share (read once: its old name warns)."""
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {sorted(_DTYPES)}, got {self.dtype!r}")
        if not (self.cutoff > 0 and self.n_radial >= 1 and self.n_layers >= 1):
            raise ValueError("need cutoff > 0, n_radial >= 1 and n_layers >= 1")
        if self.max_time_clock not in ("wall", "cpu"):
            raise ValueError(f"max_time_clock must be 'wall' or 'cpu', got {self.max_time_clock!r}")
        if not 0.0 <= self.pretrain < 1.0:
            raise ValueError(f"pretrain must be in [0, 1), got {self.pretrain}")
        val_fraction = self._renamed("val_fraction", "valid_fraction")
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
        return _DTYPES[self.dtype], float(val_fraction)

    @property
    def _is_extensive(self) -> bool:
        return self.target == "energy" if self.extensive is None else bool(self.extensive)

    def fit(self, X: Sequence[Atoms], y: Any = None, **kwargs: Any) -> EquivariantGNN:
        """Learn from structures ``X`` and labels ``y`` (alias ``targets``).

        ``y``/``targets``: a dict of named arrays, a 1-D (or (n, 3) for dipole) array of the
        configured target, or ``None`` to read each structure's attached results.
        """
        targets = kwargs.pop("targets", y)
        if kwargs:
            raise TypeError(f"fit() got unexpected arguments {sorted(kwargs)}")
        dtype, val_fraction = self._check_params()
        structures = check_structures(X)
        vector = self.target in VECTOR_TARGETS
        labels = read_labels(structures, targets, self.target,
                             want_forces=self.target == "energy")
        graphs = [to_graph_data(a, self.cutoff, k) for k, a in enumerate(structures)]
        seen = sorted({int(z) for g in graphs for z in g.numbers})
        elements = sorted(set(seen) | set(self._extra_elements()))
        counts = self._counts(graphs, elements)
        extensive = self._is_extensive and not vector
        if self.attention and (extensive or vector):
            raise ValueError(f"attention pooling is for intensive scalar targets; target "
                             f"{self.target!r} is {'a vector' if vector else 'extensive'} "
                             f"(set extensive=False)")
        reference, residual, scale = self._residual(counts, labels, extensive, vector)
        reference = self._prior_for_unseen(reference, counts)
        n_edges = sum(len(g.src) for g in graphs)
        hidden = [hidden_irreps(int(self.channels), int(self.lmax))] * int(self.n_layers)
        if self.scalar_last_layer and not vector:
            hidden[-1] = f"{int(self.channels)}x0e"
        config = GNNConfig(
            n_species=len(elements),
            hidden_irreps=hidden,
            embed_channels=int(self.channels), lmax=int(self.lmax), cutoff=float(self.cutoff),
            n_radial=int(self.n_radial),
            avg_num_neighbors=max(1.0, n_edges / float(counts.sum())),
            vector=vector, extensive=extensive, scale=scale, attention=bool(self.attention),
        )
        warm = self._can_warm_start(config, elements)
        if warm:  # keep the fitted reference and output scale: the network's function holds
            reference = self.reference_
            residual = labels.y if vector else \
                labels.y - self._reference_part(counts, reference, extensive)
            config = replace(config, scale=self.config_.scale)
        device = resolve_device(self.device)
        settings = TrainSettings(
            epochs=int(self.epochs), batch_size=int(self.batch_size), lr=float(self.lr),
            weight_decay=float(self.weight_decay), energy_weight=float(self.energy_weight),
            force_weight=float(self.force_weight), ema_decay=float(self.ema_decay),
            patience=int(self.patience),
            val_fraction=val_fraction,
            seed=int(self.random_state),
            max_time=None if self.max_time is None else float(self.max_time),
            max_time_clock=str(self.max_time_clock),
        )
        species_index = {z: k for k, z in enumerate(elements)}
        share = float(self.pretrain)
        pretrained, pre_scale, pre_history = None, 1.0, []
        if warm:  # continue from the fitted weights ...
            pretrained, pre_scale = self.module_.state_dict(), self.config_.scale
            pre_history = list(self.pretrain_history_)
            # ... and fine-tune them: a full learning rate would first throw them away
            settings = replace(settings, lr=settings.lr * WARM_LR_FACTOR)
        elif share > 0 and self.target != "energy":
            pre_settings, settings = _split(settings, share)
            pretrained, pre_scale, pre_history = self._pretrain(
                structures, targets, graphs, counts, config, pre_settings, species_index,
                device, dtype)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.random_state))
            module = GNNModule(config).to(device=device, dtype=dtype)
            if pretrained is not None:
                module.load_state_dict(_transfer(pretrained, pre_scale, module, config.scale),
                                       strict=False)
            state, history = train(module, graphs, residual, labels.forces, species_index,
                                   settings, device)
        module.load_state_dict(state)
        self.module_ = module.eval()
        self.config_ = config
        self.elements_ = elements
        self.reference_ = reference
        self.history_ = history
        self.pretrain_history_ = pre_history
        return self

    def _pretrain(self, structures: Sequence[Atoms], targets: Any, graphs: list[GraphData],
                  counts: np.ndarray, config: GNNConfig, settings: TrainSettings,
                  species_index: dict[int, int], device: torch.device,
                  dtype: torch.dtype) -> tuple[dict[str, torch.Tensor], float, list[dict]]:
        """Train the same network on the structures' energies and forces; return its weights
        (for the target model to start from), its output scale and its training log."""
        source = targets if isinstance(targets, Mapping) and "energy" in targets else None
        try:
            labels = read_labels(structures, source, "energy", want_forces=True)
        except ValueError as err:
            raise ValueError(f"pretrain={self.pretrain} needs the energy (eV) and forces "
                             f"(eV/Å) of every structure: {err}") from None
        if labels.forces is None:
            raise ValueError(f"pretrain={self.pretrain} needs the forces of every structure "
                             "(attached results or targets['forces']); some have none")
        _, residual, scale = self._residual(counts, labels, extensive=True, vector=False)
        pre_config = replace(config, vector=False, extensive=True, attention=False, scale=scale)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.random_state))
            module = GNNModule(pre_config).to(device=device, dtype=dtype)
            state, history = train(module, graphs, residual, labels.forces, species_index,
                                   settings, device)
        return state, scale, history

    def _residual(self, counts: np.ndarray, labels: Any, extensive: bool,
                  vector: bool) -> tuple[np.ndarray, np.ndarray, float]:
        """Per-element reference (least squares), labels minus it, and the loss scale."""
        if vector:
            reference = np.zeros(counts.shape[1])
            residual = labels.y
            scale = float(np.sqrt(np.mean(labels.y**2)))
        else:
            reference = fit_reference(counts, labels.y, extensive)
            residual = labels.y - self._reference_part(counts, reference, extensive)
            n_mean = float(counts.sum(axis=1).mean())
            scale = float(np.std(residual)) / (np.sqrt(n_mean) if extensive else 1.0)
            if labels.forces is not None and self.force_weight > 0 and extensive:
                scale = float(np.sqrt(np.mean(np.concatenate(labels.forces) ** 2)))
        if not np.isfinite(scale) or scale < 1e-6:
            scale = 1.0
        return reference, residual, scale

    def _can_warm_start(self, config: GNNConfig, elements: list[int]) -> bool:
        """``warm_start`` is on and the fitted network has the same elements and layers."""
        if not (self.warm_start and self.is_fitted("module_")):
            return False
        fixed = ("n_species", "hidden_irreps", "embed_channels", "lmax", "cutoff", "n_radial",
                 "vector", "extensive", "radial_hidden", "attention")
        old = self.config_
        return list(self.elements_) == list(elements) and all(
            getattr(old, k) == getattr(config, k) for k in fixed)

    def _extra_elements(self) -> list[int]:
        """The ``elements`` option as atomic numbers (symbols accepted)."""
        from ase.data import atomic_numbers

        out = []
        for e in self.elements or ():
            z = atomic_numbers.get(e) if isinstance(e, str) else int(e)
            if z is None or not 0 < z < 119:
                raise ValueError(f"elements: {e!r} is not an element (symbol or atomic number)")
            out.append(int(z))
        return out

    def _prior_for_unseen(self, reference: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Per-element references for elements no training structure contains: a seeded draw
        from N(mean, sd²) of the trained ones (see ``elements``); others unchanged."""
        unseen = counts.sum(axis=0) == 0
        if not unseen.any() or unseen.all() or self.target in VECTOR_TARGETS:
            return reference
        known = reference[~unseen]
        rng = np.random.default_rng([int(self.random_state), 7919])
        out = reference.copy()
        out[unseen] = known.mean() + known.std() * rng.standard_normal(int(unseen.sum()))
        return out

    @staticmethod
    def _counts(graphs: Sequence[GraphData], elements: Sequence[int]) -> np.ndarray:
        """(n_structures, n_elements) atom counts (elements not in the list are ignored)."""
        return np.array([[np.sum(g.numbers == z) for z in elements] for g in graphs], dtype=float)

    @staticmethod
    def _reference_part(counts: np.ndarray, reference: np.ndarray, extensive: bool) -> np.ndarray:
        part = counts @ reference
        return part if extensive else part / counts.sum(axis=1)

    # --- prediction ------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        self._require_fitted("module_")

    def stopped_by_time(self) -> bool:
        """True when ``max_time`` ended the training or the pre-training (see the base)."""
        pre = vars(self).get("pretrain_history_", [])
        return super().stopped_by_time() or any(r.get("stopped_by") == "max_time" for r in pre)

    def predicts_forces(self) -> bool:
        """Forces −∂E/∂x come with a (fitted) total-energy model."""
        return self.target == "energy"

    def _graphs(self, X: Sequence[Atoms]) -> list[GraphData]:
        self._check_fitted()
        structures = check_structures(X)
        return [to_graph_data(a, self.config_.cutoff, k) for k, a in enumerate(structures)]

    def batched_graph(self, X: Sequence[Atoms]) -> Any:
        """Structures ``X`` as one batched graph in this model's species order, dtype and
        device (what the network reads; for pruning and FLOP counts)."""
        param = next(self.module_.parameters())
        index = {z: k for k, z in enumerate(self.elements_)}
        return batch_graphs(self._graphs(X), index, param.dtype, param.device)

    def _run(self, graphs: list[GraphData], forces: bool, reference: bool = True
             ) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Outputs (n,) or (n, 3) in float64 and, if asked, forces (else ``None``).
        ``reference=False`` leaves out the per-element reference part: the network's own
        residual output (what pruning distils)."""
        param = next(self.module_.parameters())
        index = {z: k for k, z in enumerate(self.elements_)}
        outs, force_list = [], []
        for start in range(0, len(graphs), _PREDICT_CHUNK):
            part = graphs[start:start + _PREDICT_CHUNK]
            g = batch_graphs(part, index, param.dtype, param.device, first_index=start)
            if forces:
                with _frozen(self.module_):
                    out, f = energy_and_forces(self.module_, g)
                splits = torch.split(f.detach(), g.n_atoms.tolist())
                force_list.extend(s.to("cpu", torch.float64).numpy() for s in splits)
            else:
                with torch.inference_mode():
                    out = self.module_(g)
            outs.append(out.detach().to("cpu", torch.float64).numpy())
        mean = np.concatenate(outs)
        if reference and not self.config_.vector:
            counts = self._counts(graphs, self.elements_)
            mean = mean + self._reference_part(counts, self.reference_, self.config_.extensive)
        return mean, (force_list if forces else None)

    def predict(self, X: Sequence[Atoms]) -> Prediction:
        """The configured target per structure: (n,) or (n, 3) for the dipole."""
        return Prediction(self._run(self._graphs(X), forces=False)[0])

    def predict_forces(self, X: Sequence[Atoms]) -> list[np.ndarray]:
        """Forces −∂E/∂x per structure, each (n_atoms, 3) in eV/Å (target ``"energy"``)."""
        return self.predict_energy_forces(X)[1]

    def predict_energy_forces(self, X: Sequence[Atoms]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Energies (n,) eV and forces (list of (n_atoms, 3) eV/Å) in one pass."""
        self._check_fitted()
        if self.target != "energy":
            raise ValueError(f"forces need target='energy'; this model predicts {self.target!r}")
        return self._run(self._graphs(X), forces=True)

    def calculator(self) -> Any:
        """An ASE calculator giving ``energy`` (eV) and ``forces`` (eV/Å) from this model."""
        from ._calculator import GNNCalculator

        self._check_fitted()
        if self.target != "energy":
            raise ValueError(f"a calculator needs target='energy', not {self.target!r}")
        return GNNCalculator(self)

    def plot_history(self, path: str) -> Any:
        """Write the training curve as a PNG; returns its path."""
        self._check_fitted()
        return plot_history(self.history_, path, self.pretrain_history_)

    # --- persistence -----------------------------------------------------------------------
    def _to_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        self._check_fitted()
        tensors = {f"module.{k}": v for k, v in self.module_.state_dict().items()}
        tensors["reference"] = torch.as_tensor(self.reference_, dtype=torch.float64)
        meta = {"params": self.get_params(), "config": self.config_.to_json(),
                "elements": list(self.elements_), "history": self.history_,
                "pretrain_history": self.pretrain_history_}
        return meta, tensors

    @classmethod
    def _from_state(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> EquivariantGNN:
        obj = cls(**meta["params"])
        config = GNNConfig(**meta["config"])
        try:
            device = resolve_device(obj.device)
        except ValueError:  # saved on a GPU machine, loaded on one without
            device = torch.device("cpu")
        module = GNNModule(config).to(device=device, dtype=_DTYPES[obj.dtype])
        module.load_state_dict(prefixed(tensors, "module."))
        obj.module_ = module.eval()
        obj.config_ = config
        obj.elements_ = [int(z) for z in meta["elements"]]
        obj.reference_ = tensors["reference"].numpy().astype(float)
        obj.history_ = list(meta.get("history", []))
        obj.pretrain_history_ = list(meta.get("pretrain_history", []))
        return obj
