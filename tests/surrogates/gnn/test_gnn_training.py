"""EquivariantGNN: it learns, it refuses bad input by name, ensembles, ASE calculator."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule
from ase.optimize import BFGS

from surrogates import Ensemble, EquivariantGNN, calibration, load_model
from tests.surrogates._gnn_data import labelled, rattled

SMALL = {"channels": 8, "lmax": 1, "n_layers": 2, "cutoff": 4.0, "n_radial": 6,
         "batch_size": 8, "dtype": "float64"}


@pytest.fixture(scope="module")
def methane_set():
    """Displaced CH4 and H2O labelled by EMT: 48 for training, 16 held out."""
    data = rattled(("CH4", "H2O"), 32, seed=10, scale=0.1)
    return data[:48], data[48:]


@pytest.fixture(scope="module")
def trained(methane_set):
    train, _ = methane_set
    return EquivariantGNN(**SMALL, epochs=30, lr=1e-2, patience=30).fit(train)


def test_it_learns_energies_and_forces(trained, methane_set):
    _, test = methane_set
    log = trained.history_
    assert log[-1]["train_loss"] < 0.2 * log[0]["train_loss"]
    e_true = np.array([a.get_potential_energy() for a in test])
    e_pred = trained.predict(test).mean
    mae, mean_baseline = np.abs(e_pred - e_true).mean(), np.abs(e_true - e_true.mean()).mean()
    assert mae < 0.5 * mean_baseline, (mae, mean_baseline)
    f_true = np.concatenate([a.get_forces() for a in test])
    f_pred = np.concatenate(trained.predict_forces(test))
    assert np.abs(f_pred - f_true).mean() < 0.5 * np.abs(f_true).mean()


def test_calculator_matches_predict_and_drives_a_relaxation(trained, methane_set):
    atoms = methane_set[1][0].copy()
    atoms.calc = trained.calculator()
    np.testing.assert_allclose(atoms.get_potential_energy(), trained.predict([atoms]).mean[0])
    np.testing.assert_allclose(atoms.get_forces(), trained.predict_forces([atoms])[0])
    e0, f0 = atoms.get_potential_energy(), np.abs(atoms.get_forces()).max()
    BFGS(atoms, logfile=None, maxstep=0.05).run(fmax=0.05, steps=60)
    assert atoms.get_potential_energy() < e0
    assert np.abs(atoms.get_forces()).max() < 0.5 * f0
    d = atoms.get_all_distances()[np.triu_indices(len(atoms), 1)]
    assert d.min() > 0.7, "relaxation collapsed atoms together"


def test_history_plot_is_written(trained, tmp_path):
    path = trained.plot_history(str(tmp_path / "curve.png"))
    assert path.stat().st_size > 5_000 and path.read_bytes()[:4] == b"\x89PNG"


def test_ensemble_of_gnns_spread_calibration_and_round_trip(methane_set, tmp_path):
    train, test = methane_set
    ens = Ensemble(EquivariantGNN(**SMALL, epochs=6), n_members=3, random_state=1)
    ens.fit(train[:24])
    pred = ens.predict(test)
    members = np.stack(ens.member_outputs("predict", test))
    assert np.all(pred.std > 0)
    np.testing.assert_allclose(pred.mean, members.mean(0))
    cal = calibration(pred, np.array([a.get_potential_energy() for a in test]))
    assert 0.0 <= cal["within_1sigma"] <= cal["within_2sigma"] <= 1.0 and cal["rmse"] > 0
    back = load_model(ens.save(tmp_path / "ens.safetensors"))
    np.testing.assert_allclose(back.predict(test).std, pred.std, rtol=1e-10)


def test_dict_targets_and_float32_default(methane_set):
    train, test = methane_set
    targets = {"energy": [a.get_potential_energy() for a in train[:8]],
               "forces": [a.get_forces() for a in train[:8]]}
    bare = [Atoms(a.symbols, a.positions) for a in train[:8]]
    model = EquivariantGNN(channels=4, lmax=1, n_layers=1, epochs=2).fit(bare, targets)
    assert next(model.module_.parameters()).dtype.is_floating_point
    assert str(next(model.module_.parameters()).dtype) == "torch.float32"
    assert np.all(np.isfinite(model.predict(test).mean))


# --- bad input: clear errors that name the structure ------------------------------------------
def _tiny() -> EquivariantGNN:
    return EquivariantGNN(channels=4, lmax=1, n_layers=1, epochs=1, dtype="float64")


def test_empty_inputs_are_refused():
    with pytest.raises(ValueError, match="empty"):
        _tiny().fit([], [])
    good = labelled(molecule("H2O"))
    with pytest.raises(ValueError, match="structure 1 has no atoms"):
        _tiny().fit([good, Atoms()], [1.0, 2.0])


def test_atoms_too_close_are_refused_by_index():
    good = labelled(molecule("H2O"))
    bad = molecule("H2O")
    bad.positions[1] = bad.positions[0] + [0.05, 0.0, 0.0]
    with pytest.raises(ValueError, match=r"structure 2: atoms 0 and 1 are 0\.05 Å apart"):
        _tiny().fit([good, good, bad], [1.0, 2.0, 3.0])


def test_nan_label_is_refused_by_index():
    data = rattled(("H2O",), 3, seed=11)
    with pytest.raises(ValueError, match=r"structure 1 has a non-finite .*'energy'"):
        _tiny().fit(data, [1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="3 'energy' labels for 2 structures"):
        _tiny().fit(data[:2], [1.0, 2.0, 3.0])


def test_unknown_element_at_predict_is_refused_by_index():
    model = _tiny().fit(rattled(("H2O",), 3, seed=12))
    with pytest.raises(ValueError, match=r"structure 1 contains N \(Z=7\).*known: H, O"):
        model.predict([molecule("H2O"), molecule("NH3")])


def test_forces_need_an_energy_model():
    model = EquivariantGNN(target="energy_per_atom", channels=4, lmax=1, n_layers=1,
                           epochs=1).fit(rattled(("H2O",), 3, seed=13))
    with pytest.raises(ValueError, match="target='energy'"):
        model.calculator()


@pytest.mark.slow
def test_aspirin_relaxation_and_md_are_stable():
    """A model fitted on GFN2-xTB labels of displaced aspirin relaxes it and runs 300 K
    Langevin MD stably: the thermostat holds the temperature and no bond breaks or collapses.

    (xTB, not EMT: EMT has no stable aspirin, so a faithful EMT model slides downhill and
    heats up whatever the calculator does.)
    """
    from ase import units
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    from physics import XTB, smiles_to_atoms

    base = smiles_to_atoms("CC(=O)Oc1ccccc1C(=O)O", seed=0)
    xtb = XTB(n_threads=1)
    rng = np.random.default_rng(30)
    data = []
    for _ in range(80):
        atoms = base.copy()
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        res = xtb.evaluate_one(atoms)
        atoms.calc = SinglePointCalculator(atoms, energy=float(res["energy"]),
                                           forces=np.asarray(res["forces"]))
        data.append(atoms)
    model = EquivariantGNN(**{**SMALL, "dtype": "float32"}, epochs=40, lr=1e-2).fit(data[:70])
    f_true = np.concatenate([a.get_forces() for a in data[70:]])
    f_pred = np.concatenate(model.predict_forces(data[70:]))
    assert np.abs(f_pred - f_true).mean() < 0.5 * np.abs(f_true).mean()
    atoms = data[70].copy()
    atoms.calc = model.calculator()
    e0 = atoms.get_potential_energy()
    BFGS(atoms, logfile=None, maxstep=0.05).run(fmax=0.1, steps=100)
    assert atoms.get_potential_energy() < e0
    bonds = base.get_all_distances() < 1.6  # covalent pairs of the starting geometry
    np.fill_diagonal(bonds, False)
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(31))
    dyn = Langevin(atoms, 0.5 * units.fs, temperature_K=300, friction=0.02 / units.fs,
                   rng=np.random.default_rng(32))
    temperatures = []
    for _ in range(10):
        dyn.run(20)
        temperatures.append(atoms.get_temperature())
    d = atoms.get_all_distances()
    assert np.isfinite(atoms.get_potential_energy())
    assert d[np.triu_indices(len(atoms), 1)].min() > 0.8, "atoms collapsed together"
    assert d[bonds].max() < 2.0, "a covalent bond broke"
    assert np.mean(temperatures[5:]) < 600, temperatures  # 300 K bath; runaway heats
