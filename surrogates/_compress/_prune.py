"""Structured pruning: remove whole hidden units, so the network really gets smaller and faster.

For an MLP ``h_{l+1} = SiLU(W_l h_l + b_l)``, removing unit ``j`` of hidden layer ``l`` deletes
row ``j`` of ``(W_l, b_l)`` and column ``j`` of ``W_{l+1}``; the surviving weights are copied
into a freshly built, smaller :class:`~surrogates._mlp._net.MLP`. Units are ranked by an importance
score ``I_j`` (larger = keep):

- ``"l1"``: weight norm, ``I_j = ‖W_l[j, :]‖₁ · ‖W_{l+1}[:, j]‖₁`` (what flows in × out);
- ``"activity"``: mean contribution on a sample, ``I_j = E_x|h_j(x)| · ‖W_{l+1}[:, j]‖₁``;
- ``"taylor"``: first-order Taylor sensitivity (Molchanov et al., 2017),
  ``I_j = E_x |h_j(x) · ∂(Σ_k y_k)/∂h_j(x)|``, the predicted change of the output when the
  unit is zeroed.

``amount`` removes that fraction of every hidden layer. ``budget`` instead meets a target cost
(a fraction of the FLOPs, or of the measured latency, per candidate) greedily: at each step
it removes ~10 % of the layer whose removal changes the outputs on the sample least per FLOP
saved, so the least sensitive layers go first. The pruned model is then fine-tuned by
distillation from the unpruned one (match its raw outputs on the sample).

What is pruned is what the model class declares (``Surrogate.compression.prune``):
``"mlp_units"`` — the MLP of :class:`FingerprintSurrogate` / :class:`MLPSurrogate` (``net_``);
``"epistatic_units"`` — the epistatic MLP of :class:`HillSurrogate` (``net_.epistatic``);
``"irrep_channels"`` — an :class:`EquivariantGNN`'s irrep channels (:mod:`._e3nn_budget`).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .._mlp._net import MLP, train_mlp
from .._mlp._qstate import is_quantized
from ._budget import check_amount_budget

__all__ = ["mlp_flops", "prune", "shrink_mlp", "unit_importance"]

METHODS = ("l1", "activity", "taylor")


def mlp_flops(net: MLP) -> float:
    """FLOPs per candidate of the matrix products: ``Σ_l 2 · d_in · d_out``."""
    return float(sum(2 * lin.in_features * lin.out_features for lin in net.layers))


def shrink_mlp(net: MLP, keep: list[np.ndarray]) -> MLP:
    """A new MLP keeping hidden units ``keep[l]`` (sorted indices) of each hidden layer."""
    n_hidden = len(net.layers) - 1
    if len(keep) != n_hidden:
        raise ValueError(f"need {n_hidden} index arrays, got {len(keep)}")
    sizes = [net.sizes[0], *(len(k) for k in keep), net.sizes[-1]]
    new = MLP(sizes, log_input=net.log_input).to(net.layers[0].weight.dtype)
    rows = [*[torch.as_tensor(np.sort(k), dtype=torch.long) for k in keep], None]
    cols = [None, *rows[:-1]]
    with torch.no_grad():
        for lin_old, lin_new, r, c in zip(net.layers, new.layers, rows, cols):
            w, b = lin_old.weight, lin_old.bias
            if r is not None:
                w, b = w[r], b[r]
            if c is not None:
                w = w[:, c]
            lin_new.weight.copy_(w)
            lin_new.bias.copy_(b)
    return new.eval()


def _hidden_acts(net: MLP, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Post-activation hidden features ``[n, h_l]`` of every hidden layer, and the output."""
    if net.log_input:
        x = torch.log1p(x)
    acts = []
    for lin in net.layers[:-1]:
        x = net.act(lin(x))
        x.retain_grad()
        acts.append(x)
    return acts, net.layers[-1](x)


def unit_importance(net: MLP, method: str = "l1", x: torch.Tensor | None = None
                    ) -> list[np.ndarray]:
    """Importance of each unit of each hidden layer (list of ``(h_l,)`` arrays)."""
    if method not in METHODS:
        raise ValueError(f"unknown pruning method {method!r}; choose one of {METHODS}")
    out_norm = [lin.weight.detach().abs().sum(0) for lin in net.layers[1:]]  # [h_l]
    if method == "l1":
        return [(lin.weight.detach().abs().sum(1) * o).numpy()
                for lin, o in zip(net.layers[:-1], out_norm)]
    if x is None:
        raise ValueError(f"pruning method {method!r} needs a sample of candidates (X)")
    net.zero_grad(set_to_none=True)
    with torch.enable_grad():
        acts, y = _hidden_acts(net, x)
        if method == "activity":
            return [(a.detach().abs().mean(0) * o).numpy() for a, o in zip(acts, out_norm)]
        y.sum().backward()
    return [(a.detach() * a.grad).abs().mean(0).numpy() for a in acts]


# --- which MLP of which model ---------------------------------------------------------------
def _slot(model: Any) -> tuple[MLP, Callable[[MLP], Any], Callable[[Any, Any], torch.Tensor]]:
    """``(mlp, rebuild(new_mlp) -> new model, inputs(model, X) -> tensor fed to the mlp)``."""
    kind = model.compression.prune
    if kind in ("mlp_units", "epistatic_units"):
        model._require_fitted("net_")
    net = vars(model).get("net_")
    if kind == "mlp_units" and isinstance(net, MLP):
        def inputs(m: Any, X: Any) -> torch.Tensor:
            return torch.from_numpy(m._prep(m._check_features(_feats(m, X))))
        return net, model.with_net, inputs
    epi = net.epistatic if kind == "epistatic_units" else None
    if isinstance(epi, MLP):  # HillSurrogate: prune the epistatic MLP
        def rebuild(new: MLP) -> Any:
            obj = copy.copy(model)
            obj.net_ = copy.deepcopy(net)
            obj.net_.epistatic = new
            obj.net_.hidden = list(new.sizes[1:-1])
            obj.hidden = tuple(new.sizes[1:-1])
            return obj

        def inputs_h(m: Any, X: Any) -> torch.Tensor:
            dtype = m.net_.additive.weight.dtype
            return torch.as_tensor(m.encoder_.transform(X), dtype=dtype)
        return epi, rebuild, inputs_h
    raise ValueError(f"cannot prune {type(model).__name__}: it declares no prunable MLP "
                     f"(compression.prune = {kind!r}); distil it into a "
                     f"FingerprintSurrogate/MLPSurrogate student first")


def _feats(model: Any, X: Any) -> np.ndarray:
    """Features of ``X``; an already featurised float matrix passes through."""
    if isinstance(X, np.ndarray) and X.dtype.kind == "f" and X.ndim == 2 \
            and model.input_kind != "vector":
        return X
    return model.featurize(X)


def _keep_top(scores: list[np.ndarray], n_keep: list[int]) -> list[np.ndarray]:
    return [np.sort(np.argsort(-s, kind="stable")[:k]) for s, k in zip(scores, n_keep)]


def _output_change(ref: torch.Tensor, net: MLP, x: torch.Tensor) -> float:
    with torch.no_grad():
        return float(((net(x) - ref) ** 2).mean() / ref.var().clamp_min(1e-12))


def _latency(net: MLP, x: torch.Tensor, repeats: int = 5) -> float:
    with torch.inference_mode():
        net(x)
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            net(x)
            best = min(best, time.perf_counter() - t0)
    return best / len(x)


def _budget_keep(net: MLP, scores: list[np.ndarray], x: torch.Tensor, budget: float,
                 kind: str, step: float = 0.1) -> list[np.ndarray]:
    """Greedy sensitivity-guided removal until cost ≤ budget · original cost."""
    ref = net(x).detach() if x is not None else None
    n_keep = [len(s) for s in scores]
    order = [np.argsort(-s, kind="stable") for s in scores]

    def build(nk: list[int]) -> MLP:
        return shrink_mlp(net, [np.sort(o[:k]) for o, k in zip(order, nk)])

    cost0 = mlp_flops(net) if kind == "flops" else _latency(net, x)
    cost = cost0
    while cost > budget * cost0:
        best = None
        for layer, k in enumerate(n_keep):
            if k <= 1:
                continue
            trial = list(n_keep)
            trial[layer] = max(1, k - max(1, round(step * k)))
            cand = build(trial)
            saved = mlp_flops(build(n_keep)) - mlp_flops(cand)
            change = _output_change(ref, cand, x) if ref is not None else \
                float(sum(np.sort(scores[layer])[::-1][trial[layer]:k]))
            score = change / max(saved, 1e-12)
            if best is None or score < best[0]:
                best = (score, trial)
        if best is None:
            break  # every hidden layer is down to one unit
        n_keep = best[1]
        pruned = build(n_keep)
        cost = mlp_flops(pruned) if kind == "flops" else _latency(pruned, x)
    return [np.sort(o[:k]) for o, k in zip(order, n_keep)]


def prune(model: Any, amount: float | None = None, budget: float | None = None,
          method: str = "l1", *, X: Any = None, budget_kind: str = "flops",
          fine_tune: bool = True, epochs: int = 100, random_state: int = 0,
          max_epochs: int | None = None) -> Any:
    """Structurally prune a fitted model; returns a new, smaller model of the same class.

    Args:
        model: a fitted :class:`FingerprintSurrogate`, :class:`MLPSurrogate`,
            :class:`HillSurrogate`, or :class:`EquivariantGNN` (channels pruned, see
            :func:`~._e3nn_budget.prune_gnn`; methods ``"l1"``/``"activity"``, FLOP budgets).
        amount: fraction (0 ≤ amount < 1) of the units of every hidden layer to remove.
        budget: instead of ``amount``: target cost as a fraction (0 < budget ≤ 1) of the
            original FLOPs (``budget_kind="flops"``) or measured latency (``"latency"``) per
            candidate; the least sensitive layers are pruned first.
        method: importance score, ``"l1"``, ``"activity"`` or ``"taylor"``.
        X: sample candidates (model input form, or features of an MLP model) for the
            activity/Taylor scores, the sensitivity search and the fine-tuning.
        fine_tune: distil the pruned model from the unpruned one on ``X``.
        epochs: fine-tuning epochs (early stopping on 10 % of ``X``).
        max_epochs: deprecated name of ``epochs``.
    """
    check_amount_budget(amount, budget)
    epochs = _renamed_epochs(epochs, max_epochs)
    if budget_kind not in ("flops", "latency"):
        raise ValueError(f"budget_kind must be 'flops' or 'latency', got {budget_kind!r}")
    if model.compression.prune == "irrep_channels":
        from ._e3nn_budget import prune_gnn

        if budget_kind != "flops":
            raise ValueError("GNN pruning meets FLOP budgets only (budget_kind='flops')")
        return prune_gnn(model, amount, budget, method=method, X=X, fine_tune=fine_tune,
                         epochs=epochs, random_state=random_state)
    net, rebuild, inputs = _slot(model)
    if is_quantized(net):
        raise ValueError("prune before quantize: this model is already int8-quantised")
    x = None if X is None else inputs(model, X)
    scores = unit_importance(net, method, x)
    if amount is not None:
        n_keep = [max(1, round((1.0 - float(amount)) * len(s))) for s in scores]
        keep = _keep_top(scores, n_keep)
    else:
        if x is None and budget_kind == "latency":
            raise ValueError("a latency budget needs a sample X to time the network on")
        keep = _budget_keep(net, scores, x, float(budget), budget_kind)
    new = rebuild(shrink_mlp(net, keep))
    if fine_tune and X is not None and amount != 0.0:
        _fine_tune(model, new, X, inputs, epochs, random_state)
    new.pruning_ = {"method": method, "amount": amount, "budget": budget,
                    "sizes_before": net.sizes, "sizes_after": _slot(new)[0].sizes,
                    "flops_before": mlp_flops(net), "flops_after": mlp_flops(_slot(new)[0])}
    return new


def _renamed_epochs(epochs: int, max_epochs: int | None) -> int:
    """``epochs``, or the deprecated ``max_epochs`` when given (with a ``FutureWarning``)."""
    if max_epochs is None:
        return int(epochs)
    import warnings

    warnings.warn("prune(max_epochs=...) is deprecated; use epochs=", FutureWarning,
                  stacklevel=3)
    return int(max_epochs)


def _fine_tune(teacher: Any, student: Any, X: Any, inputs: Callable[[Any, Any], torch.Tensor],
               epochs: int, random_state: int) -> None:
    """Match the unpruned network's raw outputs on ``X`` (distillation at the module level)."""
    whole_t, whole_s = teacher.net_, student.net_
    feats = _module_inputs(teacher, X, inputs)
    with torch.no_grad():
        target = whole_t(torch.as_tensor(feats)).detach().double().cpu().numpy()
    dtype = next(whole_s.parameters()).dtype
    train_mlp(whole_s, feats, target, lr=1e-3, weight_decay=0.0, max_epochs=epochs,
              batch_size=128, patience=10, val_fraction=0.1, seed=random_state, device="cpu")
    whole_s.to(dtype)


def _module_inputs(model: Any, X: Any, inputs: Callable[[Any, Any], torch.Tensor]) -> np.ndarray:
    """What ``model.net_`` reads for ``X`` (for HillNet: the encoded variants)."""
    return inputs(model, X).detach().float().cpu().numpy()
