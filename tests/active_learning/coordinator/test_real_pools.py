"""GNN campaigns on pools a user really has: a rare element, a molecule RDKit cannot embed.

Both stopped a QM9 campaign before this was fixed: ``structure 14 is a NoneType`` (an
unembeddable molecule picked at random in round 0 reached the teacher) and ``structure 27
contains F, an element not seen in training``. The pool here is small QM9-like molecules
written for the test; the judge is a lookup table of a property RDKit computes (TPSA, Å²).
"""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from active_learning._ledger._keys import POOL_FAILURES_KEY, round_key
from active_learning._ledger._session import open_session
from active_learning.cli import main

#: mostly C/H/N/O; fluorine in two molecules, sulfur in one; the last cannot be embedded
COMMON = ["CCO", "CCCO", "CCCCO", "CC(C)O", "OCCO", "CCN", "CCCN", "NCCN", "CC(=O)O",
          "CC(=O)N", "CC(=O)C", "CCOC", "COCCO", "C1CCCCC1", "C1CCCC1", "C1CCOC1",
          "C1CCNCC1", "c1ccccc1", "Cc1ccccc1", "Oc1ccccc1", "Nc1ccccc1", "c1ccncc1",
          "c1ccoc1", "c1cc[nH]c1", "CC#N", "CCC#N", "C#CCO", "O=CC=O", "CC(O)CO",
          "NC(=O)CO", "CN(C)C=O", "OC1CCCC1", "CC1CCCO1", "c1cnccn1", "CCOC(C)=O",
          "CC(=O)OC"]
RARE = ["FC(F)CO", "Fc1ccccc1", "CCS"]
UNEMBEDDABLE = "CC12CCC3(CCC13)O2"


def _write_campaign(folder):
    from rdkit import Chem
    from rdkit.Chem import Descriptors

    smiles = COMMON + RARE + [UNEMBEDDABLE]
    rows = [f"m{i:02d},{s},{Descriptors.TPSA(Chem.MolFromSmiles(s)):.4f}"
            for i, s in enumerate(smiles)]
    (folder / "pool.csv").write_text("id,smiles,tpsa\n" + "\n".join(rows) + "\n")
    (folder / "qm9ish.toml").write_text(
        '[campaign]\nname = "qm9ish"\nobjective = "tpsa"\ndirection = "maximize"\n'
        'budget = 16\nbatch_size = 4\ninitial = 8\nseed = 0\n'
        '[pool]\nkind = "molecules"\npath = "pool.csv"\nid_column = "id"\n'
        'smiles_column = "smiles"\n'
        '[simulator]\nkind = "lookup"\npath = "pool.csv"\nkey_column = "id"\n'
        'value_column = "tpsa"\n'
        '[surrogate]\nkind = "gnn"\nensemble = 2\ntarget = "tpsa"\nextensive = false\n'
        'lmax = 1\nchannels = 4\nn_layers = 1\nepochs = 6\nbatch_size = 8\n'
        'dtype = "float64"\n'
        '[acquisition]\nkind = "ucb"\n')
    return folder / "qm9ish.toml", smiles


def test_gnn_campaign_survives_a_rare_element_and_an_unembeddable_molecule(tmp_path):
    cfg, smiles = _write_campaign(tmp_path)
    result = CliRunner().invoke(main, ["run", str(cfg)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    session = open_session(cfg)
    attrs = session.ledger.attrs()
    # the molecule RDKit cannot embed was known before the first design, with its reason,
    # and never simulated
    failures = attrs[POOL_FAILURES_KEY]
    assert list(failures) == [f"m{len(smiles) - 1:02d}"]
    assert "3D embedding failed" in failures[f"m{len(smiles) - 1:02d}"]
    records = session.ledger.records()
    assert len(smiles) - 1 not in records
    assert len(records) == 16 and all(r.state == "COMPLETE" for r in records.values())
    # round 0 held no fluorine, so round 1's teacher predicted F molecules it had never seen
    first = attrs[round_key(0)]["batch"]
    fluorinated = [i for i, s in enumerate(smiles) if "F" in s]
    assert not set(first) & set(fluorinated)
    # ... and every later round ran (nothing was refused on the way)
    assert all(round_key(r, done=True) in attrs for r in range(3))
    status = CliRunner().invoke(main, ["status", str(cfg), "--json"])
    assert status.exit_code == 0 and json.loads(status.output)["evaluations"] == 16


def test_an_unseen_element_is_predicted_with_more_spread():
    """The teacher knows every pool element up front; an element no label has gets a
    reference drawn per member, so the ensemble disagrees about it (honest uncertainty)."""
    from physics import smiles_to_atoms
    from surrogates import Ensemble, EquivariantGNN

    train = [smiles_to_atoms(s) for s in COMMON[:24]]
    y = np.array([len(a) / 10.0 for a in train])
    model = Ensemble(EquivariantGNN(target="size", extensive=False, lmax=1, channels=4,
                                    n_layers=1, epochs=5, dtype="float64",
                                    elements=[1, 6, 7, 8, 9, 16]), n_members=4)
    model.fit(train, y)
    known = model.predict([smiles_to_atoms("CCCCN")])
    rare = model.predict([smiles_to_atoms("FC(F)(F)CCN")])
    assert np.isfinite(rare.mean).all()
    assert rare.std[0] > 3 * known.std[0]
