"""Save and restore an :class:`~surrogates._mlp._net.MLP`, float or dynamically int8-quantised.

Without pickle: a float MLP is its ``state_dict``; a quantised one stores, per int8 layer, the
weight (``qweight``), its per-tensor ``scale`` and ``zero_point`` and the float ``bias``, and per
layer left in float (e.g. the first layer, whose wide log-count inputs lose most to 8-bit
activation quantisation) its ``weight`` and ``bias``. At load the same layers are quantised
again and the stored int8 weights put back bit for bit, so a loaded quantised model gives
exactly the outputs of the one that was saved.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from ._net import MLP

__all__ = ["is_qlinear", "is_quantized", "mlp_from_tensors", "mlp_tensors", "quantize_mlp"]


@contextmanager
def _quiet() -> Iterator[None]:
    """torch.ao.quantization is deprecated upstream; it still works and we say so once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def is_quantized(net: nn.Module) -> bool:
    """True when ``net`` holds dynamically quantised linear layers."""
    return any(is_qlinear(m) for m in net.modules())


def is_qlinear(module: nn.Module) -> bool:
    """True for a dynamically quantised (int8) linear layer."""
    return type(module).__name__ == "Linear" and "quantized" in type(module).__module__


def quantize_mlp(net: MLP, float_layers: tuple[int, ...] = ()) -> MLP:
    """A dynamically int8-quantised copy of ``net`` (CPU; ``nn.Linear`` parts only); the
    layers whose indices are in ``float_layers`` stay in float."""
    from torch.ao.quantization import quantize_dynamic

    names = {f"layers.{i}" for i in range(len(net.layers)) if i not in set(float_layers)}
    with _quiet():
        return quantize_dynamic(net.to("cpu").eval(), names, dtype=torch.qint8,
                                inplace=False)


def mlp_tensors(net: MLP) -> dict[str, torch.Tensor]:
    """Named tensors that rebuild ``net`` with :func:`mlp_from_tensors`."""
    if not is_quantized(net):
        return {k: v.detach().cpu() for k, v in net.state_dict().items()}
    out: dict[str, torch.Tensor] = {}
    for i, layer in enumerate(net.layers):
        if not is_qlinear(layer):
            out[f"layers.{i}.weight"] = layer.weight.detach().cpu()
            out[f"layers.{i}.bias"] = layer.bias.detach().cpu()
            continue
        with _quiet():
            w, b = layer._packed_params._weight_bias()
        out[f"layers.{i}.qweight"] = w.int_repr().contiguous()
        out[f"layers.{i}.scale"] = torch.tensor(float(w.q_scale()), dtype=torch.float64)
        out[f"layers.{i}.zero_point"] = torch.tensor(int(w.q_zero_point()), dtype=torch.int64)
        out[f"layers.{i}.bias"] = b.detach().cpu()
    return out


def mlp_from_tensors(sizes: list[int], log_input: bool, quantized: bool,
                     tensors: dict[str, torch.Tensor]) -> MLP:
    """Rebuild the MLP saved by :func:`mlp_tensors` (``quantized`` says which form)."""
    net = MLP(sizes, log_input=log_input)
    if not quantized:
        net.load_state_dict(tensors)
        return net.eval()
    float_layers = tuple(i for i in range(len(net.layers))
                         if f"layers.{i}.qweight" not in tensors)
    with torch.no_grad():  # float skeleton from the dequantised weights, then exact int8 back
        for i, lin in enumerate(net.layers):
            if i in float_layers:
                lin.weight.copy_(tensors[f"layers.{i}.weight"])
            else:
                q, s, z = (tensors[f"layers.{i}.{k}"]
                           for k in ("qweight", "scale", "zero_point"))
                lin.weight.copy_((q.to(torch.float32) - float(z)) * float(s))
            lin.bias.copy_(tensors[f"layers.{i}.bias"])
    qnet = quantize_mlp(net, float_layers)
    with _quiet():
        for i, layer in enumerate(qnet.layers):
            if i in float_layers:
                continue
            q = tensors[f"layers.{i}.qweight"]
            qw = torch._make_per_tensor_quantized_tensor(
                q.to(torch.int8), float(tensors[f"layers.{i}.scale"]),
                int(tensors[f"layers.{i}.zero_point"]))
            layer.set_weight_bias(qw, tensors[f"layers.{i}.bias"].to(torch.float32))
    return qnet
