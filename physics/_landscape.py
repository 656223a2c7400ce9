"""A seeded sequence → MWC-parameter landscape: additive mutational effects plus low-rank
pairwise epistasis.

For a variant s = (s_1 … s_L) over an alphabet of size A, and each MWC coordinate
θ ∈ (ln Ka, ln Ki, ε_AI, ε_RA) (index p = 0…3):

    θ_p(s) = θ_p(wt) + Σ_i h_p[i, s_i] + ½ Σ_k [(Σ_i e_pk[i, s_i])² − Σ_i e_pk[i, s_i]²]

The second sum is Σ_{i<j} ⟨e_p[i, s_i], e_p[j, s_j]⟩, a pairwise coupling J_ij(a, b) of rank
``rank``; it costs O(L) per variant instead of O(L² A²) memory. Both h and e vanish at the
wild-type residue, so the wild type has exactly the wild-type parameters and a single mutant
has no epistasis.

Effects are drawn once from ``numpy.random.default_rng(seed)``: each site belongs either to
the DNA-binding domain (probability ``DNA_SITE_FRACTION``; its mutations move mostly ε_RA) or
to the inducer-binding domain (mostly Ka, Ki, ε_AI), as in LacI, and each site has an
exponentially distributed sensitivity, so a few sites matter much more than the rest. The
per-coordinate scale (``EFFECT_SCALE``) makes a typical single mutation shift Ka or Ki by a
factor ~1.8 and ε_AI, ε_RA by ~0.8 kBT, the size of the LacI mutants of Chure et al. 2019.
Pairwise terms have standard deviation ``epistasis`` × the additive scale.
"""

from __future__ import annotations

import math

import numpy as np
import torch

#: coordinates of the landscape, in this order
COORDS = ("log_Ka", "log_Ki", "ep_ai", "ep_ra")
#: typical size of one additive mutational effect per coordinate (ln units, kBT, kBT)
EFFECT_SCALE = np.array([0.6, 0.6, 0.8, 0.8])
#: fraction of sites in the DNA-binding domain
DNA_SITE_FRACTION = 0.3
#: how much a site's off-domain coordinates are damped
OFF_DOMAIN = 0.15
#: rank of the pairwise coupling
RANK = 4


class Landscape:
    """Additive + epistatic effects on (ln Ka, ln Ki, ε_AI, ε_RA), drawn from one seed.

    Attributes:
        wild_type: (L,) int array, the reference sequence as alphabet indices.
        additive: (L, A, 4) additive effects, zero at the wild-type residue.
        pairwise: (L, A, 4, RANK) coupling embeddings, zero at the wild-type residue.
    """

    def __init__(self, n_sites: int, n_letters: int, seed: int, epistasis: float):
        if n_sites < 1 or n_letters < 2:
            raise ValueError(f"need n_sites ≥ 1 and an alphabet of ≥ 2 letters, got "
                             f"{n_sites} sites and {n_letters} letters")
        if not (epistasis >= 0 and math.isfinite(epistasis)):
            raise ValueError(f"epistasis must be a finite number ≥ 0, got {epistasis}")
        rng = np.random.default_rng(seed)
        self.wild_type = rng.integers(0, n_letters, n_sites)
        dna_site = rng.random(n_sites) < DNA_SITE_FRACTION
        domain = np.where(dna_site[:, None], [OFF_DOMAIN] * 3 + [1.0], [1.0] * 3 + [OFF_DOMAIN])
        sensitivity = rng.exponential(1.0, (n_sites, 1)) * domain * EFFECT_SCALE  # (L, 4)
        self.additive = rng.normal(0.0, 1.0, (n_sites, n_letters, 4)) * sensitivity[:, None, :]
        # entries of sd sqrt(eps·scale)·RANK^(-1/4) give pair terms of sd eps·scale
        emb_sd = np.sqrt(epistasis * sensitivity) * RANK ** -0.25  # (L, 4)
        self.pairwise = rng.normal(0.0, 1.0, (n_sites, n_letters, 4, RANK)) * emb_sd[:, None, :, None]
        sites = np.arange(n_sites)
        self.additive[sites, self.wild_type] = 0.0
        self.pairwise[sites, self.wild_type] = 0.0
        self._cache: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, ...]] = {}

    def shifts(self, idx: torch.Tensor) -> torch.Tensor:
        """Shifts of (ln Ka, ln Ki, ε_AI, ε_RA) from the wild type.

        Args:
            idx: (B, L) long tensor of alphabet indices.

        Returns:
            (B, 4) tensor on ``idx``'s device, float64.
        """
        add, pair = self._tensors(idx.device, torch.float64)
        sites = torch.arange(idx.shape[1], device=idx.device)
        h = add[sites, idx]  # [B, L, 4]
        e = pair[sites, idx]  # [B, L, 4, RANK]
        epi = 0.5 * (e.sum(dim=1).square() - e.square().sum(dim=1)).sum(dim=-1)  # [B, 4]
        return h.sum(dim=1) + epi

    def _tensors(self, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        key = (device, dtype)
        if key not in self._cache:
            self._cache[key] = (torch.as_tensor(self.additive, dtype=dtype, device=device),
                                torch.as_tensor(self.pairwise, dtype=dtype, device=device))
        return self._cache[key]
