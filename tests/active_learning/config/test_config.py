"""CampaignConfig: sections, defaults, clear errors, path handling, round trip, fuzzing."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import physics
import surrogates
from active_learning import CampaignConfig
from surrogates import Prediction, Surrogate


class _Sim(physics.Simulator):
    """Stands in for a registered simulator: a signature and targets are all config reads."""

    targets: ClassVar[tuple[str, ...]] = ("gap", "energy")

    def __init__(self, method: str = "GFN2-xTB", table_path: str | None = None) -> None:
        self.method, self.table_path = method, table_path

    def evaluate_one(self, candidate):
        return {"gap": 1.0, "energy": -1.0}


class _Model(Surrogate):
    input_kind = "smiles"

    def __init__(self, hidden: int = 8, random_state: int = 0) -> None:
        self.hidden, self.random_state = hidden, random_state

    def fit(self, X, y=None):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return Prediction(np.full(len(X), self.mean_))


@pytest.fixture(autouse=True)
def _registries(monkeypatch):
    monkeypatch.setitem(physics.SIMULATORS, "_test_sim", _Sim)
    monkeypatch.setitem(surrogates.SURROGATES, "_test_model", _Model)
    monkeypatch.delenv("SCOUT_STORAGE", raising=False)


def _base(tmp: Path) -> dict:
    (tmp / "lib.smi").write_text("CCO ethanol\nc1ccccc1 benzene\n")
    return {
        "campaign": {"name": "demo", "objective": "gap", "direction": "minimize",
                     "budget": 20, "batch_size": 4},
        "pool": {"kind": "molecules", "path": "lib.smi"},
        "simulator": {"kind": "_test_sim", "method": "GFN1-xTB"},
        "surrogate": {"kind": "_test_model", "ensemble": 3, "hidden": 16},
        "compression": {"enabled": True, "student": {"kind": "_test_model", "hidden": 4},
                        "prune_amount": 0.3},
        "acquisition": {"kind": "ucb", "beta": 1.0, "diversity": "cluster"},
    }


def test_from_dict_defaults_and_round_trip(tmp_path):
    cfg = CampaignConfig.from_dict(_base(tmp_path), tmp_path)
    c = cfg.campaign
    assert (c.initial, c.seed, c.workers, c.max_retries, c.top_k) == (4, 0, 1, 2, 10)
    assert cfg.storage == f"sqlite:///{tmp_path / 'demo.db'}"
    assert cfg.pool.path == tmp_path / "lib.smi" and cfg.pool.format == "smi"
    assert cfg.pool.simulator_input == "smiles"
    assert dict(cfg.simulator.options) == {"method": "GFN1-xTB"}
    assert cfg.surrogate.ensemble == 3 and dict(cfg.surrogate.options) == {"hidden": 16}
    assert cfg.acquisition.diversity_or_none == "cluster"
    assert cfg.artifacts_dir == tmp_path / "demo.artifacts"
    student = cfg.compression.build_student(random_state=7)
    assert isinstance(student, _Model) and (student.hidden, student.random_state) == (4, 7)
    assert CampaignConfig.from_dict(cfg.to_dict(), tmp_path) == cfg
    ens = cfg.surrogate.build(random_state=5)
    assert ens.n_members == 3 and ens.estimator.hidden == 16 and ens.random_state == 5
    with pytest.raises(Exception, match=r"frozen|cannot assign"):
        cfg.campaign.budget = 3  # type: ignore[misc]


def test_from_toml_name_defaults_to_stem_and_paths_are_relative(tmp_path):
    sub = tmp_path / "proj"
    sub.mkdir()
    (sub / "lib.smi").write_text("CCO\n")
    (sub / "run.toml").write_text(
        '[campaign]\nobjective = "gap"\ndirection = "maximize"\nbudget = 8\nbatch_size = 2\n'
        'storage = "sqlite:///runs/x.db"\n'
        '[pool]\nkind = "molecules"\npath = "lib.smi"\n'
        '[simulator]\nkind = "_test_sim"\n[surrogate]\nkind = "_test_model"\n'
        '[fidelity]\nkind = "_test_sim"\nobjective = "energy"\nper_round = 6\n')
    cfg = CampaignConfig.from_toml(sub / "run.toml")
    assert cfg.name == "run" and cfg.base_dir == sub
    assert cfg.storage == f"sqlite:///{sub / 'runs' / 'x.db'}"  # relative to the config file
    assert cfg.fidelity is not None and cfg.fidelity.per_round == 6
    assert cfg.fidelity.simulator.kind == "_test_sim" and cfg.fidelity.objective == "energy"
    assert CampaignConfig.from_dict(cfg.to_dict(), cfg.base_dir) == cfg


def test_storage_env_override_and_redaction(tmp_path, monkeypatch):
    monkeypatch.setenv("SCOUT_STORAGE", "postgresql://alice:s3cr3t@db.example:5432/scout")
    cfg = CampaignConfig.from_dict(_base(tmp_path), tmp_path)
    assert cfg.storage.endswith("alice:s3cr3t@db.example:5432/scout")
    assert cfg.redacted_storage == "postgresql://alice:***@db.example:5432/scout"
    assert "s3cr3t" not in cfg.redacted_storage and "s3cr3t" not in repr(cfg.redacted_storage)
    monkeypatch.setenv("SCOUT_STORAGE", "journal:///runs/ledger.log")  # relative to the config
    assert CampaignConfig.from_dict(_base(tmp_path), tmp_path).storage == \
        f"journal:///{tmp_path / 'runs' / 'ledger.log'}"


@pytest.mark.parametrize(("section", "patch", "match"), [
    ("campaign", {"budgett": 3}, r"campaign\.budgett.*allowed keys.*budget"),
    ("pool", {"smiles_col": "s"}, r"pool\.smiles_col.*smiles_column"),
    ("simulator", {"methd": "x"}, r"simulator\.methd.*method"),
    ("surrogate", {"hiden": 3}, r"surrogate\.hiden.*hidden"),
    ("compression", {"prune": 0.1}, r"compression\.prune.*prune_amount"),
    ("compression", {"student": {"hidden": 4}}, r"missing required key compression\.student\.kind"),
    ("compression", {"student": {"kind": "_test_model", "hiden": 4}},
     r"compression\.student\.hiden.*hidden"),
    ("acquisition", {"betta": 1}, r"acquisition\.betta.*beta"),
    ("simulator", {"kind": "nope"}, r"simulator\.kind = 'nope'.*_test_sim"),
    ("surrogate", {"kind": "nope"}, r"surrogate\.kind = 'nope'.*_test_model"),
    ("acquisition", {"kind": "nope"}, r"acquisition\.kind = 'nope'.*ei, greedy, pi"),
    ("campaign", {"budget": "ten"}, r"campaign\.budget must be an integer"),
    ("campaign", {"budget": True}, r"campaign\.budget must be an integer"),
    ("campaign", {"initial": 50}, r"campaign\.initial \(50\) exceeds"),
    ("campaign", {"target": [1.0, 2.0]}, r"exactly one of direction"),
    ("campaign", {"objective": "dipole"}, r"campaign\.objective = 'dipole'.*gap"),
    ("campaign", {"name": "../evil"}, r"campaign\.name"),
    ("campaign", {"direction": "down"}, r"campaign\.direction = 'down'"),
    ("compression", {"screen_fraction": 1.5}, r"compression\.screen_fraction must be <= 1"),
])
def test_bad_values_name_the_key(tmp_path, section, patch, match):
    data = _base(tmp_path)
    data[section] = {**data[section], **patch}
    with pytest.raises(ValueError, match=match):
        CampaignConfig.from_dict(data, tmp_path)


def test_unknown_section_and_missing_section(tmp_path):
    data = _base(tmp_path)
    with pytest.raises(ValueError, match=r"unknown section \[fidelty\].*fidelity"):
        CampaignConfig.from_dict({**data, "fidelty": {}}, tmp_path)
    del data["simulator"]
    with pytest.raises(ValueError, match=r"missing section \[simulator\]"):
        CampaignConfig.from_dict(data, tmp_path)


def test_missing_files_name_key_and_resolved_path(tmp_path):
    data = _base(tmp_path)
    data["pool"]["path"] = "sub/none.smi"
    with pytest.raises(FileNotFoundError, match=r"pool\.path.*" + str(tmp_path / "sub")):
        CampaignConfig.from_dict(data, tmp_path)
    data = _base(tmp_path)
    data["simulator"]["table_path"] = "table.csv"
    with pytest.raises(FileNotFoundError, match=r"simulator\.table_path.*table\.csv"):
        CampaignConfig.from_dict(data, tmp_path)
    (tmp_path / "table.csv").write_text("id,score\n")
    cfg = CampaignConfig.from_dict(data, tmp_path)
    assert cfg.simulator.options["table_path"] == str(tmp_path / "table.csv")
    with pytest.raises(FileNotFoundError, match="config file"):
        CampaignConfig.from_toml(tmp_path / "absent.toml")
    (tmp_path / "bad.toml").write_text("[campaign\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        CampaignConfig.from_toml(tmp_path / "bad.toml")


def test_target_window_and_sequence_library(tmp_path):
    data = _base(tmp_path)
    del data["campaign"]["direction"]
    data["campaign"]["target"] = [1.5, 2.5]
    data["pool"] = {"kind": "sequences", "sites": {"2": "AC", "4": "*"}, "wild_type": "MKLV"}
    cfg = CampaignConfig.from_dict(data, tmp_path)
    assert cfg.campaign.target == (1.5, 2.5) and cfg.campaign.direction is None
    assert cfg.pool.sites == ((2, "AC"), (4, "ACDEFGHIKLMNPQRSTVWY"))
    assert cfg.pool.simulator_input == "sequence"
    assert CampaignConfig.from_dict(cfg.to_dict(), tmp_path) == cfg
    data["pool"]["sites"] = {"9": "AC"}
    with pytest.raises(ValueError, match=r"pool\.sites\.9 lies beyond"):
        CampaignConfig.from_dict(data, tmp_path)
    data["pool"] = {"kind": "sequences", "sites": {"1": "AA"}}
    with pytest.raises(ValueError, match=r"pool\.sites\.1: residue 'A' appears twice"):
        CampaignConfig.from_dict(data, tmp_path)
    data["pool"] = {"kind": "sequences", "sites": {"1": "AC", "3": "AC"}}
    with pytest.raises(ValueError, match="position 2 is missing"):
        CampaignConfig.from_dict(data, tmp_path)


def test_declared_input_kind_and_targets_decide_simulator_input_and_objective(
        tmp_path, monkeypatch):
    class _Table(physics.Simulator):  # any kind name: only its declarations count
        input_kind = "id"

        @classmethod
        def targets_for(cls, options):
            return (options.get("value_column", "score"),)

        def __init__(self, path: str, key_column: str = "id", value_column: str = "score"):
            self.path = path

        def evaluate_one(self, candidate):
            return {}

    monkeypatch.setitem(physics.SIMULATORS, "my-table", _Table)
    (tmp_path / "t.csv").write_text("id,score\n")
    data = _base(tmp_path)
    data["simulator"] = {"kind": "my-table", "path": "t.csv", "value_column": "score"}
    data["campaign"]["objective"] = "score"
    cfg = CampaignConfig.from_dict(data, tmp_path)
    assert cfg.pool.simulator_input == "id"  # a lookup table is keyed by id
    data["campaign"]["objective"] = "gap"
    with pytest.raises(ValueError, match=r"campaign\.objective = 'gap'.*score"):
        CampaignConfig.from_dict(data, tmp_path)


# --- fuzzing: whatever the dict, only ValueError / FileNotFoundError, with a message -----------
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)
_KEYS = ["name", "objective", "direction", "target", "budget", "batch_size", "initial", "kind",
         "path", "sites", "wild_type", "ensemble", "beta", "diversity", "student", "storage",
         "enabled", "screen_fraction", "id_column", "feature_columns", "format", "hidden"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(section=st.sampled_from(["campaign", "pool", "simulator", "surrogate", "compression",
                                "acquisition", "fidelity", "extra"]),
       key=st.one_of(st.sampled_from(_KEYS), st.text(max_size=6)), value=_values,
       drop=st.booleans())
def test_fuzzed_configs_fail_cleanly(tmp_path, section, key, value, drop):
    data = copy.deepcopy(_base(tmp_path))
    table = data.setdefault(section, {})
    if drop and key in table:
        del table[key]
    else:
        table[key] = value
    try:
        cfg = CampaignConfig.from_dict(data, tmp_path)
    except (ValueError, FileNotFoundError) as exc:
        assert str(exc).strip()
    else:
        assert CampaignConfig.from_dict(cfg.to_dict(), tmp_path) == cfg


@settings(max_examples=60, deadline=None)
@given(data=st.dictionaries(st.text(max_size=10), _values, max_size=4))
def test_fuzzed_whole_dicts_fail_cleanly(data):
    try:
        CampaignConfig.from_dict(data, Path("/nonexistent-base"))
    except (ValueError, FileNotFoundError) as exc:
        assert str(exc).strip()


def test_a_model_with_its_own_posterior_defaults_to_one_member(tmp_path):
    data = _base(tmp_path)
    data["surrogate"] = {"kind": "gp", "n_bits": 512}
    cfg = CampaignConfig.from_dict(data, tmp_path)
    model = cfg.surrogate.build(random_state=4)
    assert cfg.surrogate.ensemble == 1 and isinstance(model, surrogates.MoleculeGP)
    assert (model.n_bits, model.random_state) == (512, 4)
    data["surrogate"] = {"kind": "_test_model"}  # no std of its own: an ensemble of 5
    assert CampaignConfig.from_dict(data, tmp_path).surrogate.ensemble == 5
