"""Compression of teachers into fast screeners: distil, prune, quantise, package.

Private subpackage; the public names are re-exported from :mod:`surrogates`.
"""

from ._distill import distill
from ._metrics import accuracy, count_parameters, estimate_flops, identity, top_k_recall
from ._prune import prune
from ._quantize import quantize
from ._screener import Screener

__all__ = ["Screener", "accuracy", "count_parameters", "distill", "estimate_flops",
           "identity", "prune", "quantize", "top_k_recall"]
