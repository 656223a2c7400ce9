"""How much to compress: an ``amount`` to remove or a cost ``budget`` to meet, checked once."""

from __future__ import annotations

__all__ = ["check_amount_budget"]


def check_amount_budget(amount: float | None, budget: float | None) -> None:
    """Exactly one of ``amount`` in [0, 1) or ``budget`` in (0, 1], else ``ValueError``."""
    if (amount is None) == (budget is None):
        raise ValueError("pass exactly one of amount (fraction of units) or budget (cost)")
    if amount is not None and not 0.0 <= float(amount) < 1.0:
        raise ValueError(f"amount must be in [0, 1), got {amount}")
    if budget is not None and not 0.0 < float(budget) <= 1.0:
        raise ValueError(f"budget must be in (0, 1] (a fraction of the cost), got {budget}")
