"""Screener: build from a teacher, stream, save/load round trip, refusal of tampered files."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from surrogates import Ensemble, FingerprintSurrogate, Screener, load_model

#: a small generated pool: chains, alcohols, amines, acids and aryl versions of each
POOL = [pre + "C" * k + post for k in range(1, 9) for pre in ("", "c1ccccc1")
        for post in ("", "O", "N", "C(=O)O", "Cl")]


def _target(smi: str) -> float:
    """Hand-checkable property: carbons + 2 x heteroatoms (O, N, Cl)."""
    s = smi.replace("Cl", "X")
    return float(sum(ch in "Cc" for ch in s) + 2 * sum(ch in "ONX" for ch in s))


def _fp(**kw) -> FingerprintSurrogate:
    base = {"n_bits": 256, "hidden": (32,), "epochs": 80, "patience": 80, "lr": 3e-3,
            "device": "cpu", "random_state": 0}
    return FingerprintSurrogate(**{**base, **kw})


@pytest.fixture(scope="module")
def screener(tmp_path_factory):
    y = np.array([_target(s) for s in POOL])
    teacher = Ensemble(_fp(), n_members=2).fit(POOL[::2], y[::2])
    path = teacher.save(tmp_path_factory.mktemp("t") / "teacher.safetensors")
    return Screener.from_teacher(teacher, POOL, student=_fp(hidden=(16,)), prune_amount=0.5,
                                 teacher_path=path, random_state=0), teacher


def test_screener_reports_teacher_accuracy_and_speed(screener):
    s, teacher = screener
    assert s.input_kind == "smiles"
    assert s.teacher["class"] == "Ensemble" and len(s.teacher["file_sha256"]) == 64
    assert s.teacher["n_members"] == 2
    assert s.metrics["spearman"] > 0.8  # agrees with the teacher on held-out candidates
    assert s.throughput["candidates_per_s"] > 0 and s.throughput["parameters"] > 0
    assert s.config["pruning"]["sizes_after"] == [256, 8, 2]
    pred = s.score(POOL, batch_size=7, progress=False)
    assert pred.std is not None and len(pred) == len(POOL)  # std distilled from the ensemble
    t = teacher.predict(POOL).mean
    assert np.corrcoef(pred.mean, t)[0, 1] > 0.9


def test_round_trip_and_streaming(screener, tmp_path):
    s, _ = screener
    back = Screener.load(s.save(tmp_path / "screener.safetensors"))
    a = s.score(POOL, progress=False)
    b = back.score(iter(POOL), batch_size=5, progress=False)  # a generator, in chunks
    np.testing.assert_allclose(b.mean, a.mean, rtol=1e-5, atol=1e-5)
    assert back.teacher == s.teacher and back.metrics == s.metrics
    assert type(back.model.net_.layers[0]).__name__ == type(s.model.net_.layers[0]).__name__
    order = back.rank(POOL, top=3)
    assert set(order) == set(np.argsort(-a.mean)[:3])


def test_bad_candidate_is_named_by_pool_index(screener):
    s, _ = screener
    pool = [*POOL[:9], "C1CC(", *POOL[9:12]]
    with pytest.raises(ValueError, match="candidate 9: invalid SMILES"):
        s.score(pool, batch_size=4, progress=False)


def test_tampered_screener_file_is_refused_and_payload_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class _Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    bad = tmp_path / "screener.safetensors"
    bad.write_bytes(pickle.dumps({"class": "Screener", "payload": _Payload()}))
    for loader in (Screener.load, load_model):
        with pytest.raises(ValueError, match="refusing to load"):
            loader(bad)
    assert not marker.exists()


def test_compile_failure_falls_back_to_the_same_scores(screener, monkeypatch):
    """compile=True on a machine where torch.compile breaks: a warning, identical scores."""
    import torch

    s, _ = screener

    def broken(*args, **kwargs):
        raise RuntimeError("no C++ compiler here")

    monkeypatch.setattr(torch, "compile", broken)
    fast = Screener(s.model, maximize=s.maximize, compile=True)
    with pytest.warns(UserWarning, match="torch.compile unavailable"):
        got = fast.score(POOL, progress=False).mean
    np.testing.assert_allclose(got, s.score(POOL, progress=False).mean, rtol=1e-5, atol=1e-6)
