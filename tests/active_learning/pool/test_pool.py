"""Pools: ids, forms, errors naming the item, the 3D cache, lazy combinatorial libraries."""

from __future__ import annotations

import gzip
import itertools
import tracemalloc

import ase
import ase.db
import ase.io
import numpy as np
import pytest

from active_learning import DesignPool, MoleculePool, Pool, SequencePool
from active_learning._config._pool import AMINO_ACIDS, PoolConfig


class _CountingBuilder:
    """The real ``physics.smiles_to_atoms``, counting calls (to see the cache work)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, smiles: str) -> ase.Atoms:
        from physics import smiles_to_atoms

        self.calls.append(smiles)
        return smiles_to_atoms(smiles)


# --- molecules -----------------------------------------------------------------------------
def test_smi_pool_ids_forms_and_errors(tmp_path):
    path = tmp_path / "lib.smi"
    path.write_text("# a comment\nCCO ethanol\nOCC ethanol_again\nC#N hcn\n")
    pool = MoleculePool.from_file(path)
    assert len(pool) == 3 and list(pool.ids) == ["ethanol", "ethanol_again", "hcn"]
    assert pool.index_of("hcn") == 2 and pool.ids_at([2, 0]) == ["hcn", "ethanol"]
    assert pool.get([1], "smiles") == ["OCC"] and pool.get([1], "simulator") == ["OCC"]
    fp = pool.get([0, 1, 2], "vector")
    assert fp.shape == (3, 2048)
    np.testing.assert_array_equal(fp[0], fp[1])  # one molecule, two SMILES: one fingerprint
    assert fp[0].sum() > 0 and not np.array_equal(fp[0], fp[2])
    with pytest.raises(ValueError, match="'caffeine' is not in this molecules pool"):
        pool.index_of("caffeine")
    with pytest.raises(ValueError, match=r"index 7 .*outside this pool of 3"):
        pool.get([0, 7], "smiles")
    with pytest.raises(ValueError, match="got 'sequence'"):
        pool.get([0], "sequence")


def test_duplicate_ids_name_the_id_and_both_rows(tmp_path):
    path = tmp_path / "lib.smi"
    path.write_text("CCO a\nCCC b\nCCN a\n")
    with pytest.raises(ValueError, match=r"duplicate id 'a' at rows 0 and 2"):
        MoleculePool.from_file(path)
    csv = tmp_path / "lib.csv"
    csv.write_text("smiles,name\nCCO,x\nCCC,y\nCCCC,y\n")
    with pytest.raises(ValueError, match=r"duplicate id 'y' at rows 1 and 2"):
        MoleculePool.from_file(csv, id_column="name")


def test_empty_pools_are_refused(tmp_path):
    (tmp_path / "empty.smi").write_text("# nothing here\n\n")
    with pytest.raises(ValueError, match="empty"):
        MoleculePool.from_file(tmp_path / "empty.smi")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueError, match="empty"):
        SequencePool.from_file(tmp_path / "empty.txt")
    with pytest.raises(ValueError, match="empty"):
        DesignPool(np.zeros((0, 3)))


def test_csv_gz_pool_with_columns(tmp_path):
    path = tmp_path / "lib.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("smiles,score\nCCO,-1.5\nc1ccccc1,-3.0\n")
    pool = MoleculePool.from_file(path)  # no id column: the SMILES is the id
    assert list(pool.ids) == ["CCO", "c1ccccc1"] and pool.index_of("c1ccccc1") == 1
    with pytest.raises(ValueError, match=r"no column 'smi'.*smiles, score"):
        MoleculePool.from_file(path, smiles_column="smi")


def test_atoms_are_built_once_cached_and_failures_recorded(tmp_path):
    cache = tmp_path / "cache" / "atoms.db"
    builder = _CountingBuilder()
    pool = MoleculePool(["CCO", "not-a-smiles", "C"], ["e", "bad", "m"], cache_path=cache,
                        builder=builder)
    atoms = pool.get([0, 1, 2], "atoms")
    assert atoms[1] is None
    assert atoms[0].get_chemical_formula() == "C2H6O" and atoms[2].get_chemical_formula() == "CH4"
    assert atoms[0].info["pool_id"] == "e"
    assert list(pool.failures()) == ["bad"] and "not-a-smiles" in pool.failures()["bad"]
    np.testing.assert_array_equal(pool.failed_indices(), [1])
    pool.get([0], "atoms")
    assert len(builder.calls) == 3  # each built once
    # a new pool (a resumed campaign) reads the cache: no rebuilding, same geometry
    builder2 = _CountingBuilder()
    again = MoleculePool(["CCO", "not-a-smiles", "C"], ["e", "bad", "m"], cache_path=cache,
                         builder=builder2)
    assert again.failures() == pool.failures()
    re_atoms = again.get([0, 2], "atoms")
    assert builder2.calls == []
    np.testing.assert_allclose(re_atoms[0].positions, atoms[0].positions)
    assert re_atoms[0].info["smiles"] == atoms[0].info["smiles"]
    # the same id with another SMILES is not served from the stale cache
    changed = MoleculePool(["CCN"], ["e"], cache_path=cache, builder=builder2)
    assert changed.get([0], "atoms")[0].get_chemical_formula() == "C2H7N"
    assert builder2.calls == ["CCN"]


def test_structure_pools_from_extxyz_and_ase_db(tmp_path):
    frames = [ase.Atoms("H2O", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]]),
              ase.Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]])]
    for name, a in zip(["water", "hydrogen"], frames):
        a.info["name"] = name
    ase.io.write(tmp_path / "mols.xyz", frames, format="extxyz")
    pool = MoleculePool.from_file(tmp_path / "mols.xyz", id_column="name", simulator_input="atoms")
    assert list(pool.ids) == ["water", "hydrogen"]
    got = pool.get([1], "simulator")[0]
    assert got.get_chemical_formula() == "H2" and got.get_distance(0, 1) == pytest.approx(0.74)
    with ase.db.connect(tmp_path / "mols.db") as db:
        for a in frames:
            db.write(a, smiles="O" if len(a) == 3 else "[H][H]")
    dbpool = MoleculePool.from_file(tmp_path / "mols.db")
    assert list(dbpool.ids) == ["1", "2"] and dbpool.get([0], "smiles") == ["O"]
    assert dbpool.get([0], "atoms")[0].get_chemical_formula() == "H2O"


# --- sequences -----------------------------------------------------------------------------
def test_combinatorial_matches_itertools_product_both_ways():
    sites = {2: "AC", 4: "DEF", 5: "GH"}
    pool = SequencePool.combinatorial(sites, wild_type="MKLVW")
    # the slow reference: itertools.product enumerates in the same (last site fastest) order
    want = ["M" + a + "L" + b + c for a, b, c in itertools.product("AC", "DEF", "GH")]
    assert len(pool) == 12 and pool.get(np.arange(12), "sequence") == want
    assert pool.ids[0] == "K2A/V4D/W5G" and pool.ids[-1] == "K2C/V4F/W5H"
    for i, ident in enumerate(pool.ids):
        assert pool.index_of(ident) == i
    with pytest.raises(ValueError, match=r"'K2A/V4Z/W5G'.*residue 'Z' at site 4"):
        pool.index_of("K2A/V4Z/W5G")
    with pytest.raises(ValueError, match=r"'Q2A'.*not a mutation"):
        pool.index_of("Q2A")
    # the wild type at a site is an ordinary letter of its alphabet; all-wild-type is "WT"
    wt = SequencePool.combinatorial({1: "MA", 3: "LG"}, wild_type="MKL")
    assert wt.ids[0] == "WT" and wt.index_of("WT") == 0 and wt.ids[3] == "M1A/L3G"
    onehot = pool.get([0, 11], "vector")
    assert onehot.shape == (2, 7) and onehot.sum(axis=1).tolist() == [3.0, 3.0]


def test_combinatorial_huge_library_is_lazy():
    pool = SequencePool.combinatorial({i: "*" for i in range(1, 7)})
    assert len(pool) == 20**6 == 64_000_000
    i = 48_123_457
    seq = pool.get([i], "sequence")[0]
    digits = [AMINO_ACIDS.index(c) for c in seq]
    assert int(np.polyval(digits, 20)) == i  # mixed radix with radix 20 is base 20
    assert pool.index_of(seq) == i and pool.ids[i] == seq


def test_chunking_a_million_candidates_in_bounded_memory():
    pool = SequencePool.combinatorial({i: "ACDEFGHIKL" for i in range(1, 7)})  # 10⁶
    tracemalloc.start()
    try:
        count, last = 0, None
        for idx, items in pool.iter_chunks(20_000, "sequence"):
            assert len(idx) == len(items) <= 20_000
            count += len(items)
            last = items[-1]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 10**6 and last == "LLLLLL"
    assert peak < 25e6, f"peak {peak / 1e6:.1f} MB"  # all 10⁶ as str would be ~60 MB


def test_sequence_files(tmp_path):
    (tmp_path / "s.txt").write_text("v1 MKLV\nv2 MKAV\n")
    (tmp_path / "s.fasta").write_text(">v1 first\nMK\nLV\n>v2\nMKAV\n")
    (tmp_path / "s.csv").write_text("name,seq\nv1,MKLV\nv2,MKAV\n")
    pools = [SequencePool.from_file(tmp_path / "s.txt"), SequencePool.from_file(tmp_path / "s.fasta"),
             SequencePool.from_file(tmp_path / "s.csv", id_column="name", sequence_column="seq")]
    for pool in pools:
        assert list(pool.ids) == ["v1", "v2"] and pool.get([0, 1], "sequence") == ["MKLV", "MKAV"]
    onehot = pools[0].get([0, 1], "vector")  # letters A, K, L, M, V: 4 positions x 5
    assert onehot.shape == (2, 20) and onehot.sum() == 8.0
    (tmp_path / "bad.txt").write_text("MK1V\n")
    with pytest.raises(ValueError, match=r"sequence 0 \('MK1V'\)"):
        SequencePool.from_file(tmp_path / "bad.txt")


# --- designs and from_config ---------------------------------------------------------------
def test_design_pools(tmp_path):
    (tmp_path / "d.csv").write_text("id,x,y\na,1,2\nb,3,4.5\n")
    pool = DesignPool.from_file(tmp_path / "d.csv", id_column="id")
    np.testing.assert_array_equal(pool.get([1, 0], "vector"), [[3, 4.5], [1, 2]])
    assert pool.feature_names == ["x", "y"] and pool.index_of("b") == 1
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n3,oops\n")
    with pytest.raises(ValueError, match=r"data row 1 .*column 'y': 'oops'"):
        DesignPool.from_file(tmp_path / "bad.csv")
    np.save(tmp_path / "d.npy", np.arange(12.0).reshape(4, 3))
    npy = DesignPool.from_file(tmp_path / "d.npy")
    assert len(npy) == 4 and npy.index_of("3") == 3
    np.testing.assert_array_equal(npy.get([3], "simulator"), [[9.0, 10.0, 11.0]])


def test_from_config_builds_each_kind(tmp_path):
    (tmp_path / "lib.smi").write_text("CCO e\n")
    (tmp_path / "d.csv").write_text("x\n1\n")
    mols = Pool.from_config(PoolConfig.from_dict({"kind": "molecules", "path": "lib.smi"},
                                                 tmp_path, simulator_input_kind="id"), tmp_path)
    assert isinstance(mols, MoleculePool) and mols.get([0], "simulator") == ["e"]
    assert mols.cache_path == tmp_path / "pool_atoms.db"
    seqs = Pool.from_config(PoolConfig.from_dict({"kind": "sequences", "sites": {"1": "AC"}},
                                                 tmp_path))
    assert seqs.get([1], "simulator") == ["C"]
    designs = Pool.from_config(PoolConfig.from_dict({"kind": "designs", "path": "d.csv"},
                                                    tmp_path))
    assert designs.get([0], "vector").tolist() == [[1.0]]
