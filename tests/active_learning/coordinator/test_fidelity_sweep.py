"""``[fidelity] sweep`` and ``inputs``: the cheap judge covers the pool, and the teacher reads
its values (a GP with extra inputs) and learns the expensive − cheap residual.

Both judges are lookup tables written here, so the test is fast and the truth is known: the
expensive value is the cheap one plus a smooth correction in molecular size, and a second cheap
column carries a signal the SMILES alone do not.
"""

from __future__ import annotations

import numpy as np
import pytest

from active_learning import CampaignConfig
from active_learning._coordinator._campaign import Campaign
from active_learning._ledger._keys import round_key
from active_learning._ledger._session import open_session
from surrogates import load_model

SMILES = ["C" * k + s for k in range(1, 9) for s in ("", "O", "N", "C(=O)O", "c1ccccc1")]


def _tables(folder):
    from rdkit import Chem

    rng = np.random.default_rng(2)
    n = len(SMILES)
    heavy = np.array([Chem.MolFromSmiles(s).GetNumHeavyAtoms() for s in SMILES], float)
    aux = rng.normal(size=n)  # what only the cheap judge knows
    cheap = 0.5 * heavy + 2.0 * aux
    truth = cheap + 0.05 * heavy**1.5  # the expensive judge: cheap + a smooth correction
    ids = [f"m{i:02d}" for i in range(n)]
    (folder / "pool.smi").write_text("".join(f"{s} {i}\n" for s, i in zip(SMILES, ids)))
    (folder / "cheap.csv").write_text("id,y,aux\n" + "".join(
        f"{i},{c:.10f},{a:.10f}\n" for i, c, a in zip(ids, cheap, aux)))
    (folder / "exp.csv").write_text("id,y\n" + "".join(
        f"{i},{t:.10f}\n" for i, t in zip(ids, truth)))
    return ids, truth


def _config(folder, surrogate="gp", inputs='["y", "aux"]', sweep=1.0):
    text = (f'[campaign]\nname = "sweep"\nobjective = "y"\ndirection = "maximize"\n'
            f'budget = 12\nbatch_size = 3\ninitial = 6\nseed = 0\n'
            f'[pool]\nkind = "molecules"\npath = "pool.smi"\nsimulator_input = "id"\n'
            f'[simulator]\nkind = "lookup"\npath = "exp.csv"\nvalue_column = "y"\n'
            f'[fidelity]\nkind = "lookup"\npath = "cheap.csv"\nvalue_column = ["y", "aux"]\n'
            f'sweep = {sweep}\ninputs = {inputs}\nuse_as_feature = true\n'
            f'[surrogate]\nkind = "{surrogate}"\n' +
            ('n_bits = 128\ndescriptors = ["MolWt"]\nn_restarts = 1\n' if surrogate == "gp"
             else "") +
            '[acquisition]\nkind = "greedy"\n')
    (folder / "sweep.toml").write_text(text)
    return folder / "sweep.toml"


def test_a_full_sweep_feeds_the_cheap_values_to_the_teacher(tmp_path):
    ids, truth = _tables(tmp_path)
    cfg = _config(tmp_path)
    summary = Campaign.from_toml(cfg, progress=False).run()
    session = open_session(cfg)
    cheap = session.cheap.records()
    assert len(cheap) == len(SMILES) and all(r.ok for r in cheap.values())  # the whole pool
    assert cheap[0].values["aux"] == pytest.approx(float(
        (tmp_path / "cheap.csv").read_text().split()[1].split(",")[2]))
    attrs = session.ledger.attrs()
    plan = attrs[round_key(1)]
    assert plan["fidelity"]["cheap_calls"] == len(SMILES)  # paid once, in the first round
    assert attrs[round_key(2)]["fidelity"]["cheap_calls"] == 0
    teacher = load_model(plan["artifacts"][0])
    assert tuple(teacher.extra_inputs) == ("y", "aux")  # the cheap values were inputs
    # Δ-learning + inputs: 12 expensive calls of 40 find the true best 3
    top3 = {ids[i] for i in np.argsort(-truth)[:3]}
    found = {t["id"] for t in summary["trials"] if t["state"] == "COMPLETE"}
    assert top3 <= found


def test_inputs_need_a_surrogate_that_reads_them_and_values_the_judge_returns(tmp_path):
    from tests.active_learning import _fakes  # noqa: F401  (registers scout-test-rff)

    _tables(tmp_path)
    with pytest.raises(ValueError, match=r"surrogate kind 'scout-test-rff' cannot read .* gp"):
        CampaignConfig.from_toml(_config(tmp_path, surrogate="scout-test-rff"))
    with pytest.raises(ValueError, match=r"fidelity.inputs: 'homo' is not a value .* y, aux"):
        CampaignConfig.from_toml(_config(tmp_path, inputs='["homo"]'))
    with pytest.raises(ValueError, match=r"fidelity.sweep must be <= 1"):
        CampaignConfig.from_toml(_config(tmp_path, sweep=1.5))
