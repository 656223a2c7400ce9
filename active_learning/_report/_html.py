"""``scout report``: the plots a scientist wants after a campaign, and one HTML page with them.

- ``parity_round_NNN.png``: the teacher's prediction at selection time (mean ± std, made
  before the simulation ran) against the simulated value, for each round's batch;
- ``learning_curve.png``: RMSE of those predictions against the number of training points
  (an honest held-out error: every point was unseen when it was predicted);
- ``best_so_far.png``: the best simulated value against the number of evaluations;
- ``time_split.png``: seconds per round spent in train / compress / screen / select;
- ``topk_recall.png`` (lookup simulators, whose table knows the truth): the fraction of the
  true top-k found after each round;
- ``dose_response.png`` (when the simulator returns ``response`` curves): the curves of the
  best candidates on the dose grid (µM);
- ``fidelity_parity.png`` (multi-fidelity campaigns): the cheap judge's value against the
  expensive simulator's, for every candidate that has both.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .._acquisition._functions import to_maximization_values
from .._ledger._ledger import Record
from .._ledger._session import Session
from ._status import summarize

__all__ = ["write_report"]


def _save(fig: Any, out: Path, name: str, made: list[str]) -> None:
    fig.tight_layout()
    fig.savefig(out / name, dpi=110)
    plt.close(fig)
    made.append(name)


def _parity(summary: dict[str, Any], plans: list[dict[str, Any]],
            records: dict[int, Record], out: Path, made: list[str]) -> list[tuple[int, float]]:
    """One parity plot per round ≥ 1; returns (n_train, rmse) per round for the curve."""
    curve = []
    for plan in plans:
        if not plan["mean"]:
            continue
        pairs = [(m, s, records[i].value) for i, m, s in
                 zip(plan["batch"], plan["mean"], plan["std"])
                 if i in records and records[i].state == "COMPLETE"]
        if not pairs:
            continue
        m, s, y = (np.array(v, dtype=float) for v in zip(*pairs))
        rmse = float(np.sqrt(np.mean((m - y) ** 2)))
        curve.append((int(plan["n_train"]), rmse))
        fig, ax = plt.subplots(figsize=(4.2, 4.0))
        ax.errorbar(y, m, yerr=s, fmt="o", ms=4, alpha=0.8, capsize=2)
        lo, hi = float(min(y.min(), m.min())), float(max(y.max(), m.max()))
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax.set_xlabel(f"simulated {summary['objective']}")
        ax.set_ylabel("teacher prediction (mean ± std)")
        ax.set_title(f"round {plan['round']}: RMSE {rmse:.3g}, n_train {plan['n_train']}")
        _save(fig, out, f"parity_round_{plan['round']:03d}.png", made)
    return curve


def _best_so_far(summary: dict[str, Any], session: Session, out: Path, made: list[str]) -> None:
    camp = session.config.campaign
    done = [t for t in session.ledger.trials() if t.state.name == "COMPLETE"]
    if not done:
        return
    done.sort(key=lambda t: (t.datetime_complete or t.datetime_start, t.number))
    y = np.array([t.value for t in done], dtype=float)
    score = to_maximization_values(y, camp.direction, camp.target)
    best_idx = np.array([int(np.argmax(score[:i + 1])) for i in range(len(y))])
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot(np.arange(1, len(y) + 1), y, ".", alpha=0.4, label="each simulation")
    ax.step(np.arange(1, len(y) + 1), y[best_idx], where="post", label="best so far")
    ax.set_xlabel("evaluations")
    ax.set_ylabel(summary["objective"])
    ax.legend()
    _save(fig, out, "best_so_far.png", made)


def _learning_curve(curve: list[tuple[int, float]], out: Path, made: list[str]) -> None:
    if not curve:
        return
    n, e = zip(*curve)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot(n, e, "o-")
    ax.set_xlabel("training points (completed simulations)")
    ax.set_ylabel("RMSE on the next batch (before simulating it)")
    _save(fig, out, "learning_curve.png", made)


def _time_split(plans: list[dict[str, Any]], out: Path, made: list[str]) -> None:
    keys = [k for k in ("train", "compress", "screen", "prescreen", "select")
            if any(k in p["times"] for p in plans)]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    bottom = np.zeros(len(plans))
    for k in keys:
        v = np.array([p["times"].get(k, 0.0) for p in plans])
        ax.bar([p["round"] for p in plans], v, bottom=bottom, label=k)
        bottom += v
    ax.set_xlabel("round")
    ax.set_ylabel("seconds")
    ax.legend()
    _save(fig, out, "time_split.png", made)


def _topk_recall(session: Session, plans: list[dict[str, Any]], records: dict[int, Record],
                 out: Path, made: list[str]) -> dict[str, float] | None:
    """Only for a simulator that knows every answer (``truth()``, a lookup table): the truth
    scores what the campaign found."""
    cfg = session.config
    if session.pool is None or not cfg.simulator.simulator_class.has_truth:
        return None
    table = (cfg.simulator.build().truth() or {}).get(cfg.campaign.objective)
    if not table:
        return None
    ids = list(session.pool.ids)
    truth = np.array([table.get(str(i), math.nan) for i in ids], dtype=float)
    ok = np.flatnonzero(np.isfinite(truth))
    k = min(cfg.campaign.top_k, ok.size)
    score = to_maximization_values(truth[ok], cfg.campaign.direction, cfg.campaign.target)
    true_top = set(ok[np.argsort(-score, kind="stable")[:k]].tolist())
    found = []
    for plan in plans:
        seen = {i for i, r in records.items() if r.state == "COMPLETE" and r.round <= plan["round"]}
        found.append(len(seen & true_top) / max(k, 1))
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot([p["round"] for p in plans], found, "o-")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("round")
    ax.set_ylabel(f"fraction of the true top-{k} found")
    _save(fig, out, "topk_recall.png", made)
    return {"k": k, "final": found[-1] if found else 0.0}


def _dose_response(summary: dict[str, Any], session: Session, records: dict[int, Record],
                   out: Path, made: list[str]) -> None:
    best = [records[t["index"]] for t in summary["top"][:6]]
    curves = [r for r in best if "response" in r.values]
    if not curves:
        return
    doses = curves[0].values.get("doses")
    if doses is None:
        doses = session.config.simulator.build().doses
    if doses is None:
        return
    doses = np.asarray(doses, dtype=float)
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    for r in curves:
        ax.plot(np.maximum(doses, 1e-3), np.asarray(r.values["response"], dtype=float), "o-",
                ms=3, label=f"{r.candidate_id} ({r.value:.3g})")
    ax.set_xscale("log")
    ax.set_xlabel("dose (µM)")
    ax.set_ylabel("response")
    ax.legend(fontsize=7)
    _save(fig, out, "dose_response.png", made)


def _fidelity_parity(summary: dict[str, Any], session: Session, records: dict[int, Record],
                     out: Path, made: list[str]) -> None:
    if session.config.fidelity is None:
        return
    cheap = session.cheap.records()
    pairs = [(cheap[i].value, r.value) for i, r in records.items()
             if r.state == "COMPLETE" and i in cheap and cheap[i].ok]
    if not pairs:
        return
    c, y = (np.array(v, dtype=float) for v in zip(*pairs))
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    ax.plot(c, y, "o", ms=4, alpha=0.8)
    lo, hi = float(min(c.min(), y.min())), float(max(c.max(), y.max()))
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set_xlabel(f"cheap judge ({session.config.fidelity.simulator.kind})")
    ax.set_ylabel(f"simulated {summary['objective']} ({session.config.simulator.kind})")
    ax.set_title(f"{len(c)} candidates with both values")
    _save(fig, out, "fidelity_parity.png", made)


def write_report(session: Session, out: str | os.PathLike) -> Path:
    """Draw every plot that applies into ``out`` and write ``out/index.html``; returns it."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(session)
    if summary["evaluations"] == 0:
        raise ValueError(f"campaign {summary['name']!r} has no completed simulations to report")
    attrs = session.ledger.attrs()
    plans = [attrs[f"round:{r['round']:03d}"] for r in summary["round_log"]]
    records = session.ledger.records()
    made: list[str] = []
    curve = _parity(summary, plans, records, out, made)
    _learning_curve(curve, out, made)
    _best_so_far(summary, session, out, made)
    _time_split(plans, out, made)
    recall = _topk_recall(session, plans, records, out, made)
    _dose_response(summary, session, records, out, made)
    _fidelity_parity(summary, session, records, out, made)
    return _write_html(summary, made, recall, out)


def _write_html(summary: dict[str, Any], made: list[str], recall: dict[str, float] | None,
                out: Path) -> Path:
    e = html.escape
    rows = "".join(f"<tr><td>{i}</td><td>{e(str(t['id']))}</td><td>{t['value']:.6g}</td>"
                   f"<td>{t['round']}</td></tr>" for i, t in enumerate(summary["top"], 1))
    imgs = "".join(f'<figure><img src="{e(name)}"><figcaption>{e(name)}</figcaption></figure>'
                   for name in made)
    extra = "" if recall is None else \
        f"<p>top-{recall['k']} recall after the last round: {recall['final']:.0%}</p>"
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>scout report: {e(summary['name'])}</title>
<style>body{{font-family:sans-serif;margin:2em}} figure{{display:inline-block;margin:0.5em}}
img{{max-width:480px}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:3px 8px}}</style>
</head><body><h1>{e(summary['name'])}</h1>
<p>{summary['evaluations']} evaluations, {summary['failed']} failed, {summary['rounds']} rounds;
objective {e(summary['objective'])} ({e(str(summary['direction'] or summary['target']))});
{e(str(summary['stop_reason'] or 'in progress'))}</p>{extra}
<h2>top candidates</h2><table><tr><th>rank</th><th>id</th><th>{e(summary['objective'])}</th>
<th>round</th></tr>{rows}</table><h2>plots</h2>{imgs}</body></html>
"""
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
