"""Cell-to-cell variability for the sensor's stochastic mode, batched in torch.

Each variant is measured in ``n_cells`` cells. Cell k carries R_k = R · exp(σ_R z_k − σ_R²/2)
repressor dimers (log-normal gene-expression noise with mean R, z_k ~ N(0, 1)), and its
measured fold-change at dose c is F(c; R_k) · exp(σ_m u_kc − σ_m²/2) (log-normal measurement
noise with mean 1, u_kc ~ N(0, 1)). The population reports

* ``response``: the mean over cells of the measured fold-change at each dose, and
  ``response_std``: its spread (standard deviation over cells) — what flow cytometry gives;
* ``leakiness``, ``saturation``: the population means of F(0; R_k), F(∞; R_k);
* ``ec50``: the dose where the population mean curve F̄(c) = mean_k F(c; R_k) is half-way
  between them, found by bisection in ln c (F̄ is monotone because every cell's curve moves in
  the same direction, set by Ka versus Ki);
* ``hill_n``: 4 x F̄'(x)/(F̄(∞) − F̄(0)) at x = ec50, with the analytic F' of each cell.

These curve properties exclude the measurement noise (it does not change the mean) and are
exact functions of the sampled cells. With σ_R = 0 they equal the deterministic closed forms.
Random numbers come from one ``torch.Generator`` per variant seeded from (seed, sequence), so a
variant's cells do not depend on which batch it is evaluated in (they do differ between CPU and
CUDA, whose generators differ).
"""

from __future__ import annotations

import hashlib

import torch

from ._mwc import mwc_fold_change, mwc_fold_change_slope, mwc_leakiness, mwc_saturation

#: bisection steps for the population EC50 (the bracket is ≤ ~100 e-folds wide → 1e-16 relative)
BISECTION_STEPS = 64


def variant_seed(seed: int, sequence: str) -> int:
    """A 63-bit seed for one variant's cells, stable across processes and platforms."""
    digest = hashlib.blake2b(f"{seed}:{sequence}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def draw_noise(seeds: list[int], n_cells: int, n_doses: int, device: torch.device,
               dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Standard normals per variant: z (B, n_cells) for repressors, u (B, n_cells, n_doses)."""
    z, u = [], []
    gen = torch.Generator(device=device)
    for s in seeds:
        gen.manual_seed(s)
        z.append(torch.randn(n_cells, generator=gen, device=device, dtype=dtype))
        u.append(torch.randn(n_cells, n_doses, generator=gen, device=device, dtype=dtype))
    return torch.stack(z), torch.stack(u)


def population(doses: torch.Tensor, params: torch.Tensor, repressors: float, z: torch.Tensor,
               u: torch.Tensor, repressor_noise: float, measurement_noise: float,
               ) -> dict[str, torch.Tensor]:
    """Population statistics of B variants.

    Args:
        doses: (D,) µM.
        params: (B, 4) columns Ka (µM), Ki (µM), ε_AI (kBT), ε_RA (kBT).
        repressors: mean repressor dimers per cell.
        z: (B, C) and u: (B, C, D) standard normals from :func:`draw_noise`.
        repressor_noise, measurement_noise: σ_R and σ_m (log-normal sds).

    Returns:
        dict of tensors: ``response``, ``response_std`` (B, D); ``leakiness``, ``saturation``,
        ``dynamic_range``, ``ec50``, ``hill_n`` (B,).
    """
    Ka, Ki, ep_ai, ep_ra = (params[:, i, None] for i in range(4))  # each [B, 1]
    R = repressors * torch.exp(repressor_noise * z - 0.5 * repressor_noise**2)  # [B, C]
    per_cell = mwc_fold_change(doses, Ka[..., None], Ki[..., None], ep_ai[..., None],
                               ep_ra[..., None], R[..., None])  # [B, C, D]
    measured = per_cell * torch.exp(measurement_noise * u - 0.5 * measurement_noise**2)
    leak = mwc_leakiness(Ka, Ki, ep_ai, ep_ra, R).mean(dim=1)  # [B]
    sat = mwc_saturation(Ka, Ki, ep_ai, ep_ra, R).mean(dim=1)  # [B]
    mid = 0.5 * (leak + sat)
    direction = torch.sign(sat - leak)  # +1 rising, −1 falling, 0 flat

    # bisection on ln c for F̄(c) = mid, bracket around √(Ka Ki)
    centre = 0.5 * (torch.log(Ka) + torch.log(Ki)).squeeze(1)
    half_width = 0.5 * torch.abs(torch.log(Ka / Ki)).squeeze(1) + 40.0
    lo, hi = centre - half_width, centre + half_width
    for _ in range(BISECTION_STEPS):
        m = 0.5 * (lo + hi)
        f = mwc_fold_change(torch.exp(m)[:, None], Ka, Ki, ep_ai, ep_ra, R).mean(dim=1)
        below = (f - mid) * direction < 0  # still before the half-way point
        lo, hi = torch.where(below, m, lo), torch.where(below, hi, m)
    ec50 = torch.exp(0.5 * (lo + hi))
    ec50 = torch.where(direction == 0, torch.full_like(ec50, float("nan")), ec50)
    slope = mwc_fold_change_slope(ec50[:, None], Ka, Ki, ep_ai, ep_ra, R).mean(dim=1)
    return {
        "response": measured.mean(dim=1),
        "response_std": measured.std(dim=1),
        "leakiness": leak,
        "saturation": sat,
        "dynamic_range": sat - leak,
        "ec50": ec50,
        "hill_n": 4.0 * ec50 * slope / (sat - leak),
    }
