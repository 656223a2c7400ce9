"""MoleculeGP: Tanimoto kernel by hand, descriptor features, GP behaviour, persistence, errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from surrogates import MoleculeGP, load_model
from surrogates._gp import _descriptors as desc_mod
from surrogates._gp._molecule_gp import TanimotoKernel
from surrogates.testing import SurrogateConformance

#: alkanes, alcohols, amines and aromatics written for these tests (no external data)
SMILES = ["C", "CC", "CCC", "CCCC", "CCCCC", "CCCCCC", "CCCCCCC", "CO", "CCO", "CCCO", "CCCCO",
          "CCCCCO", "c1ccccc1", "Cc1ccccc1", "CCc1ccccc1", "CCCc1ccccc1", "Oc1ccccc1",
          "Nc1ccccc1", "CN", "CCN", "CCCN", "CCCCN", "CC(C)C", "CC(C)O", "C1CCCCC1", "C1CCNCC1",
          "c1ccncc1", "OCCO", "NCCN", "CC(C)(C)C"]
FEW = ["CCO", "CCN", "CCC", "c1ccccc1"]


def _heavy_atoms(smi: str) -> float:
    from rdkit import Chem

    return float(Chem.MolFromSmiles(smi).GetNumHeavyAtoms())


class TestMoleculeGPConforms(SurrogateConformance):
    @pytest.fixture
    def surrogate(self):
        return MoleculeGP(n_bits=256, descriptors=["MolWt", "TPSA", "NumHDonors"], n_restarts=0)

    @pytest.fixture
    def training_data(self):
        y = np.array([_heavy_atoms(s) for s in SMILES])
        return SMILES[:22], (y[:22],), {}, SMILES[22:]


def test_tanimoto_kernel_by_hand():
    a = [1, 1, 0, 0, 9]  # last column is not a fingerprint bit (n_bits = 4)
    b = [1, 0, 1, 0, -3]
    c = [0, 0, 0, 0, 5]
    K = TanimotoKernel(n_bits=4)(np.array([a, b, c], dtype=float))
    # a·b = 1, |a| = |b| = 2 → 1 / (2 + 2 − 1); a or b vs empty c → 0; empty vs empty → 1
    assert K[0, 1] == pytest.approx(1 / 3) and K[1, 0] == pytest.approx(1 / 3)
    assert K[0, 2] == 0 and K[2, 2] == 1 and K[0, 0] == 1
    X = (np.random.default_rng(0).random((40, 32)) < 0.3).astype(float)
    assert np.linalg.eigvalsh(TanimotoKernel(32)(X)).min() > -1e-10  # a valid (PSD) kernel


def test_descriptors_match_rdkit_and_are_cached(monkeypatch):
    from rdkit import Chem
    from rdkit.Chem import Descriptors

    names = desc_mod.descriptor_names(["MolWt", "NumHDonors"])
    D = desc_mod.descriptor_matrix(["CCO", "c1ccccc1"], names)
    assert D[0, 0] == pytest.approx(Descriptors.MolWt(Chem.MolFromSmiles("CCO")))
    assert D[0, 1] == 1 and D[1, 1] == 0  # ethanol's OH donates, benzene has no donor

    def boom(mol, names):  # a cached SMILES must not be recomputed
        raise AssertionError("recomputed")

    monkeypatch.setattr(desc_mod, "_compute", boom)
    np.testing.assert_array_equal(desc_mod.descriptor_matrix(["c1ccccc1", "CCO"], names), D[::-1])
    with pytest.raises(ValueError, match="not in this RDKit"):
        desc_mod.descriptor_names(["MolWt", "NoSuchDescriptor"])


def test_learns_a_size_property_and_knows_where_it_is_unsure():
    y = np.array([_heavy_atoms(s) for s in SMILES])
    train = np.arange(len(SMILES)) % 3 != 0
    model = MoleculeGP(n_bits=512, random_state=0).fit([SMILES[i] for i in np.flatnonzero(train)],
                                                      y[train])
    test = [SMILES[i] for i in np.flatnonzero(~train)]
    pred = model.predict(test)
    assert np.abs(pred.mean - y[~train]).mean() < 0.5  # heavy atoms, 1-8 in this set
    at_train = model.predict([SMILES[1]])
    far = model.predict(["O=C(O)c1ccc2ccccc2c1C(F)(F)F"])  # unlike anything it saw
    assert at_train.std[0] < 0.5 * far.std[0]
    assert model.native_std and pred.std.shape == pred.mean.shape


def test_save_load_reproduces_predictions_exactly(tmp_path):
    y = np.array([_heavy_atoms(s) for s in SMILES])
    model = MoleculeGP(n_bits=256, descriptors=["MolWt", "TPSA"], n_restarts=0).fit(SMILES, y)
    path = model.save(tmp_path / "gp.safetensors")
    again = load_model(path)
    a, b = model.predict(FEW), again.predict(FEW)
    np.testing.assert_allclose(b.mean, a.mean, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(b.std, a.std, rtol=1e-8, atol=1e-10)
    assert again.kernel_.theta == pytest.approx(model.kernel_.theta)


def test_fingerprint_only_kernel():
    y = np.array([_heavy_atoms(s) for s in SMILES])
    model = MoleculeGP(n_bits=256, descriptors=[], n_restarts=0).fit(SMILES, y)
    assert "TailRBF" not in str(model.kernel_)
    assert model.predict(FEW).mean.shape == (4,)


def test_bad_input_names_the_molecule():
    with pytest.raises(ValueError, match=r"molecule 1 .*'CCN'.* not finite"):
        MoleculeGP(n_bits=64).fit(["CCO", "CCN", "CCC"], [1.0, np.nan, 2.0])
    model = MoleculeGP(n_bits=64, descriptors=["MolWt"], n_restarts=0).fit(FEW, [1, 2, 3, 4])
    with pytest.raises(ValueError, match="candidate 1: invalid SMILES"):
        model.predict(["CCO", "C1CC"])
    with pytest.raises(ValueError, match="one value each"):
        MoleculeGP().fit(["CCO", "CCN"], [1.0])
    with pytest.raises(NotFittedError, match="not fitted"):
        MoleculeGP().predict(FEW)


# --- extra inputs: values another judge computed, read from ase.Atoms info ---------------------
def _with_info(smiles: list[str], values: np.ndarray) -> list:
    from ase import Atoms

    out = []
    for smi, v in zip(smiles, values):
        a = Atoms("H")  # the GP reads only info: no 3D structure is needed
        a.info.update({"smiles": smi, "cheap": float(v), "vec": [float(v), 0.0, 0.0]})
        out.append(a)
    return out


def _hidden_target(n: int) -> tuple[np.ndarray, np.ndarray]:
    """A target SMILES cannot explain: a per-molecule 'cheap judge' value decides it."""
    rng = np.random.default_rng(4)
    cheap = rng.normal(size=n)
    return cheap, 2.0 * cheap + 0.1 * rng.normal(size=n)


class TestMoleculeGPWithExtraInputsConforms(SurrogateConformance):
    @pytest.fixture
    def surrogate(self):
        return MoleculeGP(n_bits=256, descriptors=["MolWt"], n_restarts=0,
                          extra_inputs=("cheap", "vec"))

    @pytest.fixture
    def training_data(self):
        cheap, y = _hidden_target(len(SMILES))
        X = _with_info(SMILES, cheap)
        return X[:22], (y[:22],), {}, X[22:]


def test_extra_inputs_carry_what_the_smiles_cannot():
    cheap, y = _hidden_target(len(SMILES))
    X = _with_info(SMILES, cheap)
    plain = MoleculeGP(n_bits=256, descriptors=["MolWt"], n_restarts=0).fit(SMILES[:22], y[:22])
    fed = MoleculeGP(n_bits=256, descriptors=["MolWt"], n_restarts=0,
                     extra_inputs=("cheap",)).fit(X[:22], y[:22])
    err_plain = np.abs(plain.predict(SMILES[22:]).mean - y[22:]).mean()
    err_fed = np.abs(fed.predict(X[22:]).mean - y[22:]).mean()
    assert err_fed < 0.3 * err_plain, (err_fed, err_plain)


def test_extra_inputs_missing_or_on_a_smiles_string_are_named():
    cheap, y = _hidden_target(4)
    X = _with_info(FEW, cheap)
    model = MoleculeGP(n_bits=64, descriptors=[], n_restarts=0, extra_inputs=("cheap", "homo"))
    with pytest.raises(ValueError, match=r"candidate 0 \(CCO\) has no info\['homo'\]"):
        model.fit(X, y)
    with pytest.raises(ValueError, match=r"candidate 0: extra_inputs .* got a str"):
        MoleculeGP(n_bits=64, descriptors=[], extra_inputs=("cheap",)).fit(FEW, y)
