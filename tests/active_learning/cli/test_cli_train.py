"""``scout train``: extxyz in, model file + training curve out; bad input → exit 2, one line."""

from __future__ import annotations

import numpy as np
import pytest
from ase.io import write
from click.testing import CliRunner

from active_learning._cli._train import train
from surrogates import EquivariantGNN
from tests.surrogates._gnn_data import rattled


@pytest.fixture
def xyz(tmp_path):
    path = tmp_path / "frames.xyz"
    write(path, rattled(("H2O", "CH4"), 4, seed=20), format="extxyz")
    return path


def test_train_writes_a_loadable_model_and_a_curve(xyz, tmp_path):
    out = tmp_path / "m.safetensors"
    args = [str(xyz), "--epochs", "2", "--out", str(out), "-o", "channels=4", "-o", "lmax=1",
            "-o", "n_layers=1", "-o", "dtype=float64"]
    result = CliRunner().invoke(train, args)
    assert result.exit_code == 0, result.output
    assert "training curve written" in result.output
    # progress: one line per epoch while it trains (shown on a pipe too, not only on a TTY)
    epochs = [ln for ln in result.stderr.splitlines() if ln.startswith("epoch ")]
    assert [ln.split(":")[0] for ln in epochs] == ["epoch 1/2", "epoch 2/2"], result.stderr
    assert "train_loss" in epochs[0]
    model = EquivariantGNN.load(out)
    assert model.channels == 4 and model.dtype == "float64" and len(model.history_) == 2
    png = tmp_path / "m_curve.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    from ase.io import read

    frames = read(xyz, index=":")
    assert np.all(np.isfinite(model.predict(frames).mean))


def test_unknown_option_is_a_clear_error(xyz, monkeypatch):
    from active_learning import cli
    from active_learning.cli import main

    runner = CliRunner()
    monkeypatch.setitem(cli.COMMANDS, "train", "active_learning._cli._train:train")
    result = runner.invoke(main, ["train", str(xyz), "-o", "chanels=4"])
    assert result.exit_code == 2
    assert "'chanels' is not a parameter of 'gnn'" in result.output
    result = runner.invoke(main, ["train", str(xyz), "--kind", "nope"])
    assert result.exit_code == 2 and "not a surrogate of atoms" in result.output


def test_options_read_json_then_python_literals_then_words():
    from active_learning._cli._simulate import parse_options

    assert parse_options(("channels=16", "relax=true", "targets=[\"gap\"]", "hidden=(64, 32)",
                          "dtype=float64", "method=GFN1-xTB", "seed=None")) == {
        "channels": 16, "relax": True, "targets": ["gap"], "hidden": (64, 32),
        "dtype": "float64", "method": "GFN1-xTB", "seed": None}
    with pytest.raises(ValueError, match="'channels' is not KEY=VALUE"):
        parse_options(("channels",))
