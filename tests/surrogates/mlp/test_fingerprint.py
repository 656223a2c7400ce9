"""FingerprintSurrogate / MLPSurrogate: conformance, featurisation, errors, std output."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from surrogates import FingerprintSurrogate, MLPSurrogate, load_model
from surrogates.testing import SurrogateConformance

#: small drug-like and simple molecules written for these tests (no external data)
SMILES = ["C", "CC", "CCC", "CCCC", "CCCCC", "CCCCCC", "CO", "CCO", "CCCO", "CCCCO",
          "c1ccccc1", "Cc1ccccc1", "CCc1ccccc1", "Oc1ccccc1", "Nc1ccccc1", "CN", "CCN",
          "CCCN", "CC(=O)O", "CCC(=O)O", "CC(C)C", "CC(C)O", "C1CCCCC1", "C1CCNCC1",
          "c1ccncc1", "CC(=O)N", "OCCO", "NCCN", "ClCCl", "FC(F)F"]


def _carbons(smi: str) -> float:
    """A hand-checkable target: the number of carbon atoms (aromatic included)."""
    return float(sum(ch in "Cc" for ch in smi.replace("Cl", "")))


def _small(**kw):
    base = {"n_bits": 256, "hidden": (32, 16), "epochs": 60, "patience": 60, "lr": 3e-3,
            "device": "cpu", "random_state": 0}
    return FingerprintSurrogate(**{**base, **kw})


class TestFingerprintConforms(SurrogateConformance):
    def tolerance(self, model):
        return (1e-5, 1e-5)  # float32 network

    @pytest.fixture
    def surrogate(self):
        return _small(epochs=5)

    @pytest.fixture
    def training_data(self):
        y = np.array([_carbons(s) for s in SMILES])
        return SMILES[:24], (y[:24],), {}, SMILES[24:]


class TestMLPSurrogateConforms(SurrogateConformance):
    def tolerance(self, model):
        return (1e-5, 1e-5)  # float32 network

    @pytest.fixture
    def surrogate(self):
        return MLPSurrogate(hidden=(16,), epochs=5, device="cpu", random_state=0)

    @pytest.fixture
    def training_data(self):
        rng = np.random.default_rng(0)
        X = rng.normal(size=(40, 3))
        return X[:30], (X[:30] @ [1.0, -2.0, 0.5],), {}, X[30:]


def test_max_epochs_is_a_deprecated_alias_of_epochs():
    y = np.array([_carbons(s) for s in SMILES])
    new = _small(epochs=3).fit(SMILES, y).predict(SMILES).mean
    with pytest.warns(FutureWarning, match="max_epochs"):
        old = _small(max_epochs=3).fit(SMILES, y).predict(SMILES).mean
    np.testing.assert_array_equal(old, new)
    with pytest.warns(FutureWarning):
        longer = _small(max_epochs=30).fit(SMILES, y).predict(SMILES).mean
    assert not np.allclose(longer, new)  # the alias really sets the epoch count


def test_featurize_counts_match_rdkit_and_atoms_work():
    m = _small()
    F = m.featurize(["CC", "CCO"])
    assert F.shape == (2, 256) and F.dtype == np.float32
    # ethane: the two CH3 carbons give one radius-0 environment counted twice, and one
    # radius-1 environment (RDKit drops environments covering the same bonds): 2 + 1 = 3
    assert F[0].sum() == 3 and F[0].max() == 2 and np.all(F == np.round(F))
    atoms = Atoms("H2")
    atoms.info["smiles"] = "CC"
    np.testing.assert_array_equal(m.featurize([atoms])[0], F[0])


def test_invalid_smiles_error_names_the_index():
    with pytest.raises(ValueError, match=r"candidate 2: invalid SMILES 'C1CC\('"):
        _small().featurize(["C", "CC", "C1CC("])
    with pytest.raises(ValueError, match="candidate 0"):
        _small().featurize([Atoms("H2")])


def test_learns_carbon_count_and_std_output_round_trip(tmp_path):
    y = np.array([_carbons(s) for s in SMILES])
    m = _small(epochs=150, patience=150, val_fraction=0.0)
    m.fit(SMILES, y, y_std=np.full(len(y), 0.5))
    pred = m.predict(SMILES)
    assert np.mean(np.abs(pred.mean - y)) < 0.5  # target spread is ~1.6 carbons
    np.testing.assert_allclose(np.median(pred.std), 0.5, rtol=0.1)  # learned spread
    assert np.all(np.abs(np.log(pred.std / 0.5)) < np.log(1.6))
    back = load_model(m.save(tmp_path / "fp.safetensors"))
    np.testing.assert_allclose(back.predict(SMILES).mean, pred.mean, rtol=1e-6, atol=1e-6)


def test_mlp_surrogate_on_vectors():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)) * [1.0, 10.0, 0.1]
    y = X @ [1.0, 0.1, 10.0]
    m = MLPSurrogate(hidden=(32,), epochs=200, device="cpu").fit(X[:150], y[:150])
    assert np.mean(np.abs(m.predict(X[150:]).mean - y[150:])) < 0.25 * np.std(y)
    with pytest.raises(ValueError, match="candidate 1"):
        m.predict(np.array([[0.0, 0, 0], [np.nan, 0, 0]]))
