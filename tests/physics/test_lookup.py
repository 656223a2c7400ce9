"""LookupSimulator: values by id, missing values as failures, a private table."""

from __future__ import annotations

import gzip

import ase
import numpy as np
import pytest

from physics import LookupSimulator, SimulationError
from physics.testing import SimulatorConformance

TABLE = "id,score,logp\n007,-9.5,1.5\nb,-7.25,\nc,,0.5\nd,-6.0,2.0\n"


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text(TABLE)
    return path


class TestLookupConformance(SimulatorConformance):
    @pytest.fixture
    def simulator(self, table):
        return LookupSimulator(table)

    @pytest.fixture
    def good_candidates(self):
        return ["007", "d", ase.Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]], info={"id": "b"})]

    @pytest.fixture
    def bad_candidates(self):
        return ["c", "nope", None]


def test_values_and_failures(table):
    sim = LookupSimulator(table)
    res = sim.evaluate(["007", "b", "c", "zzz", 7, " d "])
    assert [r.value("score") for r in res[:2]] == [-9.5, -7.25]
    assert res[2].error == "no value for id c in table"  # NaN in the table
    assert res[3].error == "no value for id zzz in table"  # absent
    assert res[4].error == "no value for id 7 in table"  # ids are strings: 7 is not 007
    assert res[5].value("score") == -6.0


def test_several_columns_and_compressed_file(tmp_path):
    path = tmp_path / "scores.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(TABLE)
    sim = LookupSimulator(path, value_column=["score", "logp"])
    assert sim.targets == ("score", "logp")
    a, b = sim.evaluate(["007", "b"])
    assert a.values == {"score": -9.5, "logp": 1.5}
    assert not b.ok and "id b" in b.error  # logp missing for b


def test_atoms_id_from_key_column(table):
    mol = ase.Atoms("H", info={"id": "d"})
    assert LookupSimulator(table).evaluate([mol])[0].value("score") == -6.0
    (res,) = LookupSimulator(table).evaluate([ase.Atoms("H")])
    assert not res.ok and "info['id']" in res.error


def test_duplicates_rejected_or_resolved(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("id,score\na,1\nb,2\na,3\nb,5\nc,0\n")
    with pytest.raises(SimulationError, match=r"2 duplicate id\(s\).*'a', 'b'"):
        LookupSimulator(path)
    for how, expect in [("first", 1.0), ("min", 1.0), ("max", 3.0), ("mean", 2.0)]:
        assert LookupSimulator(path, duplicates=how).evaluate(["a"])[0].value("score") == expect


def test_the_table_stays_private(table):
    sim = LookupSimulator(table)
    text = repr(sim)
    assert "n_rows=4" in text and "-9.5" not in text
    public = {k: v for k, v in vars(sim).items() if not k.startswith("_")}
    assert not any(isinstance(v, (dict, list)) for v in public.values())
    truth = sim.truth()
    assert truth["score"]["007"] == -9.5 and np.isnan(truth["score"]["c"])


def test_misconfiguration_raises(table, tmp_path):
    with pytest.raises(SimulationError, match="does not exist"):
        LookupSimulator(tmp_path / "missing.csv")
    with pytest.raises(SimulationError, match=r"no column\(s\) \['energy'\]"):
        LookupSimulator(table, value_column="energy")
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(SimulationError, match="unknown format"):
        LookupSimulator(tmp_path / "t.txt")


def test_parquet(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    path = tmp_path / "scores.parquet"
    pd.DataFrame({"id": ["x", "y"], "score": [1.5, np.nan]}).to_parquet(path)
    a, b = LookupSimulator(path).evaluate(["x", "y"])
    assert a.value("score") == 1.5 and not b.ok
